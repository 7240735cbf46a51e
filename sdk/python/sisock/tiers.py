"""
Summary tiers for a node that keeps history: a strided ``get_data`` then costs what it returns, not
the span it covers. The same buckets and answers as the TypeScript block (data-nodes/sdk/tiers/:
bucket.ts, plan.ts), in memory.

Per numeric field, buckets at a ladder of widths (1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 d; the rungs
>= 100 x the field's native interval, and always 1 d). A bucket covers ``[idx*w, (idx+1)*w)`` and
keeps count, min, max, sum, t_first, t_last, t_min, t_max (the earliest time of the min, the latest
of the max). For ``[start, end)`` and a stride, the coarsest width ``w <= 2*stride`` (``stride`` for
the mean) is used; output buckets are ``W = w*ceil(target/w)`` wide, aligned on multiples of W; the
interior comes from whole tier buckets, the ragged edges from finer tiers and finally raw samples.
Each output bucket yields its min and max at their real times (one point when they coincide), or
its mean at the middle of its first and last time::

    tiers = Tiers(interval=1.0)
    tiers.add(t, {"temp": 21.5})                 # as samples arrive (any order)
    pts = tiers.query("temp", start, end, min_stride, raw=lambda a, b: my_raw_samples("temp", a, b))
    if pts is None: ...                          # no tier fine enough: answer from raw samples
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

LADDER: Tuple[float, ...] = (1, 10, 60, 600, 3600, 21600, 86400)
COUNT, MIN, MAX, SUM, T_FIRST, T_LAST, T_MIN, T_MAX = range(8)

Bucket = List[float]
Points = Tuple[List[float], List[float]]
RawFn = Callable[[float, float], Tuple[Sequence[float], Sequence[float]]]


def ladder_for(native_interval: Optional[float], factor: float = 100) -> List[float]:
    native = native_interval if native_interval is not None and native_interval > 0 and math.isfinite(native_interval) else 1.0
    top = LADDER[-1]
    return [w for w in LADDER if w >= native * factor or w == top]


def merge_into(dst: Bucket, src: Bucket) -> None:
    """Adds bucket ``src`` into ``dst`` (exact, order-free for disjoint inputs)."""
    dst[COUNT] += src[COUNT]
    dst[SUM] += src[SUM]
    if src[MIN] < dst[MIN] or (src[MIN] == dst[MIN] and src[T_MIN] < dst[T_MIN]):
        dst[MIN], dst[T_MIN] = src[MIN], src[T_MIN]
    if src[MAX] > dst[MAX] or (src[MAX] == dst[MAX] and src[T_MAX] > dst[T_MAX]):
        dst[MAX], dst[T_MAX] = src[MAX], src[T_MAX]
    dst[T_FIRST] = min(dst[T_FIRST], src[T_FIRST])
    dst[T_LAST] = max(dst[T_LAST], src[T_LAST])


def _sample(t: float, x: float) -> Bucket:
    return [1.0, x, x, x, t, t, t, t]


def choose_width(widths: Sequence[float], stride: float, reduce: str = "minmax") -> Optional[float]:
    target = stride if reduce == "mean" else 2 * stride
    fit = [w for w in widths if w <= target]
    return max(fit) if fit else None


def output_width(w: float, stride: float, reduce: str = "minmax") -> float:
    target = stride if reduce == "mean" else 2 * stride
    return w * max(1, math.ceil(target / w - 1e-9))


def cover(start: float, end: float, widths: Sequence[float], top: float) -> List[Tuple[str, float, float, float]]:
    """Pieces in time order: ``("tier", w, idx_lo, idx_hi)`` whole buckets, ``("raw", 0, lo, hi)`` edges."""
    ws = sorted((w for w in widths if w <= top), reverse=True)
    out: List[Tuple[str, float, float, float]] = []

    def rec(lo: float, hi: float, level: int) -> None:
        if not hi > lo:
            return
        if level >= len(ws):
            out.append(("raw", 0.0, lo, hi))
            return
        w = ws[level]
        a, b = math.ceil(lo / w), math.floor(hi / w)
        if a >= b:
            rec(lo, hi, level + 1)
            return
        rec(lo, a * w, level + 1)
        out.append(("tier", w, float(a), float(b)))
        rec(b * w, hi, level + 1)

    rec(start, end, 0)
    return out


def emit(acc: Mapping[int, Bucket], reduce: str = "minmax") -> Points:
    t: List[float] = []
    v: List[float] = []
    for ob in sorted(acc):
        b = acc[ob]
        if not b[COUNT] > 0:
            continue
        if reduce == "mean":
            t.append((b[T_FIRST] + b[T_LAST]) / 2)
            v.append(b[SUM] / b[COUNT])
        elif b[T_MIN] == b[T_MAX]:
            t.append(b[T_MIN])
            v.append(b[MIN])
        elif b[T_MIN] < b[T_MAX]:
            t += [b[T_MIN], b[T_MAX]]
            v += [b[MIN], b[MAX]]
        else:
            t += [b[T_MAX], b[T_MIN]]
            v += [b[MAX], b[MIN]]
    return t, v


class Tiers:
    """In-memory tiers of several numeric fields (``field → width → idx → bucket``)."""

    def __init__(self, interval: Optional[float] = None, widths: Optional[Sequence[float]] = None) -> None:
        self.widths: List[float] = sorted(widths) if widths else ladder_for(interval)
        self.buckets: Dict[str, Dict[float, Dict[int, Bucket]]] = {}

    def add(self, t: float, values: Mapping[str, object]) -> None:
        """One sample time with numeric values (others and NaN are skipped)."""
        if not math.isfinite(t):
            return
        for field, x in values.items():
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                continue
            per_w = self.buckets.setdefault(field, {w: {} for w in self.widths})
            s = _sample(t, float(x))
            for w, by_idx in per_w.items():
                idx = math.floor(t / w)
                cur = by_idx.get(idx)
                if cur is None:
                    by_idx[idx] = list(s)
                else:
                    merge_into(cur, s)

    def add_many(self, t: Sequence[float], columns: Mapping[str, Sequence[object]]) -> None:
        for i, ti in enumerate(t):
            self.add(ti, {f: c[i] for f, c in columns.items() if i < len(c)})

    def drop_before(self, t: float) -> None:
        """Forgets buckets that end before ``t`` (a node trimming its history)."""
        for per_w in self.buckets.values():
            for w, by_idx in per_w.items():
                for idx in [i for i in by_idx if (i + 1) * w <= t]:
                    del by_idx[idx]

    def query(self, field: str, start: float, end: float, stride: float, raw: RawFn,
              reduce: str = "minmax") -> Optional[Points]:
        """The thinned answer for ``field`` over ``[start, end)``, or None when no tier is fine enough
        for ``stride`` (answer from raw samples then). ``raw(a, b)`` gives the samples with a <= t < b."""
        w = choose_width(self.widths, stride, reduce)
        if w is None:
            return None
        big_w = output_width(w, stride, reduce)
        acc: Dict[int, Bucket] = {}

        def add(ob: int, b: Bucket) -> None:
            cur = acc.get(ob)
            if cur is None:
                acc[ob] = list(b)
            else:
                merge_into(cur, b)

        per_w = self.buckets.get(field, {})
        for kind, width, lo, hi in cover(start, end, self.widths, w):
            if kind == "raw":
                ts, vs = raw(lo, hi)
                for ti, x in zip(ts, vs):
                    if x == x and lo <= ti < hi:
                        add(math.floor(ti / big_w), _sample(ti, float(x)))
            else:
                per = round(big_w / width)
                by_idx = per_w.get(width, {})
                if hi - lo < len(by_idx):
                    items = [(i, by_idx[i]) for i in range(int(lo), int(hi)) if i in by_idx]
                else:
                    items = [(i, b) for i, b in by_idx.items() if lo <= i < hi]
                for idx, b in items:
                    add(idx // per, b)
        return emit(acc, reduce)


def join_fields(fields: Sequence[Optional[Points]]) -> Tuple[List[float], List[List[Optional[float]]]]:
    """Several fields of one timeline on one axis: the sorted union of their times, None elsewhere."""
    if len(fields) == 1 and fields[0] is not None:
        return list(fields[0][0]), [list(fields[0][1])]
    t = sorted({x for f in fields if f for x in f[0]})
    pos = {x: i for i, x in enumerate(t)}
    cols: List[List[Optional[float]]] = []
    for f in fields:
        c: List[Optional[float]] = [None] * len(t)
        if f:
            for x, v in zip(f[0], f[1]):
                c[pos[x]] = v
        cols.append(c)
    return t, cols
