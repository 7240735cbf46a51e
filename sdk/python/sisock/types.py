"""
The shapes of the sisock wire contract (docs/contract.md section 1; contract/types.ts in the
TypeScript code) as typing aliases. Results are plain dicts and lists, exactly as they go on the wire.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple, TypedDict, Union

Sample = Union[float, int, str, bool, None]


class FieldInfo(TypedDict):
    description: Optional[str]
    timeline: str
    type: str  # 'number' | 'string' | 'bool'
    units: Optional[str]


class TimelineInfo(TypedDict):
    interval: Optional[float]
    field: List[str]


#: ``get_fields`` result: ``[field, timeline]`` (a list or a tuple of two dicts).
FieldsResult = Union[Tuple[Dict[str, FieldInfo], Dict[str, TimelineInfo]], List[Dict[str, object]]]


class TimelineData(TypedDict):
    t: List[float]
    finalized_until: Optional[float]


class DataResult(TypedDict):
    data: Dict[str, List[Sample]]
    timeline: Dict[str, TimelineData]


class _NodeMetadataFixed(TypedDict):
    name: str
    description: str
    host: str
    pid: int
    process: str
    sisock_version: str
    started: float
    n_fields: Optional[int]
    newest_sample: Optional[float]
    session_id: Optional[int]


class NodeMetadata(_NodeMetadataFixed, total=False):
    """What ``<base>.consumer.<name>.get_metadata()`` returns (contract/types.ts NodeMetadata): the fixed
    fields, and ``status`` when the node's ``status()`` hook reports one (contract/status.ts)."""
    status: Dict[str, Union[float, int, str, bool, None]]
