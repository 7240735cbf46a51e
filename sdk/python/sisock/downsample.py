"""
``min_stride`` downsampling that keeps extremes, the same grid as the TypeScript SDK
(data-nodes/sdk/downsample.ts), so nodes in either language answer a strided query alike.

Successive output samples are at least ``min_stride`` seconds apart. When the input already
satisfies that it is returned unchanged. Otherwise time is cut into buckets of ``2 * min_stride``
seconds aligned on multiples of the bucket width, and each non-empty bucket yields at most two
output times, ``2k * min_stride`` and ``(2k + 1) * min_stride``; for each column the bucket's minimum
and maximum go there in the order they occurred, so a spike is never thinned away. A bucket with a
single input time yields one output time, on the half of the bucket the input was in. A column with
no value for a slot gets None. Numbers compare numerically, booleans as 0/1; strings keep their
first and last value.
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


def _extremes(col: Sequence[Sample], i: int, j: int, t: Sequence[float], min_stride: float,
              slot0: float) -> Tuple[Sample, Sample]:
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
        if first_i < 0:
            return None, None
        min_i, max_i = first_i, last_i
    if min_i == max_i:
        v = col[min_i]
        return (None, v) if t[min_i] - slot0 >= min_stride else (v, None)
    a, b = (min_i, max_i) if min_i < max_i else (max_i, min_i)
    return col[a], col[b]


def downsample_min_max(t: Sequence[float], columns: Sequence[Sequence[Sample]],
                       min_stride: Optional[float]) -> Tuple[List[float], List[List[Sample]]]:
    """Downsamples one timeline; ``t`` ascending, each column ``len(t)`` long."""
    n = len(t)
    if min_stride is None or not min_stride > 0 or n < 2 or already_sparse(t, min_stride):
        return list(t), [list(c) for c in columns]
    width = 2 * min_stride
    out_t: List[float] = []
    out_cols: List[List[Sample]] = [[] for _ in columns]
    i = 0
    while i < n:
        bucket = math.floor(t[i] / width)
        j = i + 1
        while j < n and math.floor(t[j] / width) == bucket:
            j += 1
        slot0 = 2 * bucket * min_stride
        slot1 = (2 * bucket + 1) * min_stride
        if j - i == 1:
            out_t.append(slot1 if t[i] - slot0 >= min_stride else slot0)
            for c, col in enumerate(columns):
                out_cols[c].append(col[i])
        else:
            out_t.append(slot0)
            out_t.append(slot1)
            for c, col in enumerate(columns):
                a, b = _extremes(col, i, j, t, min_stride, slot0)
                out_cols[c].append(a)
                out_cols[c].append(b)
        i = j
    return out_t, out_cols
