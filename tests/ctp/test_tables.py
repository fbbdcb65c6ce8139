"""The Req* and On* tables are generated, not written: they cover openctp's classes."""

from __future__ import annotations

import pytest
from openctp_ctp import mdapi, tdapi

from tests.ctp.samples import sample
from wsbridge.adapters.ctp.api import request_table
from wsbridge.adapters.ctp.parsing import to_struct
from wsbridge.adapters.ctp.spi import callback_specs, spi_class
from wsbridge.protocol import catalog
from wsbridge.simulators.ctp import SimMdApi, SimTraderApi

APPS = {"td": (tdapi, tdapi.CThostFtdcTraderApi, tdapi.CThostFtdcTraderSpi, SimTraderApi),
        "md": (mdapi, mdapi.CThostFtdcMdApi, mdapi.CThostFtdcMdSpi, SimMdApi)}


def declared(cls: type, prefixes: tuple[str, ...]) -> set[str]:
    return {n for n in vars(cls) if n.startswith(prefixes) and not n.endswith("Topic")}


@pytest.mark.parametrize("app", APPS)
def test_every_request_of_openctps_api_is_in_the_table(app: str) -> None:
    module, api_cls, _, stand_in = APPS[app]
    table = request_table(app, api_cls, module)
    requests = declared(api_cls, ("Req", "Subscribe", "UnSubscribe"))
    assert set(table) == requests
    assert len(requests) == {"td": 118, "md": 7}[app]
    assert requests <= set(dir(stand_in))  # the stand-in has every one too
    for call in table.values():
        assert call.paced == call.msg_type.startswith(("ReqQry", "ReqQuery"))


def test_inserts_know_the_ref_the_bridge_allocates() -> None:
    table = request_table("td", tdapi.CThostFtdcTraderApi, tdapi)
    refs = {name: call.ref_field for name, call in table.items() if call.ref_field}
    assert refs == {
        "ReqOrderInsert": "OrderRef", "ReqParkedOrderInsert": "OrderRef",
        "ReqExecOrderInsert": "ExecOrderRef", "ReqForQuoteInsert": "ForQuoteRef",
        "ReqQuoteInsert": "QuoteRef", "ReqOptionSelfCloseInsert": "OptionSelfCloseRef",
        "ReqCombActionInsert": "CombActionRef",
    }


@pytest.mark.parametrize("app", APPS)
def test_every_callback_of_openctps_spi_is_generated(app: str) -> None:
    _, _, spi_base, _ = APPS[app]
    cls = spi_class(app, spi_base)
    generated = {n for n in vars(cls) if n.startswith("On")}
    assert generated == declared(spi_base, ("On",))
    assert len(generated) == {"td": 164, "md": 13}[app]


@pytest.mark.parametrize("app", APPS)
def test_every_callback_converts_its_arguments(app: str) -> None:
    module, _, spi_base, _ = APPS[app]
    events = []
    spi = spi_class(app, spi_base)(events.append)
    info = to_struct(module.CThostFtdcRspInfoField, {"ErrorID": 31, "ErrorMsg": "CTP:资金不足"})
    for i, (name, spec) in enumerate(sorted(callback_specs(app).items())):
        args: list = []
        body = None
        if spec.struct:
            body = sample(spec.struct, seed=i)
            args.append(to_struct(getattr(module, f"CThostFtdc{spec.struct}Field"), body))
        if spec.rsp_info:
            args.append(info)
        if spec.kind == "response":
            args += [1000 + i, i % 2 == 0]
        args += [4096 + i for _ in spec.scalars]
        getattr(spi, "On" + name)(*args)
        event = events.pop()
        assert event.msg_type == name and event.body_key == spec.body
        assert event.body == body
        assert event.rsp_info == ({"ErrorID": 31, "ErrorMsg": "CTP:资金不足"}
                                  if spec.rsp_info else None)
        if spec.kind == "response":
            assert (event.request_id, event.is_last) == (1000 + i, i % 2 == 0)
        assert event.scalars == {key: 4096 + i for key in spec.scalars}
    assert not events


def test_a_failing_callback_never_raises_into_ctp(caplog) -> None:
    def broken(event):
        raise RuntimeError("boom")

    spi = spi_class("td", tdapi.CThostFtdcTraderSpi)(broken)
    spi.OnRtnOrder(tdapi.CThostFtdcOrderField())  # must not raise: it would abort CTP
    assert "OnRtnOrder failed" in caplog.text


def test_catalog_and_openctp_agree_on_body_structs() -> None:
    for app in APPS:
        module = APPS[app][0]
        for spec in catalog.messages(app).values():
            if spec.struct:
                assert hasattr(module, f"CThostFtdc{spec.struct}Field"), spec.msg_type


async def test_a_character_split_between_statement_rows_is_rejoined() -> None:
    """A front cuts SettlementInfo.Content at 500 bytes, inside a character if need be."""
    import asyncio

    from wsbridge.adapters.ctp.api import Call
    from wsbridge.adapters.ctp.upstream import Pending

    text = "结算" * 300  # 1200 GB18030 bytes: the cuts at 500 and 1000 fall mid-character
    raw = ("x" + text).encode("gb18030")
    chunks = [raw[i:i + 500] for i in range(0, len(raw), 500)]
    events = []
    spi = spi_class("td", tdapi.CThostFtdcTraderSpi)(events.append)
    for n, chunk in enumerate(chunks):
        struct = to_struct(tdapi.CThostFtdcSettlementInfoField,
                           {"SequenceNo": n + 1, "Content": chunk})
        spi.OnRspQrySettlementInfo(struct, None, 7, n == len(chunks) - 1)
    assert "\ufffd" in events[0].body["Content"]  # each row on its own is broken
    call = Call("ReqQrySettlementInfo", "QrySettlementInfo", None, "RspQrySettlementInfo", True)
    pending = Pending(call, asyncio.get_running_loop().create_future())
    for event in events:
        pending.add(event)
    reply = await pending.future
    assert "".join(row["Content"] for row in reply.rows) == "x" + text
