"""simulator.pi.encoder: `Values` -> PI TimedValue JSON text, fast.

Large recorded responses are the simulator's hot path (150,000 values a call), so items are spelled
by string templates rather than built as dicts: each item is "{Timestamp" + value text + one of a
few precomputed tails (one per quality/state combination). Numbers go through orjson in one
vectorised call, Float32 values in float32 so they print as PI prints a Single.
"""
from __future__ import annotations

import functools
import typing as t

import numpy as np
import orjson

from picommon import pitime
from ..archive.values import ANNOTATED
from ..archive.values import QUESTIONABLE
from ..archive.values import SUBSTITUTED
from ..archive.values import Values
from .states import SYSTEM

ITEM_FIELDS = ("Timestamp", "Value", "UnitsAbbreviation", "Good", "Questionable", "Substituted", "Annotated")
ALL_FIELDS = ITEM_FIELDS + ("Errors",)  # Errors only on the bad values a scenario declares
BAD = 8  # variant index of a system-state (or error) value
BAD_FIELD = 9  # an error value whose TimedValue lists its Errors


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def state_json(code: int, name: str, is_system: bool) -> str:
    return _json({"Name": name, "Value": int(code), "IsSystem": is_system})


_SYSTEM_JSON = {code: state_json(code, name, True) for code, name in SYSTEM.items()}


def system_state_json(code: int) -> str:
    found = _SYSTEM_JSON.get(int(code))
    return found if found is not None else state_json(code, f"State {code}", True)


class ValueFormat:
    """How one stream spells its values: point type, units, digital states, string vocabulary."""

    __slots__ = ("point_type", "static", "units", "digital", "vocabulary", "bad", "field_errors")

    def __init__(self, point_type: str, units: str = "", digital_states: dict[int, str] | None = None,
                 vocabulary: tuple[str, ...] = (), static: object = None, bad=None) -> None:
        self.point_type = point_type
        self.bad = bad  # a badvalues.BadValueRule, or None
        self.field_errors = bad.field_errors if bad is not None else ""
        self.static = static
        self.units = units
        self.digital = {code: state_json(code, name, False) for code, name in (digital_states or {}).items()}
        self.vocabulary = [_json(text) for text in vocabulary]

    def value_texts(self, values: Values) -> list[str]:
        """The JSON text of each value (numbers, digital-state objects, strings)."""
        n = len(values)
        if n == 0:
            return []
        kind = self.point_type
        if kind == "Static":
            texts = [_json(self.static)] * n
        elif kind == "Digital":
            codes = values.value.astype(np.int64).tolist()
            digital = self.digital
            texts = [digital.get(c) or state_json(c, f"State {c}", False) for c in codes]
        elif kind == "String":
            vocabulary = self.vocabulary or ['""']
            last = len(vocabulary) - 1
            texts = [vocabulary[min(i, last)] for i in values.value.astype(np.int64).tolist()]
        elif self.bad is not None and self.bad.array:
            texts = _array_texts(_numeric(kind, values.value), self.bad.array)
        else:
            # descending reads hand over reversed views: orjson serialises C-contiguous arrays only
            texts = orjson.dumps(np.ascontiguousarray(_numeric(kind, values.value)),
                                 option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1].split(",")
        bad = np.flatnonzero(values.state >= 0)
        if len(bad):
            for i, code in zip(bad.tolist(), values.state[bad].tolist()):
                texts[i] = system_state_json(code)
        if self.bad is not None:
            kinds = self.bad.kinds(values.ticks)
            replaced = self.bad.texts
            for i in np.flatnonzero((kinds >= 0) & (values.state < 0)).tolist():
                texts[i] = replaced[kinds[i]]
        return texts

    def variants(self, values: Values, variant: np.ndarray) -> np.ndarray:
        """`variant` (the quality tails of `values`) with the declared error values marked bad."""
        if self.bad is None:
            return variant
        kinds = self.bad.kinds(values.ticks)
        hit = (kinds >= 0) & (values.state < 0)
        if not hit.any():
            return variant
        return np.where(hit, np.where(kinds == 2, BAD_FIELD, BAD), variant)

    def scalar(self, values: Values, i: int) -> object:
        """One value as a Python object (for the few places that build dicts)."""
        return orjson.loads(self.value_texts(values.take(slice(i, i + 1)))[0])


def _numeric(kind: str, value: np.ndarray) -> np.ndarray:
    """Values as the point type prints them (Float32 as a Single, integers without a fraction)."""
    if kind in ("Int16", "Int32"):
        return value.astype(np.int64)
    if kind in ("Float32", "Float16"):
        return value.astype(np.float32)
    return value


def _array_texts(array: np.ndarray, length: int) -> list[str]:
    """An array-valued point: each value as the JSON array [v, v+1, ..., v+length-1]."""
    grid = np.ascontiguousarray(array.reshape(-1, 1) + np.arange(length, dtype=array.dtype))
    text = orjson.dumps(grid, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    return [f"[{row}]" for row in text[2:-2].split("],[")]


def _variants(units: str, fields: tuple[str, ...], field_errors: str = "") -> list[str]:
    """The text after the value for each quality variant (flags 0..7, bad, bad with its Errors)."""
    out = []
    for variant in range(10):
        bad = variant >= BAD
        flags = 0 if bad else variant
        parts = []
        if "UnitsAbbreviation" in fields:
            parts.append('"UnitsAbbreviation":' + _json("" if bad else units))
        if "Good" in fields:
            parts.append('"Good":' + ("false" if bad else "true"))
        if "Questionable" in fields:
            parts.append('"Questionable":' + ("true" if flags & QUESTIONABLE else "false"))
        if "Substituted" in fields:
            parts.append('"Substituted":' + ("true" if flags & SUBSTITUTED else "false"))
        if "Annotated" in fields:
            parts.append('"Annotated":' + ("true" if flags & ANNOTATED else "false"))
        if variant == BAD_FIELD and field_errors and "Errors" in fields:
            parts.append('"Errors":' + field_errors)
        out.append("".join("," + p for p in parts) + "}")
    return out


@functools.lru_cache(maxsize=1024)
def _tails(units: str, fields: tuple[str, ...], field_errors: str = "") -> tuple[np.ndarray, tuple[str, ...]]:
    """The quality tails (see `_variants`) with and without the "," that follows an item."""
    tails = tuple(_variants(units, fields, field_errors))
    with_comma = np.empty(len(tails), dtype=object)
    with_comma[:] = [t + "," for t in tails]
    return with_comma, tails


def item_pieces(values: Values, fmt: ValueFormat, fields: tuple[str, ...] = ALL_FIELDS) -> list[str]:
    """Strings whose concatenation is the items of a JSON array, "," included, brackets not.

    Three pieces per item (timestamp head, value text, quality tail): no per-item string is built,
    the caller joins everything once.
    """
    n = len(values)
    if n == 0:
        return []
    fields = tuple(f for f in ALL_FIELDS if f in fields)
    if "Timestamp" not in fields or "Value" not in fields:
        return [",".join(items(values, fmt, fields))]
    with_comma, tails = _tails(fmt.units, fields, fmt.field_errors)
    bad = values.state >= 0
    variant = fmt.variants(values, np.where(bad, BAD, values.flags) if bad.any() else values.flags)
    pieces: list = [None] * (3 * n)
    pieces[0::3] = pitime.format_times_prefixed(values.ticks, '{"Timestamp":"', '","Value":')
    pieces[1::3] = fmt.value_texts(values)
    pieces[2::3] = with_comma[variant].tolist()
    pieces[-1] = tails[int(variant[-1])]
    return pieces


_NUMERIC: dict[str, t.Any] = {"Int16": np.int64, "Int32": np.int64, "Float32": np.float32, "Float16": np.float32,
                              "Float64": np.float64}


def item_pieces_many(members: list[tuple[Values, ValueFormat]], fields: tuple[str, ...] = ALL_FIELDS
                     ) -> list[list[str]]:
    """`item_pieces` of many streams at once: one timestamp pass and one orjson call per numeric
    type for all of them, so a stream set of thousands of short streams costs per value."""
    fields = tuple(f for f in ALL_FIELDS if f in fields)
    sizes = [len(values) for values, _ in members]
    total = sum(sizes)
    if "Timestamp" not in fields or "Value" not in fields or total == 0:
        return [item_pieces(values, fmt, fields) for values, fmt in members]
    bounds = np.cumsum([0] + sizes)
    heads = pitime.format_times_prefixed(np.concatenate([v.ticks for v, _ in members]), '{"Timestamp":"',
                                         '","Value":')
    texts: list = [None] * total
    by_type: dict[t.Any, list[int]] = {}
    for i, (values, fmt) in enumerate(members):
        kind = _NUMERIC.get(fmt.point_type) if fmt.bad is None else None
        if kind is None:
            if sizes[i]:
                texts[bounds[i]:bounds[i + 1]] = fmt.value_texts(values)
        elif sizes[i]:
            by_type.setdefault(kind, []).append(i)
    for kind, chosen in by_type.items():
        array = np.concatenate([members[i][0].value for i in chosen]).astype(kind)
        dumped = orjson.dumps(array, option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1].split(",")
        at = 0
        for i in chosen:
            texts[bounds[i]:bounds[i + 1]] = dumped[at:at + sizes[i]]
            at += sizes[i]
    state = np.concatenate([v.state for v, _ in members])
    bad = state >= 0
    for i in np.flatnonzero(bad).tolist():
        texts[i] = system_state_json(int(state[i]))
    variant = np.where(bad, BAD, np.concatenate([v.flags for v, _ in members]))
    out: list[list] = []
    for i, (values, fmt) in enumerate(members):
        a, b = int(bounds[i]), int(bounds[i + 1])
        if a == b:
            out.append([])
            continue
        with_comma, tails = _tails(fmt.units, fields, fmt.field_errors)
        member_variant = fmt.variants(values, variant[a:b])
        pieces: list = [None] * (3 * (b - a))
        pieces[0::3] = heads[a:b]
        pieces[1::3] = texts[a:b]
        pieces[2::3] = with_comma[member_variant].tolist()
        pieces[-1] = tails[int(member_variant[-1])]
        out.append(pieces)
    return out


def envelope_parts(envelope: dict, selection, marker: str) -> tuple[str, str] | None:
    """The JSON text of `envelope` before and after the placeholder string `marker` (None when the
    selection dropped it): the large item lists go between, without splicing a copy."""
    from .params import select

    text = orjson.dumps(select(envelope, selection)).decode()
    quoted = orjson.dumps(marker).decode()
    index = text.find(quoted)
    if index < 0:
        return None
    return text[:index], text[index + len(quoted):]


def items(values: Values, fmt: ValueFormat, fields: tuple[str, ...] = ALL_FIELDS) -> list[str]:
    """One JSON object text per value, with the given TimedValue fields in PI's order."""
    n = len(values)
    if n == 0:
        return []
    fields = tuple(f for f in ALL_FIELDS if f in fields)
    tails = _tails(fmt.units, fields, fmt.field_errors)[1]
    variant = fmt.variants(values, np.where(values.state >= 0, BAD, values.flags)).tolist()
    has_time, has_value = "Timestamp" in fields, "Value" in fields
    if has_time and has_value:
        heads = pitime.format_times_prefixed(values.ticks, '{"Timestamp":"', '","Value":')
        texts = fmt.value_texts(values)
        return [h + v + tails[k] for h, v, k in zip(heads, texts, variant)]
    if has_time:
        heads = pitime.format_times_prefixed(values.ticks, '{"Timestamp":"', '"')
        return [h + tails[k] for h, k in zip(heads, variant)]
    if has_value:
        texts = fmt.value_texts(values)
        return ['{"Value":' + v + tails[k] for v, k in zip(texts, variant)]
    return ["{" + tails[k][1:] if len(tails[k]) > 1 else "{}" for k in variant]


def item_fields(selection) -> tuple[str, ...]:
    """The TimedValue fields a selection keeps (all without a selection)."""
    if selection is None:
        return ALL_FIELDS
    return tuple(f for f in ALL_FIELDS if selection.keeps(f))


def splice(envelope: dict, selection, lists: dict[str, str]) -> str:
    """JSON text of `envelope` where each placeholder string in `lists` is replaced by raw JSON.

    Lets a small dict (Links, WebId, Name...) be serialised by orjson while the large item lists,
    already text, are spliced in without re-parsing.
    """
    from .params import select

    text = orjson.dumps(select(envelope, selection)).decode()
    for marker, raw in lists.items():
        quoted = orjson.dumps(marker).decode()
        index = text.find(quoted)
        if index >= 0:
            text = text[:index] + raw + text[index + len(quoted):]
    return text


def timed_value(values: Values, fmt: ValueFormat, selection=None) -> str:
    """A single TimedValue object (value, end, summary values)."""
    texts = items(values.take(slice(0, 1)), fmt, item_fields(selection))
    return texts[0] if texts else "{}"
