"""Tests of connector.state.Checkpoints on real Delta tables under tmp_path."""
from __future__ import annotations

import logging

import pyarrow as pa
import pytest

from connector.errors import IntegrityError
from connector.sink import DeltaSink
from connector.state import Checkpoints
from connector.state import Cursor
from connector.tables import CheckpointsTable
from connector.tables import Points
from connector.tables import RunLog


def log_rows(run_id: str, *seqs: int) -> pa.Table:
    rows = [{"run_id": run_id, "seq": seq, "at": 0, "level": "INFO", "event": "window"} for seq in seqs]
    return pa.Table.from_pylist(rows, schema=RunLog.schema)


@pytest.fixture
def sink(tmp_path) -> DeltaSink:
    return DeltaSink(tmp_path / "bronze")


@pytest.fixture
def checkpoints(sink: DeltaSink) -> Checkpoints:
    return Checkpoints(sink)


def test_load_before_any_commit_is_empty(checkpoints: Checkpoints, sink: DeltaSink):
    assert checkpoints.load("recorded_values") == {}
    assert not sink.exists(CheckpointsTable)


def test_commit_load_round_trip(checkpoints: Checkpoints, sink: DeltaSink):
    assert checkpoints.commit("recorded_values", {"W1": 100, "W2": 200}, 3, "run-1") == {}
    assert checkpoints.commit("interpolated_values", {"W1": 7}, 1, "run-1") == {}
    assert checkpoints.load("recorded_values") == {"W1": Cursor(100, 3), "W2": Cursor(200, 3)}
    assert checkpoints.load("interpolated_values") == {"W1": Cursor(7, 1)}
    assert checkpoints.commit("recorded_values", {"W2": 300, "W3": 50}, 4, "run-2") == {}
    expected = {"W1": Cursor(100, 3), "W2": Cursor(300, 4), "W3": Cursor(50, 4)}
    assert checkpoints.load("recorded_values") == expected
    rows = sink.read(CheckpointsTable).sort_by([("table_name", "ascending"), ("key", "ascending")])
    assert rows.select(["table_name", "key", "run_id"]).to_pylist() == [
        {"table_name": "interpolated_values", "key": "W1", "run_id": "run-1"},
        {"table_name": "recorded_values", "key": "W1", "run_id": "run-1"},
        {"table_name": "recorded_values", "key": "W2", "run_id": "run-2"},
        {"table_name": "recorded_values", "key": "W3", "run_id": "run-2"},
    ]
    assert rows.column("updated_at").null_count == 0
    assert sink.history(CheckpointsTable, 1)[0]["pi_connector.table"] == "recorded_values"


def test_cursors_only_move_forward(checkpoints: Checkpoints, caplog):
    checkpoints.commit("recorded_values", {"W1": 100, "W2": 200}, 3, "run-1")
    with caplog.at_level(logging.WARNING, logger="connector.state"):
        kept = checkpoints.commit("recorded_values", {"W1": 50, "W2": 250}, 5, "run-2")
    assert kept == {"W1": Cursor(100, 3)}
    assert "1 cursor(s) older than the stored ones were not moved back ('W1': 50 < 100)" in caplog.text
    assert checkpoints.load("recorded_values") == {"W1": Cursor(100, 5), "W2": Cursor(250, 5)}
    assert checkpoints.commit("recorded_values", {"W1": 100}, 6, "run-3") == {}  # equal is not older
    assert checkpoints.load("recorded_values")["W1"] == Cursor(100, 6)


def test_an_older_data_version_does_not_win(checkpoints: Checkpoints):
    checkpoints.commit("recorded_values", {"W1": 100}, 9, "run-1")
    checkpoints.commit("recorded_values", {"W1": 200}, 4, "run-0")
    assert checkpoints.load("recorded_values") == {"W1": Cursor(200, 9)}


def test_is_dirty_follows_data_commits(checkpoints: Checkpoints, sink: DeltaSink):
    assert not checkpoints.is_dirty(RunLog)  # no data table
    sink.ensure(RunLog)
    assert not checkpoints.is_dirty(RunLog)  # created, but no rows yet
    version = sink.append(RunLog, log_rows("r1", 0, 1))
    assert checkpoints.is_dirty("run_log")  # data without any checkpoint
    checkpoints.commit("run_log", {"r1": 1}, version, "r1")
    assert not checkpoints.is_dirty("run_log")
    version = sink.append(RunLog, log_rows("r1", 2))
    assert checkpoints.is_dirty("run_log")  # a crash between the data commit and its checkpoint
    checkpoints.commit("run_log", {"r1": 2}, version, "r1")
    assert not checkpoints.is_dirty("run_log")
    sink.compact(RunLog)
    assert sink.history(RunLog, 1)[0]["operation"] == "OPTIMIZE"
    assert not checkpoints.is_dirty("run_log")  # compaction adds no rows
    sink.merge(RunLog, log_rows("r2", 0))
    assert checkpoints.is_dirty("run_log")


def test_checkpoints_of_one_table_do_not_clean_another(checkpoints: Checkpoints, sink: DeltaSink):
    sink.append(RunLog, log_rows("r1", 0))
    point = pa.Table.from_pylist([{"web_id": "P1", "ingested_at": 0, "run_id": "r1"}], schema=Points.schema)
    version = sink.append(Points, point)
    checkpoints.commit("points", {"*": 0}, version, "r1")
    assert not checkpoints.is_dirty(Points)
    assert checkpoints.is_dirty(RunLog)


def test_clear_forgets_one_table(checkpoints: Checkpoints, sink: DeltaSink):
    sink.append(RunLog, log_rows("r1", 0))
    checkpoints.commit("run_log", {"r1": 0}, 1, "r1")
    checkpoints.commit("recorded_values", {"W1": 10}, 2, "r1")
    checkpoints.clear("run_log")
    assert checkpoints.load("run_log") == {}
    assert checkpoints.load("recorded_values") == {"W1": Cursor(10, 2)}
    assert checkpoints.is_dirty("run_log")


@pytest.mark.parametrize(
    ("cursors", "data_version", "run_id", "message"),
    [
        ({"W1": 1.5}, 1, "r", "cursor 1.5 of key 'W1' is not an int of nanoseconds"),
        ({"W1": True}, 1, "r", "cursor True of key 'W1' is not an int"),
        ({"W0": 5, "W1": 2**64}, 1, "r", f"cursor {2**64} of key 'W1' is not an int of nanoseconds"),
        ({1: 1}, 1, "r", "key 1 is not a string"),
        ({"W1": 1}, -1, "r", "data_version -1 is not a Delta version"),
        ({"W1": 1}, 1, "", "run_id '' is not a non-empty string"),
    ],
)
def test_commit_rejects_bad_values(checkpoints: Checkpoints, cursors, data_version, run_id, message):
    with pytest.raises(IntegrityError) as caught:
        checkpoints.commit("recorded_values", cursors, data_version, run_id)
    assert str(caught.value).startswith(f"checkpoint commit for table 'recorded_values': {message}")
    assert checkpoints.load("recorded_values") == {}


def test_unknown_table_names_are_refused(checkpoints: Checkpoints):
    with pytest.raises(KeyError, match="unknown table 'recorded'"):
        checkpoints.commit("recorded", {"W1": 1}, 1, "r")
