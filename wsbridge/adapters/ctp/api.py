"""The Req* side, generated from the protocol catalog: every request of openctp's
CThostFtdcTraderApi / CThostFtdcMdApi, how the bridge sends it, and the API objects.

protocols/index.json lists each request with its body struct and response; the table here
pairs it with openctp's struct class and checks that the API class has the method, so a
request the catalog knows is a request the back end can send, with no per-request code.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from wsbridge.adapters.ctp.config import CtpSettings
from wsbridge.protocol import catalog, errors

QUERY_PREFIXES = ("ReqQry", "ReqQuery")
# Requests that act on the upstream session itself, which the bridge owns and shares.
SESSION_REQUESTS = frozenset({
    "ReqUserLogin", "ReqUserLogout", "ReqAuthenticate",
    "ReqUserLoginWithCaptcha", "ReqUserLoginWithText", "ReqUserLoginWithOTP",
})
# Return codes of a Req* call (CTP's, not ErrorIDs): the bridge answers with webctp's.
RETURN_CODES = {
    -1: (errors.REQUEST_FAILED, "CTP: network failure sending the request"),
    -2: (errors.TOO_MANY_OUTSTANDING, "CTP: too many unanswered requests"),
    -3: (errors.TOO_MANY_PER_SECOND, "CTP: too many requests per second"),
}


@dataclass(frozen=True, slots=True)
class Call:
    """How one request is sent upstream."""

    msg_type: str  # also the API method's name
    struct: str | None  # the body's catalog name ("InputOrder")
    struct_cls: type | None  # openctp's body class; None for instrument-list requests
    response: str  # the callback answering it, without "On"
    paced: bool  # a query: subject to CTP's ~1/s flow control
    ref_field: str | None = None  # an insert's *Ref the bridge allocates when left empty


def request_table(app: str, api_cls: type, module: ModuleType) -> dict[str, Call]:
    """Every request of ``app`` ("td" or "md"), checked against openctp's API class."""
    table = {}
    for name in catalog.requests(app):
        spec = catalog.message(app, name)
        assert spec is not None
        if not hasattr(api_cls, name):
            raise LookupError(f"{api_cls.__name__} has no {name}: protocols/ and openctp differ")
        struct_cls = getattr(module, f"CThostFtdc{spec.struct}Field") if spec.struct else None
        table[name] = Call(name, spec.struct, struct_cls, spec.responses[0],
                           name.startswith(QUERY_PREFIXES), _ref_field(name, spec.struct))
    declared = {n for n in vars(api_cls)
                if n.startswith("Req") or (n.startswith(("Subscribe", "UnSubscribe"))
                and not n.endswith("Topic"))}
    missing = declared - table.keys()
    if missing:
        raise LookupError(f"requests missing from protocols/: {', '.join(sorted(missing))}")
    return table


def _ref_field(msg_type: str, struct: str | None) -> str | None:
    """ReqOrderInsert -> "OrderRef": the first text *Ref field of an insert's struct."""
    if struct is None or not msg_type.endswith("Insert"):
        return None
    for spec in catalog.fields(struct).values():
        if spec.name.endswith("Ref") and spec.kind == "string":
            return spec.name
    return None


def return_code_error(code: int) -> errors.CtpError:
    error_id, text = RETURN_CODES.get(code, (errors.REQUEST_FAILED, f"CTP: returned {code}"))
    return errors.CtpError(error_id, f"{errors.message(error_id)} ({text})")


def openctp(app: str) -> tuple[ModuleType, type, type]:
    """openctp's module, API class and SPI class for an app."""
    from openctp_ctp import mdapi, tdapi

    if app == "td":
        return tdapi, tdapi.CThostFtdcTraderApi, tdapi.CThostFtdcTraderSpi
    return mdapi, mdapi.CThostFtdcMdApi, mdapi.CThostFtdcMdSpi


def create_api(app: str, settings: CtpSettings, name: str) -> Any:
    """A new CThostFtdcTraderApi / CThostFtdcMdApi, or the stand-in's for ``sim://``."""
    if settings.simulated(app):
        from wsbridge.simulators.ctp import create_api as create_sim_api

        return create_sim_api(app, settings.sim)
    _, api_cls, _ = openctp(app)
    flow = str(settings.flow_dir(app, name)) + "/"
    if app == "td":
        return api_cls.CreateFtdcTraderApi(flow, settings.production_mode)
    return api_cls.CreateFtdcMdApi(flow, False, False, settings.production_mode)
