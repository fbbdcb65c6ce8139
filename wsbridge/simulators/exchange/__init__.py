"""The embedded simulated exchange: a small exchange that speaks CTP field dicts.

Pure Python, no I/O but its SQLite journal. The ``sim`` back end serves it directly; the
TWS and OpenD protocol simulators drive the same engine and translate. The API::

    ex = Exchange(settings=SimSettings(), journal_path=None, clock=time.time)
    ex.instruments                      # {InstrumentID: Instrument}; .fields is the CTP dict
    ex.depth(instrument_id, now=None)   # full DepthMarketData dict (CtpError 16 if unknown)
    session = ex.login(broker_id, user_id, password, now=None)
        # new UserID: an account with settings.initial_funds (per currency) and that
        # password; known UserID: CtpError(3) on a wrong password
    session.rsp_user_login()            # the RspUserLogin dict
    ex.update_password(session, old, new)            # CtpError(14) if old is wrong
    ex.query(session, msg_type, body, now=None)      # ReqQry* etc. -> list of row dicts
    ex.insert_order(session, input_order, now=None)  # -> [Event]; raises OrderRejected
    ex.cancel_order(session, input_action, now=None) # -> [Event]; raises OrderRejected
    ex.advance(now=None)                # -> [Event]: resting orders fill, the day rolls
    ex.close()

An :class:`Event` is ``(account, msg_type, body_key, body, rsp_info)``, e.g.
``("9999:alice", "RtnOrder", "Order", {...}, None)``; deliver it to every session of
``account``. :class:`OrderRejected` is a CtpError whose ``body`` is the InputOrder /
InputOrderAction to answer with and whose ``events`` are the ErrRtnOrderInsert /
ErrRtnOrderAction pushes.

Time: ``now`` is epoch seconds (default: the clock). The market is a pure function of
(seed, instrument, bucket) with ``bucket = epoch_ms // tick_interval_ms``, so separate
processes with the same seed show the same prices. The trading day is the local date
(``utc_offset_minutes`` fixes the zone); the sim trades around the clock.
"""

from wsbridge.simulators.exchange import ctp
from wsbridge.simulators.exchange.engine import Event, Exchange, OrderRejected, Session
from wsbridge.simulators.exchange.instruments import Instrument
from wsbridge.simulators.exchange.settings import ProductSpec, SimSettings

__all__ = [
    "Event",
    "Exchange",
    "Instrument",
    "OrderRejected",
    "ProductSpec",
    "Session",
    "SimSettings",
    "ctp",
]
