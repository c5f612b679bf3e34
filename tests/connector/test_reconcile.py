"""connector.jobs.reconcile: what a window read again changes in the table."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from connector.jobs.reconcile import disjoint
from connector.jobs.reconcile import reconcile
from connector.sink import DeltaSink
from connector.tables import RecordedValues

from tests.connector.test_sink import BASE_NS
from tests.connector.test_sink import recorded

HOUR = 3600 * 10**9
AT, TAG = pc.field("timestamp_ns"), pc.field("web_id")


@pytest.mark.parametrize(("spans", "expected"), [
    ([], []),
    ([(5, 10), (1, 3), (2, 6)], [(1, 10)]),
    ([(1, 2), (2, 3), (10, 11)], [(1, 3), (10, 11)]),
])
def test_disjoint_spans(spans, expected):
    assert disjoint(spans) == expected


def keys(table: pa.Table) -> list[tuple]:
    return sorted((r["web_id"], r["timestamp_ns"]) for r in table.select(["web_id", "timestamp_ns"]).to_pylist())


@pytest.fixture
def held(tmp_path):
    sink = DeltaSink(tmp_path)
    table = recorded(3, 72, BASE_NS, HOUR)  # W00000..W00002, hourly over 3 days
    sink.append(RecordedValues, table)
    return sink, table


# W00000 read again over hours 2-5 of day 1, W00001 over hours 60-63 of day 3; W00002 not at all
REREAD = {"W00000": (BASE_NS + 2 * HOUR, BASE_NS + 6 * HOUR), "W00001": (BASE_NS + 60 * HOUR, BASE_NS + 64 * HOUR)}


def window(table: pa.Table) -> pa.Table:
    return table.filter(((TAG == "W00000") & (AT >= BASE_NS + 2 * HOUR) & (AT < BASE_NS + 6 * HOUR))
                        | ((TAG == "W00001") & (AT >= BASE_NS + 60 * HOUR) & (AT < BASE_NS + 64 * HOUR)))


def test_an_unchanged_read_changes_nothing(held):
    sink, table = held
    again = recorded(3, 72, BASE_NS, HOUR, run_id="r2")  # same values, another run
    changes = reconcile(sink, RecordedValues, window(again), REREAD)
    assert (changes.insert.num_rows, changes.update.num_rows, changes.delete.num_rows) == (0, 0, 0)


def test_new_changed_and_gone_rows_are_told_apart(held):
    sink, table = held
    again = window(table)
    gone = again.filter((AT == BASE_NS + 3 * HOUR) | (AT == BASE_NS + 63 * HOUR))
    again = again.filter((AT != BASE_NS + 3 * HOUR) & (AT != BASE_NS + 63 * HOUR))
    edited = again.filter(AT == BASE_NS + 4 * HOUR)
    edited = edited.set_column(edited.schema.get_field_index("value"), "value", pa.array([42.0]))
    edited = edited.set_column(edited.schema.get_field_index("digital_name"), "digital_name", pa.array(["x"]))
    late = recorded(1, 1, BASE_NS + 2 * HOUR + 30 * 60 * 10**9, HOUR)  # W00000 at 02:30, not held
    rows = pa.concat_tables([again.filter(AT != BASE_NS + 4 * HOUR), edited.cast(table.schema), late])
    changes = reconcile(sink, RecordedValues, rows, REREAD)
    assert keys(changes.insert) == keys(late)
    assert keys(changes.update) == [("W00000", BASE_NS + 4 * HOUR)]
    assert changes.update.column("value").to_pylist() == [42.0]
    assert keys(changes.delete) == keys(gone)
    for part in (changes.insert, changes.update, changes.delete):
        assert part.schema.equals(RecordedValues.schema)


def test_nothing_held_or_nothing_reread_means_everything_is_new(held, tmp_path):
    sink, table = held
    rows = window(table)
    assert reconcile(sink, RecordedValues, rows, {}).insert.num_rows == rows.num_rows
    empty = DeltaSink(tmp_path / "empty")
    assert reconcile(empty, RecordedValues, rows, REREAD).insert.num_rows == rows.num_rows
