"""The ``futu:`` config section."""

from __future__ import annotations

import pytest

from wsbridge import config as server_config
from wsbridge.adapters.futu.config import parse, password_md5
from wsbridge.config import ConfigError


def test_defaults():
    settings = parse({})
    assert (settings.host, settings.port, settings.trd_env, settings.trd_market) == (
        "127.0.0.1", 11111, "SIMULATE", "HK")
    assert settings.currency == "HKD" and settings.unlock_md5 is None and not settings.users


def test_plain_password_is_kept_only_as_its_md5():
    settings = parse({"unlock_password": "123456", "users": {"alice": 7}})
    assert settings.unlock_md5 == "e10adc3949ba59abbe56e057f20f883e" == password_md5("123456")
    assert settings.users == {"alice": "7"}
    shown = repr(settings)
    assert "123456" not in shown and settings.unlock_md5 not in shown and "alice" not in shown
    assert "unlock=set" in shown


def test_md5_password():
    settings = parse({"unlock_password_md5": "E10ADC3949BA59ABBE56E057F20F883E"})
    assert settings.unlock_md5 == "e10adc3949ba59abbe56e057f20f883e"


@pytest.mark.parametrize(("section", "message"), [
    ({"port": 0}, "futu.port: must be 1..65535"),
    ({"trd_env": "PAPER"}, "futu.trd_env: must be one of"),
    ({"trd_market": "JP"}, "futu.trd_market: must be one of"),
    ({"unlock_password": "a", "unlock_password_md5": "0" * 32}, "not both"),
    ({"unlock_password_md5": "xyz"}, "32 hexadecimal digits"),
    ({"unlock_password": ""}, "must not be empty"),
    ({"trd_env": "REAL", "users": {"a": "b"}}, "futu.unlock_password: required"),
    ({"trd_env": "REAL", "unlock_password": "x"}, "futu.users: required"),
    ({"currency": "EUR"}, "futu.currency: must be one of"),
    ({"markets": ["HK", "JP"]}, "futu.markets[1]"),
    ({"reconnect_delay": 60}, "futu.reconnect_delay"),
    ({"users": {"alice": ["x"]}}, "futu.users.alice"),
    ({"passwd": "x"}, "futu.passwd: unknown key"),
])
def test_bad_sections_name_the_key(section, message):
    with pytest.raises(ConfigError) as caught:
        parse(section)
    assert message in str(caught.value)


def test_server_config_hands_the_section_over():
    config = server_config.parse({"backend": "futu", "futu": {"port": 11112}}, app_type="td")
    assert config.backend == "futu" and config.backend_settings == {"port": 11112}
    assert parse(config.backend_settings, "futu").port == 11112


def test_cny_is_futus_cnh():
    assert parse({"currency": "cny"}).currency == "CNH"
    assert parse({"trd_market": "CN"}).currency == "CNH"
