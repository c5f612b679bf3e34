"""connector.convert: decoded PI values -> Arrow columns of the bronze value tables.

Timestamps are parsed by Arrow's ISO 8601 parser straight to nanoseconds (all 7 PI digits kept);
digital and system states become (digital_name, digital_code, is_system) with a NULL numeric value;
string values go to string_value, array values to string_value as their JSON text. A bad value keeps
its row: an error object (`{"Errors": [...]}`) or a TimedValue's own `Errors` go to `errors`, with its
Good flag. A page of plain numbers takes the fast path (one Arrow call); only odd values are looked at
one by one. Columns are built with list comprehensions and one Arrow call each: no per-row dicts.
"""
from __future__ import annotations

import typing as t
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from .wire import PropertyError
from .wire import StateValue
from .wire import TimedValue

TS_NS = pa.timestamp("ns", tz="UTC")
TS_US = pa.timestamp("us", tz="UTC")
NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class StreamInfo:
    """What a value row needs to know about its stream."""

    web_id: str
    tag: str
    units: str = ""


def timestamps_ns(texts: Sequence[str]) -> pa.Array:
    """PI timestamps (ISO 8601 UTC, 0-7 fraction digits) -> int64 nanoseconds since the epoch."""
    return pa.array(texts, type=pa.string()).cast(TS_NS).cast(pa.int64())


def utc_dates(ns: np.ndarray) -> pa.Array:
    """The UTC date of each nanosecond timestamp (floor division: 16x Arrow's cast of a UTC timestamp)."""
    return pa.array((ns // NS_PER_DAY).astype(np.int32), pa.int32()).view(pa.date32())


def constant(value: str, n: int) -> pa.Array:
    """A string column holding one value n times, built without n Python objects."""
    if n == 0:
        return pa.array([], type=pa.string())
    indices = pa.array(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value], type=pa.string())).cast(pa.string())


def ordinals(ns: np.ndarray, boundaries: np.ndarray | None = None) -> np.ndarray:
    """0, 1, 2... for events sharing one timestamp, in the order they came (input sorted by time
    within each stream; `boundaries` marks the rows where a new stream starts)."""
    n = len(ns)
    if n == 0:
        return np.zeros(0, np.int32)
    starts = np.r_[True, ns[1:] != ns[:-1]]
    if boundaries is not None:
        starts |= boundaries
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
    errors: pa.Array


def repeated(values: Sequence[str], counts: Sequence[int]) -> pa.Array:
    """values[i] repeated counts[i] times, as one string column (no per-row Python objects)."""
    indices = pa.array(np.repeat(np.arange(len(values), dtype=np.int32), counts))
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), type=pa.string())).cast(pa.string())


def value_columns(items: Sequence[TimedValue], units: str | pa.Array) -> ValueColumns:
    """Split PI values by JSON type into the numeric, string and digital-state columns.

    `units` is the stream's units (a string) or one per row (an array): used where PI did not
    send units per value, except for what is no data (system states, and error values: not Good and
    neither number nor text), which gets none, as PI gives them."""
    values = [item.Value for item in items]  # comprehensions: faster than map(attrgetter) on structs
    n = len(values)
    states: list[int] = []
    texts: dict[int, str] = {}
    problems: dict[int, list[str]] = {}
    try:  # the common case: every value a number (or null), converted in one Arrow call
        numbers = pa.array(values, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        numbers, states, texts, problems = _mixed_numbers(values)
    string_value = pa.nulls(n, pa.string())
    if texts:
        column: list[str | None] = [None] * n
        for i, text in texts.items():
            column[i] = text
        string_value = pa.array(column, type=pa.string())
    digital_name = pa.nulls(n, pa.string())
    digital_code = pa.nulls(n, pa.int32())
    system = np.zeros(n, dtype=bool)
    if states:
        names: list[str | None] = [None] * n
        codes: list[int | None] = [None] * n
        for i in states:
            state = t.cast(StateValue, values[i])
            names[i] = state.Name
            codes[i] = state.Value
            system[i] = state.IsSystem
        digital_name = pa.array(names, type=pa.string())
        digital_code = pa.array(codes, type=pa.int32())
    item_errors = [item.Errors for item in items]  # PI's per-value PropertyErrors: rare, so counted in C first
    if item_errors.count(None) != n:
        for i in [i for i, errors in enumerate(item_errors) if errors]:
            problems.setdefault(i, []).extend(_property_errors(item_errors[i] or []))
    errors = pa.nulls(n, pa.string())
    if problems:
        messages: list[str | None] = [None] * n
        for i, found in problems.items():
            messages[i] = "; ".join(found)
        errors = pa.array(messages, type=pa.string())
    good = pa.array([item.Good for item in items], type=pa.bool_())
    default = constant(units, n) if isinstance(units, str) else units
    if states or problems or numbers.null_count:  # PI gives no units to what is no data: system states and
        error_value = pc.and_(pc.invert(good), pc.and_(numbers.is_null(), string_value.is_null()))  # errors
        default = pc.if_else(pc.or_(pa.array(system), error_value), pa.scalar("", pa.string()), default)
    if n and (items[0].UnitsAbbreviation is not None or items[-1].UnitsAbbreviation is not None):
        item_units = pa.array([item.UnitsAbbreviation for item in items], type=pa.string())
        units_column = pc.coalesce(item_units, default)  # units sent per value win
    else:
        units_column = default
    return ValueColumns(
        value=numbers, string_value=string_value, digital_name=digital_name, digital_code=digital_code,
        is_system=pa.array(system), good=good,
        questionable=pa.array([item.Questionable for item in items], type=pa.bool_()),
        substituted=pa.array([item.Substituted for item in items], type=pa.bool_()),
        annotated=pa.array([item.Annotated for item in items], type=pa.bool_()),
        units=units_column, errors=errors)


def _mixed_numbers(values: list) -> tuple[pa.Array, list[int], dict[int, str], dict[int, list[str]]]:
    """The numeric column of values that are not all numbers (NULL where a value is not one); the
    positions of the digital states; the texts of strings and of arrays (as JSON); the messages of
    error objects. One pass finds the odd values (PI pages are mostly numbers, with a few states)."""
    odd = [i for i, v in enumerate(values) if v.__class__ is not float and v.__class__ is not int and v is not None]
    states: list[int] = []
    texts: dict[int, str] = {}
    problems: dict[int, list[str]] = {}
    numeric = list(values)
    for i in odd:
        value = values[i]
        kind = value.__class__
        if kind is StateValue:
            if value.Name is not None:
                states.append(i)
            else:
                problems[i] = _messages(value.Errors)
        elif kind is str:
            texts[i] = value
        elif kind is list:
            texts[i] = msgspec.json.encode(value).decode()
        else:
            continue  # booleans (and int subclasses): left for the numeric column below
        numeric[i] = None
    try:
        numbers = pa.array(numeric, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # booleans, huge ints...: one by one
        numbers = pa.array([float(v) if isinstance(v, (int, float)) else None for v in numeric], type=pa.float64())
    return numbers, states, texts, problems


def _messages(found: list | None) -> list[str]:
    """An error object's `Errors` as texts (PI sends strings; anything else is kept as its JSON)."""
    return [m if isinstance(m, str) else msgspec.json.encode(m).decode() for m in found or []] or ["error (no message)"]


def _property_errors(found: Sequence[PropertyError]) -> list[str]:
    """A TimedValue's `Errors` (PropertyError: FieldName, Message[]) as `Field: message` texts."""
    texts = [" ".join(_messages(error.Message)) for error in found]
    return [f"{error.FieldName}: {text}" if error.FieldName else text for error, text in zip(found, texts)]


def value_rows(streams: Sequence[tuple[StreamInfo, Sequence[TimedValue]]], schema: pa.Schema, *,
               run_id: str, ingested_at_us: int, extra: dict[str, str] | None = None) -> pa.Table:
    """Rows of a value table (`recorded_values`, `interpolated_values`) for several streams' values
    (each in time order, complete per timestamp), converted in one pass: a few Arrow calls per
    group, not per stream. `extra` adds constant string columns (e.g. the interval)."""
    streams = [(info, items) for info, items in streams if items]
    counts = [len(items) for _, items in streams]
    everything: list[TimedValue] = [item for _, items in streams for item in items]
    n = len(everything)
    ns = timestamps_ns([item.Timestamp for item in everything])
    ns_np = ns.to_numpy(zero_copy_only=False)
    boundaries = np.zeros(n, dtype=bool)
    if n:
        boundaries[np.cumsum([0] + counts[:-1])] = True
    cols = value_columns(everything, repeated([info.units for info, _ in streams], counts))
    timestamp = pa.array(ns_np // 1000, type=pa.int64()).cast(TS_US)
    columns = {
        "web_id": repeated([info.web_id for info, _ in streams], counts),
        "tag": repeated([info.tag for info, _ in streams], counts), "timestamp": timestamp,
        "timestamp_ns": ns, "value": cols.value, "string_value": cols.string_value,
        "digital_name": cols.digital_name, "digital_code": cols.digital_code, "is_system": cols.is_system,
        "good": cols.good, "questionable": cols.questionable, "substituted": cols.substituted,
        "annotated": cols.annotated, "units": cols.units, "errors": cols.errors, "date": utc_dates(ns_np),
        "ingested_at": pa.array(np.full(n, ingested_at_us, dtype=np.int64)).cast(TS_US),
        "run_id": constant(run_id, n),
    }
    if "ordinal" in schema.names:
        columns["ordinal"] = pa.array(ordinals(ns_np, boundaries), type=pa.int32())
    for name, text in (extra or {}).items():
        columns[name] = constant(text, n)
    return pa.Table.from_arrays([_typed(columns[f.name], f.type) for f in schema], schema=schema)


def _typed(column: pa.Array, kind: pa.DataType) -> pa.Array:
    return column if column.type == kind else column.cast(kind)


def recorded_rows(streams: Sequence[tuple[StreamInfo, Sequence[TimedValue]]], schema: pa.Schema, *,
                  run_id: str, ingested_at_us: int) -> pa.Table:
    """Rows of `recorded_values` (with the same-timestamp ordinal) for several streams' events."""
    return value_rows(streams, schema, run_id=run_id, ingested_at_us=ingested_at_us)
