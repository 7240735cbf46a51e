"""
What the base class does to a ``get_data`` result once, so that a node need not: keep ``[start, end)``,
apply ``min_stride`` (downsample.py), and fit WAMP's message size, by progressive pieces
(``split_result``, as data-nodes/sdk/chunk.ts) or by thinning (``thin_to_fit``).

A result does not say which timeline a field is on; the field → timeline map from ``get_fields``
does when known, else a field goes with the timeline whose ``t`` has its length.
"""
from __future__ import annotations

import bisect
import json
import math
from typing import Any, Dict, List, Mapping, Optional, Tuple, cast

from .downsample import downsample_mean, downsample_min_max
from .types import DataResult, Sample, TimelineData

#: Longest JSON text of a number (e.g. -2.2250738585072014e-308), plus its comma.
NUMBER_BOUND = 25
_PLAIN = (int, float, bool, type(None))


class ResultShapeError(TypeError):
    """The node's get_data returned something that is not ``{data, timeline}``."""


def _as_list(v: Any) -> Any:
    """Lists stay; tuples and array-likes with ``tolist()`` (numpy) become lists; anything else is returned as is."""
    if isinstance(v, list):
        return v
    if isinstance(v, tuple):
        return list(v)
    tolist = getattr(v, "tolist", None)
    return tolist() if callable(tolist) else v


def check_shape(r: Any) -> DataResult:
    """The result as plain lists (numpy arrays accepted), or ResultShapeError."""
    if not isinstance(r, dict) or not isinstance(r.get("data"), dict) or not isinstance(r.get("timeline"), dict):
        raise ResultShapeError("get_data returned a result without {data, timeline} dicts")
    for name, tl in r["timeline"].items():
        if not isinstance(tl, dict):
            raise ResultShapeError(f"get_data returned timeline {name!r} that is not a dict")
        tl["t"] = _as_list(tl.get("t"))
        if not isinstance(tl["t"], list):
            raise ResultShapeError(f"get_data returned timeline {name!r} without a list t")
    for name in list(r["data"]):
        v = r["data"][name] = _as_list(r["data"][name])
        if not isinstance(v, list):
            raise ResultShapeError(f"get_data returned field {name!r} that is not a list")
    return cast(DataResult, r)


def group_fields(result: DataResult, field_timeline: Optional[Mapping[str, str]] = None) -> Tuple[Dict[str, List[str]], List[str]]:
    """timeline → its fields in ``result``, and the fields on no timeline (e.g. unknown fields, ``[]``)."""
    by_tl: Dict[str, List[str]] = {tl: [] for tl in result["timeline"]}
    lengths = {tl: len(v["t"]) for tl, v in result["timeline"].items()}
    loose: List[str] = []
    for f, values in result["data"].items():
        n = len(values)
        tl = field_timeline.get(f) if field_timeline else None
        if tl is None or lengths.get(tl) != n:
            tl = next((k for k, m in lengths.items() if m == n), None) if n > 0 else None
        if tl is None or n == 0:
            loose.append(f)
        else:
            by_tl[tl].append(f)
    return by_tl, loose


def finite_column(col: List[Sample]) -> List[Sample]:
    """NaN and ±Infinity become None (null: a missing sample). JSON cannot carry them, and a router
    that receives them in JSON text drops the session. A column of finite numbers is returned as is
    after one C-speed sum."""
    try:
        if math.isfinite(sum(col)):  # type: ignore[arg-type]
            return col
    except (TypeError, OverflowError):
        pass  # strings or None in the column: look at each value
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in col]


def _sorted(t: List[float]) -> bool:
    return all(a <= b for a, b in zip(t, t[1:]))


def normalize(result: DataResult, fields: List[str], start: float, end: float, min_stride: Optional[float],
              field_timeline: Optional[Mapping[str, str]] = None, reduce: str = "minmax") -> DataResult:
    """Only the requested fields (missing ones as ``[]``), samples in ``[start, end)``, ``min_stride`` applied
    (``reduce`` "minmax" or "mean"); timelines left without samples or fields are dropped."""
    by_tl, loose = group_fields(result, field_timeline)
    wanted = set(fields)
    out: DataResult = {"data": {}, "timeline": {}}
    for f in loose:
        if f in wanted:
            if result["data"][f]:
                raise ResultShapeError(f"field {f!r} has {len(result['data'][f])} values but no timeline has that many times")
            out["data"][f] = []
    for tl, tl_fields in by_tl.items():
        keep = [f for f in tl_fields if f in wanted]
        if not keep:
            continue
        src = result["timeline"][tl]
        t = list(src["t"])
        cols = [list(result["data"][f]) for f in keep]
        ordered = _sorted(t)
        if t and not ordered:
            idx = [i for i, x in enumerate(t) if start <= x < end]
            t = [t[i] for i in idx]
            cols = [[c[i] for i in idx] for c in cols]
        elif t and (t[0] < start or t[-1] >= end):
            a, b = bisect.bisect_left(t, start), bisect.bisect_left(t, end)
            t = t[a:b]
            cols = [c[a:b] for c in cols]
        if min_stride and len(t) > 1:
            if not ordered:
                order = sorted(range(len(t)), key=t.__getitem__)
                t = [t[i] for i in order]
                cols = [[c[i] for i in order] for c in cols]
            t, cols = (downsample_mean if reduce == "mean" else downsample_min_max)(t, cols, min_stride)
        for f, c in zip(keep, cols):
            out["data"][f] = finite_column(c)
        if t:
            out["timeline"][tl] = {"t": t, "finalized_until": src.get("finalized_until")}
    for f in fields:
        out["data"].setdefault(f, [])
    return out


def _column_bound(values: List[Sample]) -> int:
    if all(isinstance(v, _PLAIN) for v in values[:64]) and set(map(type, values)) <= set(_PLAIN):
        return NUMBER_BOUND * len(values)
    return len(json.dumps(values)) + len(values)


def json_size_bound(result: DataResult) -> int:
    """An upper bound of the result's JSON length (also of its MsgPack/CBOR size), without encoding numbers."""
    n = 32
    for f, values in result["data"].items():
        n += len(json.dumps(f)) + 4 + _column_bound(values)
    for tl, v in result["timeline"].items():
        n += len(json.dumps(tl)) + 48 + NUMBER_BOUND + NUMBER_BOUND * len(v["t"])
    return n


def split_result(result: DataResult, budget: int, field_timeline: Optional[Mapping[str, str]] = None,
                 known_size: Optional[int] = None) -> List[DataResult]:
    """Pieces of at most ``budget`` bytes whose per-field, per-timeline concatenation is ``result``."""
    if (known_size if known_size is not None else json_size_bound(result)) <= budget:
        return [result]
    by_tl, loose = group_fields(result, field_timeline)
    first: DataResult = {"data": {f: result["data"][f] for f in loose}, "timeline": {}}
    pieces: List[DataResult] = []

    def make(tl: str, fields: List[str], a: int, b: int) -> DataResult:
        src = result["timeline"][tl]
        tdata: TimelineData = {"t": src["t"][a:b], "finalized_until": src.get("finalized_until")}
        return {"data": {f: result["data"][f][a:b] for f in fields}, "timeline": {tl: tdata}}

    def emit(tl: str, fields: List[str], a: int, b: int) -> None:
        piece = make(tl, fields, a, b)
        if b - a > 1 and json_size_bound(piece) > budget:
            mid = a + (b - a) // 2
            emit(tl, fields, a, mid)
            emit(tl, fields, mid, b)
        else:
            pieces.append(piece)

    for tl, fields in by_tl.items():
        n = len(result["timeline"][tl]["t"])
        if n == 0:
            first["timeline"][tl] = result["timeline"][tl]
            continue
        step = max(1, n // 1000)
        sample = make(tl, fields, 0, 0)
        sample["timeline"][tl]["t"] = result["timeline"][tl]["t"][::step]
        for f in fields:
            sample["data"][f] = result["data"][f][::step]
        per_row = json_size_bound(sample) / max(1, len(sample["timeline"][tl]["t"]))
        rows = max(1, int(budget * 0.8 / max(per_row, 1.0)))
        for a in range(0, n, rows):
            emit(tl, fields, a, min(n, a + rows))
    if first["data"] or first["timeline"]:
        pieces.insert(0, first)
    return pieces or [result]


def extent(result: DataResult) -> Tuple[int, float]:
    """Rows of the longest timeline and the seconds they cover."""
    rows, seconds = 0, 0.0
    for v in result["timeline"].values():
        t = v["t"]
        if len(t) > rows:
            rows, seconds = len(t), float(t[-1] - t[0])
    return rows, seconds


def thin_to_fit(result: DataResult, budget: int, start: float, end: float, min_stride: Optional[float],
                field_timeline: Optional[Mapping[str, str]] = None, size: Optional[int] = None,
                reduce: str = "minmax") -> Tuple[DataResult, float, int]:
    """The result downsampled with a ``min_stride`` large enough to fit ``budget`` (keys and shapes kept):
    (result, stride, size). The stride comes from the rows, their span and size; corrected at most twice."""
    size = size if size is not None else json_size_bound(result)
    aim = budget * 0.7
    rows, seconds = extent(result)
    covered = seconds if seconds > 0 else end - start
    stride = max(covered / max(1, rows) * (size / aim), min_stride or 0.0, 1e-6)
    fields = list(result["data"].keys())
    out = result
    for attempt in range(3):
        if attempt:
            stride *= max(1.5, size / aim)
        out = normalize(result, fields, start, end, stride, field_timeline, reduce)
        size = json_size_bound(out)
        if size <= budget:
            break
    return out, stride, size


def concat_pieces(pieces: List[DataResult]) -> DataResult:
    """Merges progressive pieces (as client/data.ts mergeDataResults)."""
    out: DataResult = {"data": {}, "timeline": {}}
    for p in pieces:
        for f, v in p["data"].items():
            out["data"].setdefault(f, []).extend(v)
        for tl, tv in p["timeline"].items():
            cur = out["timeline"].setdefault(tl, {"t": [], "finalized_until": tv.get("finalized_until")})
            cur["t"].extend(tv["t"])
            cur["finalized_until"] = tv.get("finalized_until")
    return out


def newest_t(result: DataResult) -> Optional[float]:
    newest: Optional[float] = None
    for v in result["timeline"].values():
        if v["t"]:
            last = float(v["t"][-1])
            if newest is None or last > newest:
                newest = last
    return newest
