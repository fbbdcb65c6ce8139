"""The ``sim`` back end: the embedded simulated exchange, no account or network needed."""

from wsbridge.adapters.sim.adapter import SimAdapter
from wsbridge.adapters.sim.config import SimSettings, parse_settings

__all__ = ["SimAdapter", "SimSettings", "parse_settings"]
