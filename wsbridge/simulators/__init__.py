"""Simulators: the embedded exchange, and (later) protocol simulators built on it.

:mod:`wsbridge.simulators.exchange` is a small exchange that speaks CTP field dicts; the
``sim`` back end serves it directly, and the TWS / OpenD protocol simulators translate to it.
"""
