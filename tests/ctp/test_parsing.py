"""openctp struct <-> dict, every field of every struct, GB18030 on the C side."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openctp_ctp import mdapi, tdapi

from tests.ctp.samples import sample
from wsbridge.adapters.ctp.parsing import FieldError, decode, encode, to_dict, to_struct
from wsbridge.adapters.ctp.parsing.layout import Layout, layout_of
from wsbridge.adapters.ctp.parsing.structs import _fill_slow, _to_dict_slow
from wsbridge.protocol import catalog

STRUCTS = sorted(catalog.structs_schema()["$defs"])


def openctp_class(module, struct: str) -> type:
    return getattr(module, f"CThostFtdc{struct}Field")


# --- text ----------------------------------------------------------------------------------

def test_decode_reads_gb18030_up_to_the_nul() -> None:
    assert decode("CTP:不合法的登录".encode("gb18030") + b"\0junk") == "CTP:不合法的登录"
    assert decode(b"rb2701\0\0\0") == "rb2701"
    assert decode(b"") == ""


def test_decode_keeps_the_field_when_bytes_are_bad() -> None:
    cut = "平仓量超过".encode("gb18030")[:-1]  # CTP cut the message mid-character
    assert decode(cut) == "平仓量超\ufffd"
    assert decode(b"ab\xff\xfecd").startswith("ab")


def test_encode_counts_bytes_not_characters() -> None:
    assert encode("F", "中文", 4) == "中文".encode("gb18030")
    with pytest.raises(FieldError, match="F: 6 bytes in GB18030, the field holds 4"):
        encode("F", "中文字", 4)
    with pytest.raises(FieldError, match="NUL"):
        encode("F", "a\0b", 10)
    with pytest.raises(FieldError, match="expected text"):
        encode("F", 12, 10)  # type: ignore[arg-type]


def test_truncation_cuts_at_a_character_boundary() -> None:
    assert encode("F", "中文字", 5, truncate=True) == "中文".encode("gb18030")
    assert encode("F", "a😀b", 4, truncate=True) == "a".encode("gb18030")  # 😀 is 4 bytes
    assert encode("F", "abcdef", 3, truncate=True) == b"abc"


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               max_size=40))
def test_any_text_that_fits_survives_the_round_trip(text: str) -> None:
    raw = text.encode("gb18030")
    if len(raw) > 80:
        with pytest.raises(FieldError):
            to_struct(tdapi.CThostFtdcRspInfoField, {"ErrorMsg": text})
        return
    obj = to_struct(tdapi.CThostFtdcRspInfoField, {"ErrorMsg": text})
    assert to_dict(obj)["ErrorMsg"] == text


# --- structs -------------------------------------------------------------------------------

@pytest.mark.parametrize("struct", STRUCTS)
def test_every_field_of_every_struct_round_trips(struct: str) -> None:
    values = sample(struct)
    for module in (tdapi, mdapi):
        cls = getattr(module, f"CThostFtdc{struct}Field", None)
        if cls is None:
            continue
        assert layout_of(cls).packer is not None, "layout not verified against openctp"
        obj = to_struct(cls, values)
        assert to_dict(obj) == values
        for name, value in values.items():
            if isinstance(value, str) and value and not name.startswith("reserve"):
                # openctp's own getter decodes GB18030: the bytes in memory are GB18030.
                # (It hands SettlementInfo.Content over undecoded, as bytes.)
                got = getattr(obj, name)
                if isinstance(got, bytes):
                    got = got.decode("gb18030")
                assert got == value, name


def test_openctps_setter_stores_utf8_which_is_why_the_bridge_does_not_use_it() -> None:
    obj = tdapi.CThostFtdcInstrumentField()
    obj.InstrumentName = "中文"
    assert obj.InstrumentName != "中文"  # UTF-8 bytes read back as GB18030: mojibake
    assert to_dict(obj)["InstrumentName"] != "中文"
    obj = to_struct(tdapi.CThostFtdcInstrumentField, {"InstrumentName": "中文"})
    assert obj.InstrumentName == "中文" and to_dict(obj)["InstrumentName"] == "中文"


def test_unset_fields_are_zero_and_null_is_none() -> None:
    order = to_dict(to_struct(tdapi.CThostFtdcInputOrderField, {"InstrumentID": "rb2701"}))
    assert order["InstrumentID"] == "rb2701"
    assert order["LimitPrice"] == 0.0 and order["VolumeTotalOriginal"] == 0
    assert order["Direction"] == "" and order["OrderRef"] == ""
    assert to_dict(None) is None


@pytest.mark.parametrize(("values", "problem"), [
    ({"Nonsense": 1}, "Nonsense: not a field of CThostFtdcInputOrderField"),
    ({"VolumeTotalOriginal": "3"}, "VolumeTotalOriginal: expected a number"),
    ({"VolumeTotalOriginal": True}, "VolumeTotalOriginal: expected a number"),
    ({"VolumeTotalOriginal": 1.5}, "VolumeTotalOriginal: expected an integer"),
    ({"VolumeTotalOriginal": 2**31}, "VolumeTotalOriginal: .* out of range"),
    ({"Direction": "01"}, "Direction: 2 bytes"),
    ({"Direction": "买"}, "Direction: 2 bytes"),
    ({"InstrumentID": "x" * 81}, "InstrumentID: 81 bytes"),
])
def test_values_that_do_not_fit_name_their_field(values: dict, problem: str) -> None:
    with pytest.raises(FieldError, match=problem):
        to_struct(tdapi.CThostFtdcInputOrderField, values)


def test_integral_floats_and_short_fields() -> None:
    obj = to_struct(tdapi.CThostFtdcInputOrderField, {"VolumeTotalOriginal": 3.0})
    assert to_dict(obj)["VolumeTotalOriginal"] == 3
    notice = tdapi.CThostFtdcTradingNoticeField  # SequenceSeries is a C short
    assert to_dict(to_struct(notice, {"SequenceSeries": -7}))["SequenceSeries"] == -7
    with pytest.raises(FieldError, match="SequenceSeries: 40000 is out of range"):
        to_struct(notice, {"SequenceSeries": 40000})


def test_the_accessor_fallback_converts_too() -> None:
    """What a differently built openctp gets: openctp's own getters and setters."""
    cls = tdapi.CThostFtdcInstrumentField
    layout = layout_of(cls)
    slow = Layout(layout.struct, layout.slots, None)
    obj = cls()
    _fill_slow(obj, slow, [b"rb2701" if s.name == "InstrumentID" else
                           (0 if s.kind == "int" else 0.0 if s.kind == "float" else b"")
                           for s in slow.slots])
    values = _to_dict_slow(obj, slow)
    assert values["InstrumentID"] == "rb2701" and values["VolumeMultiple"] == 0
