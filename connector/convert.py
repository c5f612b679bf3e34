"""connector.convert: decoded PI values -> Arrow columns of the bronze value tables.

Timestamps are parsed by Arrow's ISO 8601 parser straight to nanoseconds (all 7 PI digits kept);
digital and system states become (digital_name, digital_code, is_system) with a NULL numeric value;
string values go to string_value. Columns are built with list comprehensions and one Arrow call
each: no per-row dicts.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .wire import StateValue
from .wire import TimedValue

TS_NS = pa.timestamp("ns", tz="UTC")
TS_US = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class StreamInfo:
    """What a value row needs to know about its stream."""

    web_id: str
    tag: str
    units: str = ""


def timestamps_ns(texts: Sequence[str]) -> pa.Array:
    """PI timestamps (ISO 8601 UTC, 0-7 fraction digits) -> int64 nanoseconds since the epoch."""
    return pa.array(texts, type=pa.string()).cast(TS_NS).cast(pa.int64())


def constant(value: str, n: int) -> pa.Array:
    """A string column holding one value n times, built without n Python objects."""
    if n == 0:
        return pa.array([], type=pa.string())
    indices = pa.array(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value], type=pa.string())).cast(pa.string())


def ordinals(ns: np.ndarray) -> np.ndarray:
    """0, 1, 2... for events sharing one timestamp, in the order they came (input sorted by time)."""
    n = len(ns)
    if n == 0:
        return np.zeros(0, np.int32)
    starts = np.r_[True, ns[1:] != ns[:-1]]
    index = np.arange(n)
    group_start = np.maximum.accumulate(np.where(starts, index, 0))
    return (index - group_start).astype(np.int32)


@dataclass
class ValueColumns:
    """The value part of a row set (same length as its timestamps)."""

    value: pa.Array
    string_value: pa.Array
    digital_name: pa.Array
    digital_code: pa.Array
    is_system: pa.Array
    good: pa.Array
    questionable: pa.Array
    substituted: pa.Array
    annotated: pa.Array
    units: pa.Array


def value_columns(items: Sequence[TimedValue], units: str) -> ValueColumns:
    """Split PI values by JSON type into the numeric, string and digital-state columns."""
    values = [item.Value for item in items]
    n = len(values)
    states = [i for i, v in enumerate(values) if v.__class__ is StateValue]
    strings = [i for i, v in enumerate(values) if v.__class__ is str]
    numeric = values
    if states or strings:
        numeric = list(values)
        for i in states:
            numeric[i] = None
        for i in strings:
            numeric[i] = None
    try:
        numbers = pa.array(numeric, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # booleans or other oddities: one by one
        numbers = pa.array([float(v) if isinstance(v, (int, float)) else None for v in numeric], type=pa.float64())
    string_value = pa.nulls(n, pa.string())
    if strings:
        column = [None] * n
        for i in strings:
            column[i] = values[i]
        string_value = pa.array(column, type=pa.string())
    digital_name = pa.nulls(n, pa.string())
    digital_code = pa.nulls(n, pa.int32())
    system = np.zeros(n, dtype=bool)
    if states:
        names: list[str | None] = [None] * n
        codes: list[int | None] = [None] * n
        for i in states:
            state = values[i]
            names[i] = state.Name
            codes[i] = state.Value
            system[i] = state.IsSystem
        digital_name = pa.array(names, type=pa.string())
        digital_code = pa.array(codes, type=pa.int32())
    good = pa.array([item.Good for item in items], type=pa.bool_())
    item_units = [item.UnitsAbbreviation for item in items]
    if any(u is not None for u in item_units):
        units_column = pa.array([u if u is not None else units for u in item_units], type=pa.string())
    else:  # units not requested per value: PI gives system states no units, the rest the stream's
        units_column = pc.if_else(pa.array(system), pa.scalar("", pa.string()), constant(units, n))
    return ValueColumns(
        value=numbers, string_value=string_value, digital_name=digital_name, digital_code=digital_code,
        is_system=pa.array(system), good=good,
        questionable=pa.array([item.Questionable for item in items], type=pa.bool_()),
        substituted=pa.array([item.Substituted for item in items], type=pa.bool_()),
        annotated=pa.array([item.Annotated for item in items], type=pa.bool_()),
        units=units_column)


def recorded_table(stream: StreamInfo, items: Sequence[TimedValue], schema: pa.Schema, *,
                   run_id: str, ingested_at_us: int) -> pa.Table:
    """Rows of `recorded_values` for one stream's events (in archive order, complete per timestamp)."""
    n = len(items)
    ns = timestamps_ns([item.Timestamp for item in items])
    ns_np = ns.to_numpy(zero_copy_only=False)
    cols = value_columns(items, stream.units)
    timestamp = pa.array(ns_np // 1000, type=pa.int64()).cast(TS_US)
    columns = {
        "web_id": constant(stream.web_id, n), "tag": constant(stream.tag, n), "timestamp": timestamp,
        "timestamp_ns": ns, "ordinal": pa.array(ordinals(ns_np), type=pa.int32()),
        "value": cols.value, "string_value": cols.string_value, "digital_name": cols.digital_name,
        "digital_code": cols.digital_code, "is_system": cols.is_system, "good": cols.good,
        "questionable": cols.questionable, "substituted": cols.substituted, "annotated": cols.annotated,
        "units": cols.units, "date": timestamp.cast(pa.date32()),
        "ingested_at": pa.array(np.full(n, ingested_at_us, dtype=np.int64)).cast(TS_US),
        "run_id": constant(run_id, n),
    }
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)
