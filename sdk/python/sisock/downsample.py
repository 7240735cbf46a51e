"""
``min_stride`` downsampling that keeps extremes, the same answer as the TypeScript SDK
(data-nodes/sdk/downsample.ts ``downsampleMinMax``), so nodes in either language answer a strided
query alike.

When the input already has successive times at least ``min_stride`` apart it is returned unchanged.
Otherwise time is cut into buckets of ``2 * min_stride`` seconds aligned on multiples of the bucket
width, and each non-empty bucket yields, per column, its minimum and maximum samples at their real
times (one when they coincide; for strings the first and last). Columns of one timeline share the
output times: the sorted union of those times; a column has a value at its own extreme times and None
at the others. Every output time is an input time, so an answer never leaves ``[start, end)``.
Numbers compare numerically, booleans as 0/1. Ties: the earliest minimum, the latest maximum.

``downsample_mean`` is the ``reduce="mean"`` answer: per bucket of ``min_stride`` seconds, each
column's mean at the middle of the bucket's first and last sample time.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

from .types import Sample


def _rank(v: Sample) -> Optional[float]:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    return None


def already_sparse(t: Sequence[float], min_stride: float) -> bool:
    return all(b - a >= min_stride for a, b in zip(t, t[1:]))


def _extremes(col: Sequence[Sample], i: int, j: int) -> Tuple[int, int]:
    """The rows a column contributes for the bucket [i, j): its min and max (or first and last) rows, -1 for none."""
    min_i = max_i = first_i = last_i = -1
    min_r = max_r = 0.0
    for k in range(i, j):
        v = col[k]
        if v is None:
            continue
        if first_i < 0:
            first_i = k
        last_i = k
        r = _rank(v)
        if r is None:
            continue
        if min_i < 0 or r < min_r:
            min_i, min_r = k, r
        if max_i < 0 or r >= max_r:
            max_i, max_r = k, r
    if min_i < 0:
        return first_i, last_i
    return min_i, max_i


def _buckets(t: Sequence[float], width: float) -> List[Tuple[int, int]]:
    out: List[Tuple[int, int]] = []
    n, i = len(t), 0
    while i < n:
        bucket = math.floor(t[i] / width)
        j = i + 1
        while j < n and math.floor(t[j] / width) == bucket:
            j += 1
        out.append((i, j))
        i = j
    return out


def downsample_min_max(t: Sequence[float], columns: Sequence[Sequence[Sample]],
                       min_stride: Optional[float]) -> Tuple[List[float], List[List[Sample]]]:
    """Downsamples one timeline; ``t`` ascending, each column ``len(t)`` long."""
    n = len(t)
    if min_stride is None or not min_stride > 0 or n < 2 or already_sparse(t, min_stride):
        return list(t), [list(c) for c in columns]
    out_t: List[float] = []
    out_cols: List[List[Sample]] = [[] for _ in columns]
    for i, j in _buckets(t, 2 * min_stride):
        picks = [_extremes(col, i, j) for col in columns]
        rows = sorted({r for p in picks for r in p if r >= 0})
        for r in rows:
            out_t.append(t[r])
            for c, col in enumerate(columns):
                out_cols[c].append(col[r] if r in picks[c] else None)
    return out_t, out_cols


def downsample_mean(t: Sequence[float], columns: Sequence[Sequence[Sample]],
                    min_stride: Optional[float]) -> Tuple[List[float], List[List[Sample]]]:
    """``reduce="mean"``: per bucket of ``min_stride`` its numeric mean per column (None without numbers)."""
    if min_stride is None or not min_stride > 0 or not t:
        return list(t), [list(c) for c in columns]
    out_t: List[float] = []
    out_cols: List[List[Sample]] = [[] for _ in columns]
    for i, j in _buckets(t, min_stride):
        out_t.append((t[i] + t[j - 1]) / 2)
        for c, col in enumerate(columns):
            vals = [r for r in (_rank(v) for v in col[i:j] if v is not None) if r is not None]
            out_cols[c].append(sum(vals) / len(vals) if vals else None)
    return out_t, out_cols
