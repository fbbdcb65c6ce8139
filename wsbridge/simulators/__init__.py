"""Simulators: the embedded exchange and the protocol simulators built on it."""
