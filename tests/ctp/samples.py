"""Deterministic sample values for every field of a CTP struct (tests only)."""

from __future__ import annotations

from wsbridge.protocol import catalog

TEXT = "螺纹钢rb2701测试"


def sample(struct: str, seed: int = 0) -> dict:
    """A value in every field: Chinese text where it fits, distinct numbers, enum chars."""
    out: dict = {}
    for i, spec in enumerate(catalog.fields(struct).values()):
        n = seed + i
        if spec.kind == "int":
            out[spec.name] = (n * 7919) % 30000 - 15000
        elif spec.kind == "float":
            out[spec.name] = n * 1.25 - 3.5
        elif spec.kind == "char":
            out[spec.name] = "0123456789ab"[n % 12]
        else:
            text = f"{TEXT}{n}"
            while len(text.encode("gb18030")) > spec.max_len:
                text = text[:-1]
            out[spec.name] = text
    return out
