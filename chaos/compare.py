"""chaos.compare: the bronze recorded_values table against the archive's ground truth, key by key."""
from __future__ import annotations

import collections
import dataclasses

#: the columns compared; the key is the first three
COLUMNS = ("tag", "timestamp_ns", "ordinal", "value", "string_value", "digital_name", "digital_code", "is_system",
           "good", "questionable", "substituted", "annotated", "units", "errors")
KEY = 3


@dataclasses.dataclass
class Comparison:
    """What a table holds against what the archive holds."""

    expected: int = 0
    rows: int = 0
    lost: int = 0          # in the archive, not in the table
    duplicated: int = 0    # the same key more than once in the table
    stale: int = 0         # in both, with other values (an edit not followed)
    kept_deleted: int = 0  # in the table, no longer in the archive (a deletion not followed)
    examples: list[str] = dataclasses.field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.lost or self.duplicated or self.stale or self.kept_deleted)


def compare(truth: list[tuple], table: list[tuple], *, examples: int = 5) -> Comparison:
    """Compare rows shaped like COLUMNS (from the archive, from the table)."""
    result = Comparison(expected=len(truth), rows=len(table))
    expected = {row[:KEY]: row[KEY:] for row in truth}
    counts = collections.Counter(row[:KEY] for row in table)
    held = {row[:KEY]: row[KEY:] for row in table}
    result.duplicated = sum(n - 1 for n in counts.values())

    def note(kind: str, key: tuple, detail: str = "") -> None:
        if len(result.examples) < examples:
            result.examples.append(f"{kind} {key[0]} @ {key[1]} #{key[2]} {detail}".rstrip())

    for key, values in expected.items():
        got = held.get(key)
        if got is None:
            result.lost += 1
            note("lost", key)
        elif not same(got, values):
            result.stale += 1
            note("stale", key, f"table {got[:2]} archive {values[:2]}")
    for key in held.keys() - expected.keys():
        result.kept_deleted += 1
        note("kept-deleted", key)
    return result


def same(got: tuple, want: tuple) -> bool:
    """Equal, with float values compared as the float32/float64 round trip the wire gives."""
    for a, b in zip(got, want):
        if isinstance(a, float) and isinstance(b, float):
            if a != b and abs(a - b) > 1e-9 * max(1.0, abs(b)):
                return False
        elif a != b:
            return False
    return True
