"""Prometheus metrics of one server process (served at /metrics)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _CallbackCounter:
    """A counter whose value is read from the server at scrape time."""

    def __init__(self, name: str, doc: str, read: Callable[[], float]) -> None:
        self._name, self._doc, self._read = name, doc, read

    def collect(self):
        yield CounterMetricFamily(self._name, self._doc, value=self._read())

    def describe(self):
        return []


class Metrics:
    """The counters a server keeps; one registry per process."""

    def __init__(self, app_type: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge("wsbridge_connections", "Open websocket connections",
                                 registry=r)
        self.connections_total = Counter("wsbridge_connections_opened",
                                         "Websocket connections accepted", registry=r)
        self.refused = Counter("wsbridge_connections_refused",
                               "Handshakes refused", ["reason"], registry=r)
        self.messages_in = Counter("wsbridge_messages_in", "Client messages by MsgType",
                                   ["msg_type"], registry=r)
        self.messages_out = Counter("wsbridge_messages_out", "Messages sent by MsgType",
                                    ["msg_type"], registry=r)
        self.errors = Counter("wsbridge_errors", "Error responses by ErrorID",
                              ["error_id"], registry=r)
        self.reconnects = Counter("wsbridge_backend_reconnects",
                                  "Times the back end link dropped", registry=r)
        self.latency = Histogram(
            "wsbridge_request_seconds", "Request to first response", ["msg_type"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                     5, 10),
            registry=r,
        )
        self.app_type = app_type
        self._out_children: dict[str, Counter] = {}

    def watch(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """Expose a counter the server computes on demand (e.g. conflated quotes)."""
        self.registry.register(_CallbackCounter(name, doc, read))

    def pushed(self, msg_type: str, count: int = 1) -> None:
        child = self._out_children.get(msg_type)
        if child is None:
            child = self._out_children[msg_type] = self.messages_out.labels(msg_type)
        child.inc(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)
