"""A small asyncio client for wsbridge (and any webctp-compatible server).

    async with await Client.connect("ws://127.0.0.1:8081/") as td:
        await td.login("alice", "secret")
        accounts = await td.query("ReqQryTradingAccount")
        await td.send("ReqOrderInsert", {"InstrumentID": "rb2701", ...})
        async for msg in td.pushes():          # RtnOrder, RtnTrade, RtnDepthMarketData ...
            print(msg["MsgType"])

Responses are matched to requests by RequestID; a request returns every row up to the
one with ``IsLast``. Anything that is not the answer to a pending request (pushes, and
answers to requests sent with :meth:`Client.send`) is queued for :meth:`Client.pushes`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect


class ClientError(Exception):
    """The server answered with a non-zero ErrorID."""

    def __init__(self, msg: dict) -> None:
        info = msg.get("RspInfo") or {}
        self.error_id: int = info.get("ErrorID", 0)
        self.error_msg: str = info.get("ErrorMsg", "")
        self.detail: str | None = msg.get("Detail")
        self.message = msg
        super().__init__(f"{msg.get('MsgType')}: [{self.error_id}] {self.error_msg}")


def body_of(msg: dict) -> Any:
    """The body of a response or push: the value that is not envelope."""
    for key, value in msg.items():
        if key not in ("MsgType", "RspInfo", "RequestID", "IsLast", "Detail"):
            return value
    return None


def error_of(msg: dict) -> int:
    return (msg.get("RspInfo") or {}).get("ErrorID", 0)


class Client:
    """One websocket connection to an md or td server."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, tuple[asyncio.Queue, list[dict]]] = {}
        self._pushes: asyncio.Queue[dict] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def connect(cls, url: str, token: str | None = None, **kwargs: Any) -> Client:
        """Open a connection; ``token`` is sent as ``Authorization: Bearer``."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        ws = await connect(url, additional_headers=headers, max_size=None, **kwargs)
        return cls(ws)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = orjson.loads(raw)
                request_id = msg.get("RequestID")
                waiter = self._waiting.get(request_id) if "IsLast" in msg else None
                if waiter is not None:
                    waiter[0].put_nowait(msg)
                else:
                    self._pushes.put_nowait(msg)
        except Exception:  # connection gone: wake every waiter
            pass
        finally:
            self.closed.set()
            for queue, _ in self._waiting.values():
                queue.put_nowait(None)
            self._pushes.put_nowait(None)

    # --- requests ------------------------------------------------------------------------

    async def send(self, msg_type: str, body: dict | None = None, *,
                   body_key: str | None = None, request_id: int | None = None,
                   **extra: Any) -> int:
        """Send a request without waiting; returns its RequestID."""
        request_id = next(self._ids) if request_id is None else request_id
        msg: dict[str, Any] = {"MsgType": msg_type, "RequestID": request_id}
        if body is not None:
            msg[body_key or default_body_key(msg_type)] = body
        msg.update(extra)
        await self.ws.send(orjson.dumps(msg).decode())
        return request_id

    async def call(self, msg_type: str, body: dict | None = None, *,
                   timeout: float = 10.0, **kwargs: Any) -> list[dict]:
        """Send a request and return every response message up to IsLast."""
        request_id = next(self._ids)
        queue: asyncio.Queue = asyncio.Queue()
        rows: list[dict] = []
        self._waiting[request_id] = (queue, rows)
        try:
            await self.send(msg_type, body, request_id=request_id, **kwargs)
            async with asyncio.timeout(timeout):
                while True:
                    msg = await queue.get()
                    if msg is None:
                        raise ConnectionError("connection closed while waiting")
                    rows.append(msg)
                    if msg.get("IsLast", True):
                        return rows
        finally:
            del self._waiting[request_id]

    async def query(self, msg_type: str, body: dict | None = None, **kwargs: Any) -> list:
        """Send a request; return the non-null bodies, raising ClientError on an error."""
        messages = await self.call(msg_type, body, **kwargs)
        for msg in messages:
            if error_of(msg):
                raise ClientError(msg)
        return [b for b in map(body_of, messages) if b is not None]

    async def login(self, user_id: str = "", password: str = "", **fields: Any) -> dict:
        """ReqUserLogin; returns the RspUserLogin body or raises ClientError."""
        rows = await self.query("ReqUserLogin",
                                {"UserID": user_id, "Password": password, **fields})
        return rows[0] if rows else {}

    async def subscribe(self, instrument_ids: list[str]) -> list[dict]:
        """SubscribeMarketData; returns the RspSubMarketData messages (one per instrument)."""
        return await self.call("SubscribeMarketData", InstrumentID=list(instrument_ids))

    async def unsubscribe(self, instrument_ids: list[str]) -> list[dict]:
        return await self.call("UnSubscribeMarketData", InstrumentID=list(instrument_ids))

    # --- pushes --------------------------------------------------------------------------

    async def pushes(self) -> AsyncIterator[dict]:
        """Every message that was not the answer to a pending request, in order."""
        while True:
            msg = await self._pushes.get()
            if msg is None:
                self._pushes.put_nowait(None)
                return
            yield msg

    async def next_push(self, msg_type: str | tuple[str, ...] | None = None,
                        where: Callable[[dict], bool] | None = None,
                        timeout: float = 10.0) -> dict:
        """Wait for the next push of a type (and matching ``where``), skipping the others."""
        types = (msg_type,) if isinstance(msg_type, str) else msg_type
        async with asyncio.timeout(timeout):
            async for msg in self.pushes():
                if (types is None or msg["MsgType"] in types) and (where is None or where(msg)):
                    return msg
        raise ConnectionError("connection closed while waiting for a push")


def default_body_key(msg_type: str) -> str:
    """webctp's body key for a request: the CTP struct's name (mostly Req minus 'Req')."""
    from wsbridge.protocol import catalog

    for app in ("td", "md"):
        spec = catalog.message(app, msg_type)
        if spec is not None and spec.body:
            return spec.body
    return msg_type.removeprefix("Req")
