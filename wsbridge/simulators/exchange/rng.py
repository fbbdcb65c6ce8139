"""Counter-based randomness: the same key always gives the same numbers, in any process.

Built on SHAKE-256 so no generator state is kept and Python's salted ``hash()`` is never
involved; md and td processes derive identical markets from the same seed.
"""

from __future__ import annotations

import hashlib
import sys
from array import array

_SCALE = 1.0 / 4294967296.0  # 2**-32
_SQRT3 = 3.0**0.5


def _digest(key: tuple, nbytes: int) -> bytes:
    return hashlib.shake_256("|".join(map(str, key)).encode()).digest(nbytes)


def words(n: int, *key: object) -> array:
    """``n`` unsigned 32-bit integers for ``key``."""
    out = array("I")
    out.frombytes(_digest(key, 4 * n))
    if sys.byteorder == "big":
        out.byteswap()
    return out


def uniforms(n: int, *key: object) -> list[float]:
    """``n`` floats uniform on [0, 1) for ``key``."""
    return [w * _SCALE for w in words(n, *key)]


def steps(n: int, *key: object) -> list[float]:
    """``n`` zero-mean, unit-variance increments (uniform on [-sqrt 3, sqrt 3)) for ``key``."""
    k = 2.0 * _SQRT3 * _SCALE
    return [w * k - _SQRT3 for w in words(n, *key)]


def steps_sum(w: array) -> float:
    """The sum of :func:`steps` made from the words ``w``, at C speed."""
    return sum(w) * 2.0 * _SQRT3 * _SCALE - len(w) * _SQRT3


def word_to_step(w: int) -> float:
    """One of :func:`steps`' increments from one word."""
    return w * _STEP - _SQRT3


_STEP = 2.0 * _SQRT3 * _SCALE


def small(n: int, *key: object) -> array:
    """``n`` unsigned 16-bit integers for ``key`` (cheap per-bucket choices)."""
    out = array("H")
    out.frombytes(hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=2 * n).digest())
    if sys.byteorder == "big":
        out.byteswap()
    return out
