"""wsbridge: one WebSocket + JSON protocol (CTP's, webctp-compatible) for many trading back ends."""

__version__ = "0.1.0"
