"""The protocols sim-opend speaks: proto ids and futu-api's own protobuf classes.

The message classes come from futu-api's generated modules (``futu/common/pb``), so the
simulator and the client can never disagree about a field.
"""

from __future__ import annotations

import importlib
import signal
import threading
from types import ModuleType

INIT_CONNECT = 1001
GET_GLOBAL_STATE = 1002
NOTIFY = 1003
KEEP_ALIVE = 1004
TRD_GET_ACC_LIST = 2001
TRD_UNLOCK_TRADE = 2005
TRD_SUB_ACC_PUSH = 2008
TRD_GET_FUNDS = 2101
TRD_GET_POSITION_LIST = 2102
TRD_GET_MAX_TRD_QTYS = 2111
TRD_GET_ORDER_LIST = 2201
TRD_PLACE_ORDER = 2202
TRD_MODIFY_ORDER = 2205
TRD_UPDATE_ORDER = 2208
TRD_GET_ORDER_FILL_LIST = 2211
TRD_UPDATE_ORDER_FILL = 2218
QOT_SUB = 3001
QOT_REG_QOT_PUSH = 3002
QOT_GET_SUB_INFO = 3003
QOT_GET_BASIC_QOT = 3004
QOT_UPDATE_BASIC_QOT = 3005
QOT_GET_ORDER_BOOK = 3012
QOT_UPDATE_ORDER_BOOK = 3013
QOT_GET_STATIC_INFO = 3202
QOT_GET_SECURITY_SNAPSHOT = 3203
QOT_GET_MARKET_STATE = 3223

MODULES: dict[int, str] = {
    INIT_CONNECT: "InitConnect",
    GET_GLOBAL_STATE: "GetGlobalState",
    KEEP_ALIVE: "KeepAlive",
    TRD_GET_ACC_LIST: "Trd_GetAccList",
    TRD_UNLOCK_TRADE: "Trd_UnlockTrade",
    TRD_SUB_ACC_PUSH: "Trd_SubAccPush",
    TRD_GET_FUNDS: "Trd_GetFunds",
    TRD_GET_POSITION_LIST: "Trd_GetPositionList",
    TRD_GET_MAX_TRD_QTYS: "Trd_GetMaxTrdQtys",
    TRD_GET_ORDER_LIST: "Trd_GetOrderList",
    TRD_PLACE_ORDER: "Trd_PlaceOrder",
    TRD_MODIFY_ORDER: "Trd_ModifyOrder",
    TRD_UPDATE_ORDER: "Trd_UpdateOrder",
    TRD_GET_ORDER_FILL_LIST: "Trd_GetOrderFillList",
    TRD_UPDATE_ORDER_FILL: "Trd_UpdateOrderFill",
    QOT_SUB: "Qot_Sub",
    QOT_REG_QOT_PUSH: "Qot_RegQotPush",
    QOT_GET_SUB_INFO: "Qot_GetSubInfo",
    QOT_GET_BASIC_QOT: "Qot_GetBasicQot",
    QOT_UPDATE_BASIC_QOT: "Qot_UpdateBasicQot",
    QOT_GET_ORDER_BOOK: "Qot_GetOrderBook",
    QOT_UPDATE_ORDER_BOOK: "Qot_UpdateOrderBook",
    QOT_GET_STATIC_INFO: "Qot_GetStaticInfo",
    QOT_GET_SECURITY_SNAPSHOT: "Qot_GetSecuritySnapshot",
    QOT_GET_MARKET_STATE: "Qot_GetMarketState",
}

_lock = threading.Lock()
_loaded: dict[str, ModuleType] = {}


def import_futu() -> ModuleType:
    """``import futu``, undoing the SIGINT handler it installs (it calls os._exit)."""
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:  # not the main interpreter
        previous = None
    try:
        import futu
    except ImportError as exc:
        raise ImportError(
            f"sim-opend needs futu-api ({exc}): pip install 'wsbridge[futu]'") from None
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, previous)
    return futu


def pb(name: str) -> ModuleType:
    """futu-api's generated module ``<name>_pb2`` (e.g. ``pb("Trd_Common")``)."""
    with _lock:
        module = _loaded.get(name)
        if module is None:
            import_futu()
            module = importlib.import_module(f"futu.common.pb.{name}_pb2")
            _loaded[name] = module
        return module


def request_class(proto_id: int) -> type | None:
    """The Request message of a protocol, or None when the simulator does not serve it."""
    name = MODULES.get(proto_id)
    if name is None:
        return None
    return getattr(pb(name), "Request", None)


def response_class(proto_id: int) -> type:
    """The Response message of a protocol (every Response shares retType/retMsg/errCode)."""
    name = MODULES.get(proto_id, "KeepAlive")
    return pb(name).Response
