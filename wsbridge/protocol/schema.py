"""Validate requests against the JSON Schemas in protocols/.

The schemas use a small subset of JSON Schema 2020-12 (type, const, enum, pattern,
min/maxLength, minimum/maximum, items, minItems, properties, required,
additionalProperties, oneOf, $ref into structs.json). :func:`compile_schema` turns a
schema into a checker once, so validating a request is a handful of dict lookups; the
checker returns None or a one-line problem naming the offending field path.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

from wsbridge.protocol import catalog

Checker = Callable[[Any, str], "str | None"]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    # JSON Schema counts 1.0 as an integer; decode_request turns such values into ints.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and math.isfinite(v)),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
_NAMES = {"string": "text", "integer": "an integer", "number": "a number",
          "boolean": "true or false", "array": "an array", "object": "an object",
          "null": "null"}


def describe(value: Any) -> str:
    """How a JSON value's type reads in an error message."""
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return _NAMES[name]
    return type(value).__name__


def _resolve(ref: str) -> dict:
    if not ref.startswith("../structs.json#/$defs/"):
        raise ValueError(f"unsupported $ref {ref}")
    return catalog.structs_schema()["$defs"][ref.rsplit("/", 1)[1]]


def compile_schema(schema: dict) -> Checker:
    """Build a checker for one schema node."""
    if "$ref" in schema:
        return _compiled_ref(schema["$ref"])
    checks: list[Checker] = []
    if "oneOf" in schema:
        options = [compile_schema(s) for s in schema["oneOf"]]
        checks.append(_one_of(options))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v, p: None if v == const else f"{p}: must be {const!r}")
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    if "enum" in schema:
        allowed = frozenset(schema["enum"])
        shown = ", ".join(repr(a) for a in schema["enum"] if a != "")
        checks.append(lambda v, p: None if v in allowed else f"{p}: must be one of {shown}")
    if "maxLength" in schema or "minLength" in schema:
        lo, hi = schema.get("minLength", 0), schema.get("maxLength")
        checks.append(_length_check(lo, hi))
    if "pattern" in schema:
        regex = re.compile(schema["pattern"])
        checks.append(lambda v, p: None if regex.search(v)
                      else f"{p}: must match {regex.pattern}")
    if "minimum" in schema or "maximum" in schema:
        lo, hi = schema.get("minimum"), schema.get("maximum")
        checks.append(lambda v, p: None if (lo is None or v >= lo) and (hi is None or v <= hi)
                      else f"{p}: out of range [{lo}, {hi}]")
    if "items" in schema or "minItems" in schema:
        checks.append(_array_check(schema))
    if "properties" in schema:
        checks.append(_object_check(schema))
    return _all(checks)


@functools.cache
def _compiled_ref(ref: str) -> Checker:
    return compile_schema(_resolve(ref))


def _all(checks: list[Checker]) -> Checker:
    def check(value: Any, path: str) -> str | None:
        for c in checks:
            problem = c(value, path)
            if problem:
                return problem
        return None

    return check


def _type_check(expected: str | list[str]) -> Checker:
    names = [expected] if isinstance(expected, str) else list(expected)
    tests = [_TYPES[n] for n in names]
    wanted = " or ".join(_NAMES[n] for n in names)

    def check(value: Any, path: str) -> str | None:
        if any(t(value) for t in tests):
            return None
        return f"{path}: expected {wanted}, got {describe(value)}"

    return check


def _length_check(lo: int, hi: int | None) -> Checker:
    def check(value: Any, path: str) -> str | None:
        n = len(value)
        if n < lo:
            return f"{path}: must not be empty" if lo == 1 else f"{path}: shorter than {lo}"
        if hi is not None and n > hi:
            return f"{path}: longer than {hi} characters"
        return None

    return check


def _one_of(options: list[Checker]) -> Checker:
    def check(value: Any, path: str) -> str | None:
        first = None
        for option in options:
            problem = option(value, path)
            if problem is None:
                return None
            first = first or problem
        return first

    return check


def _array_check(schema: dict) -> Checker:
    item = compile_schema(schema["items"]) if "items" in schema else None
    min_items = schema.get("minItems", 0)

    def check(value: Any, path: str) -> str | None:
        if len(value) < min_items:
            return f"{path}: needs at least {min_items} item(s)"
        if item is not None:
            for i, v in enumerate(value):
                problem = item(v, f"{path}[{i}]")
                if problem:
                    return problem
        return None

    return check


def _object_check(schema: dict) -> Checker:
    # Properties are compiled on first use: structs.json has hundreds of structs and a
    # server only ever meets a few of them.
    props_schema: dict = schema["properties"]
    compiled: dict[str, Checker] = {}
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties", True) is False

    def check(value: Any, path: str) -> str | None:
        prefix = f"{path}." if path else ""
        for key in required:
            if key not in value:
                return f"{prefix}{key}: required"
        for key, v in value.items():
            checker = compiled.get(key)
            if checker is None:
                sub = props_schema.get(key)
                if sub is None:
                    if closed:
                        return f"{prefix}{key}: unknown field"
                    continue
                checker = compiled[key] = compile_schema(sub)
            problem = checker(v, f"{prefix}{key}")
            if problem:
                return problem
        return None

    return check


@functools.cache
def request_checker(app: str, msg_type: str) -> Checker:
    """The checker for protocols/<app>/<msg_type>.json."""
    return compile_schema(catalog.message_schema(app, msg_type))
