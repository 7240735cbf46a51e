"""
Argument checking of ``get_fields`` and ``get_data`` (docs/contract.md section 1), as the
TypeScript SDK does it (data-nodes/sdk/args.ts)::

    get_fields(start, end)
    get_data(field, start, end, min_stride=None)     min_stride positional or keyword

Keywords ``start``, ``end``, ``field``/``fields`` and ``min_stride`` are accepted. A time
``t <= 0`` means ``now + t``. Wrong types, NaN/Infinity, ``start >= end`` after resolving, a
non-list of fields, a ``min_stride`` that is 0, negative or NaN, or unknown keywords raise
ArgumentError, which the node turns into ``wamp.error.invalid_argument``; ``min_stride`` None (or
absent) means raw samples. sisock addition (docs/contract.md): keyword ``reduce``, ``"minmax"``
(default) or ``"mean"``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple


class ArgumentError(ValueError):
    """A caller's argument is wrong; the message says which one."""


@dataclass(frozen=True)
class TimeRange:
    start: float
    end: float


@dataclass(frozen=True)
class GetDataArgs:
    fields: List[str]
    start: float
    end: float
    min_stride: Optional[float]
    #: "minmax" (default) or "mean"
    reduce: str = "minmax"


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, (int, float)):
        return "NaN" if isinstance(v, float) and math.isnan(v) else repr(v)
    if isinstance(v, str):
        return "the string " + repr(v if len(v) <= 40 else v[:40] + "...")
    return "a " + type(v).__name__


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def resolve_time(name: str, v: Any, now: float) -> float:
    """A finite number of seconds; ``t <= 0`` becomes ``now + t``."""
    if not _is_number(v) or not math.isfinite(v):
        raise ArgumentError(
            f"{name} must be a finite number of seconds (UNIX time, or <= 0 for relative to now), got {_describe(v)}")
    t = float(v)
    return now + t if t <= 0 else t


def _check_range(start: float, end: float) -> None:
    if start >= end:
        raise ArgumentError(f"start must be before end, got start={start} end={end} (after resolving times <= 0 against now)")


_MISSING = object()


def _pick(args: Sequence[Any], kwargs: Mapping[str, Any], index: int, names: Sequence[str]) -> Any:
    kw = next((n for n in names if n in kwargs), None)
    if index < len(args):
        if kw is not None:
            raise ArgumentError(f"{names[0]} given both positionally and as keyword argument {kw}")
        return args[index]
    if kw is not None:
        return kwargs[kw]
    return _MISSING


def _check_keywords(kwargs: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for k in kwargs:
        if k not in allowed:
            raise ArgumentError(f"unexpected keyword argument {k!r} (allowed: {', '.join(allowed)})")


def parse_get_fields_args(args: Sequence[Any], kwargs: Mapping[str, Any], now: float) -> TimeRange:
    _check_keywords(kwargs, ["start", "end"])
    if len(args) > 2:
        raise ArgumentError(f"get_fields takes 2 arguments (start, end), got {len(args)}")
    s = _pick(args, kwargs, 0, ["start"])
    e = _pick(args, kwargs, 1, ["end"])
    if s is _MISSING or e is _MISSING:
        raise ArgumentError("get_fields needs start and end (UNIX seconds, or <= 0 for relative to now)")
    start = resolve_time("start", s, now)
    end = resolve_time("end", e, now)
    _check_range(start, end)
    return TimeRange(start, end)


def parse_min_stride(m: Any) -> Optional[float]:
    if m is None or m is _MISSING:
        return None
    if not _is_number(m) or not math.isfinite(m) or m <= 0:
        raise ArgumentError(f"min_stride must be null or a number of seconds > 0, got {_describe(m)}")
    return float(m)


def parse_get_data_args(args: Sequence[Any], kwargs: Mapping[str, Any], now: float) -> GetDataArgs:
    _check_keywords(kwargs, ["fields", "field", "start", "end", "min_stride", "reduce"])
    if len(args) > 4:
        raise ArgumentError(f"get_data takes at most 4 arguments (fields, start, end, min_stride), got {len(args)}")
    f = _pick(args, kwargs, 0, ["fields", "field"])
    s = _pick(args, kwargs, 1, ["start"])
    e = _pick(args, kwargs, 2, ["end"])
    m = _pick(args, kwargs, 3, ["min_stride"])
    if f is _MISSING or s is _MISSING or e is _MISSING:
        raise ArgumentError("get_data needs fields (a list of field names), start and end")
    if not isinstance(f, (list, tuple)):
        raise ArgumentError(f"fields must be a list of field names, got {_describe(f)}")
    fields: List[str] = []
    seen = set()
    for i, name in enumerate(f):
        if not isinstance(name, str):
            raise ArgumentError(f"fields[{i}] must be a string, got {_describe(name)}")
        if name not in seen:
            seen.add(name)
            fields.append(name)
    start = resolve_time("start", s, now)
    end = resolve_time("end", e, now)
    _check_range(start, end)
    reduce = kwargs.get("reduce")
    if reduce is not None and reduce not in ("minmax", "mean"):
        raise ArgumentError(f'reduce must be "minmax" or "mean", got {_describe(reduce)}')
    return GetDataArgs(fields, start, end, parse_min_stride(m), reduce or "minmax")


def split_call(args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Tuple[List[Any], dict[str, Any]]:
    """Positional and keyword arguments of a WAMP invocation, without autobahn's ``details``."""
    return list(args), {k: v for k, v in kwargs.items() if k != "details"}
