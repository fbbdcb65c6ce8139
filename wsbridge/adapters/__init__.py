"""Back ends: one folder each, all speaking the interface in :mod:`wsbridge.adapters.base`."""

from wsbridge.adapters.base import Adapter, Login, Reply, Request, Sink, ThreadBridge, load_adapter

__all__ = ["Adapter", "Login", "Reply", "Request", "Sink", "ThreadBridge", "load_adapter"]
