"""Tests of connector.sink.DeltaSink on real Delta tables under tmp_path (whole tables compared)."""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from connector.errors import IntegrityError
from connector.errors import SinkError
from connector.sink import DeltaSink
from connector.tables import Column
from connector.tables import Points
from connector.tables import RecordedValues
from connector.tables import RunLog
from connector.tables import Table

TS = pa.timestamp("us", tz="UTC")
BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
DAY_NS = 86_400 * 10**9
KEYS = list(RecordedValues.primary_keys)


def recorded(n_tags: int, per_tag: int, start_ns: int, step_ns: int, *, value: float = 1.0, ordinal: int = 0,
             run_id: str = "r1", first_tag: int = 0) -> pa.Table:
    """recorded_values rows: `per_tag` events `step_ns` apart for each of `n_tags` tags."""
    n = n_tags * per_tag
    web_ids = np.repeat(np.array([f"W{first_tag + i:05d}" for i in range(n_tags)], dtype=object), per_tag)
    ns = start_ns + np.tile(np.arange(per_tag, dtype=np.int64) * step_ns, n_tags)
    timestamp = pa.array(ns // 1000).cast(TS)
    columns = {field.name: pa.nulls(n, field.type) for field in RecordedValues.schema}
    columns.update(
        web_id=pa.array(web_ids, pa.string()), tag=pa.array(web_ids, pa.string()), timestamp=timestamp,
        timestamp_ns=pa.array(ns), ordinal=pa.array(np.full(n, ordinal, np.int32)),
        value=pa.array(np.full(n, value)), good=pa.array(np.ones(n, bool)), units=pa.array(["m3/h"] * n),
        date=timestamp.cast(pa.date32()), ingested_at=pa.array(np.full(n, BASE_NS // 1000)).cast(TS),
        run_id=pa.array([run_id] * n, pa.string()),
    )
    schema = RecordedValues.schema
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def ordered(table: pa.Table) -> pa.Table:
    """The rows sorted by the recorded_values key (Delta returns no particular order)."""
    return table.sort_by([(key, "ascending") for key in KEYS]).combine_chunks()


def assert_same(actual: pa.Table, expected: pa.Table) -> None:
    assert actual.schema.equals(expected.schema)
    assert ordered(actual).equals(ordered(expected))


@pytest.fixture
def sink(tmp_path) -> DeltaSink:
    return DeltaSink(tmp_path / "bronze")


def test_ensure_creates_once(sink: DeltaSink, tmp_path):
    assert not sink.exists(RecordedValues)
    assert sink.version(RecordedValues) is None
    assert sink.read(RecordedValues).equals(RecordedValues.empty())
    assert sink.count(RecordedValues) == 0
    assert sink.history(RecordedValues) == []
    assert sink.ensure(RecordedValues) == 0
    assert sink.ensure(RecordedValues) == 0
    assert DeltaSink(tmp_path / "bronze").ensure("recorded_values") == 0
    assert sink.exists(RecordedValues) and sink.version(RecordedValues) == 0
    assert sink.uri(RecordedValues) == str(tmp_path / "bronze" / "recorded_values")
    assert sink.read(RecordedValues).schema.equals(RecordedValues.schema)
    assert [entry["operation"] for entry in sink.history(RecordedValues)] == ["CREATE TABLE"]


class OldPoints(Table):
    """`points` as an older release declared it (a different schema under the same name)."""

    name = "points"
    primary_keys = ("web_id",)
    columns = (
        Column("web_id", pa.string(), "WebID."),
        Column("point_id", pa.int64(), "Id."),
        Column("retired", pa.bool_(), "Gone."),
    )


def test_ensure_reports_a_schema_mismatch_and_overwrites_nothing(sink: DeltaSink):
    sink.append(OldPoints, pa.Table.from_pylist([{"web_id": "P1", "point_id": 1, "retired": False}],
                                                 schema=OldPoints.schema))
    with pytest.raises(SinkError) as caught:
        DeltaSink(sink.root).ensure(Points)
    message = str(caught.value)
    assert message.startswith(f"table 'points' at {sink.uri(Points)} does not match its declaration: ")
    assert "missing columns ['server', 'name'," in message
    assert "unexpected columns ['retired']" in message
    assert "column 'point_id' is int64, expected int32" in message
    assert sink.version(Points) == 1
    assert sink.read(OldPoints).to_pylist() == [{"web_id": "P1", "point_id": 1, "retired": False}]


def test_append_then_read_equals(sink: DeltaSink, tmp_path):
    rows = recorded(3, 100, BASE_NS, 3600 * 10**9)  # 3 tags, 100 h: 5 dates
    assert sink.append(RecordedValues, rows) == 1
    assert_same(sink.read(RecordedValues), rows)
    assert sink.count(RecordedValues) == 300
    folders = sorted(path.name for path in (tmp_path / "bronze" / "recorded_values").glob("date=*"))
    assert folders == [f"date=2026-01-0{day}" for day in range(1, 6)]
    filtered = sink.read(RecordedValues, columns=["web_id", "timestamp_ns", "ordinal"],
                         filter_expr=pc.field("web_id") == "W00001")
    assert filtered.schema.names == KEYS
    assert_same(filtered, rows.filter(pc.field("web_id") == "W00001").select(KEYS))
    by_sql = sink.read(RecordedValues, filter_expr="web_id = 'W00002' AND timestamp_ns >= 0")
    assert_same(by_sql, rows.filter(pc.field("web_id") == "W00002"))


def test_append_accepts_batches_and_readers(sink: DeltaSink):
    rows = recorded(2, 50, BASE_NS, 10**9)
    first, second = rows.slice(0, 50), rows.slice(50)
    assert sink.append(RecordedValues, first.to_batches()) == 1
    reader = pa.RecordBatchReader.from_batches(rows.schema, second.to_batches())
    assert sink.append(RecordedValues, reader) == 2
    assert_same(sink.read(RecordedValues), rows)


def test_append_of_nothing_commits_nothing(sink: DeltaSink):
    assert sink.append(RecordedValues, RecordedValues.empty()) == 0
    assert sink.append(RecordedValues, []) == 0
    assert sink.merge(RecordedValues, RecordedValues.empty()) == 0
    assert sink.version(RecordedValues) == 0


def test_append_rejects_a_wrong_batch_before_writing(sink: DeltaSink):
    rows = recorded(1, 10, BASE_NS, 10**9)
    with pytest.raises(IntegrityError, match="column 'ordinal' is int64, expected int32"):
        sink.append(RecordedValues, rows.set_column(4, "ordinal", pa.array(np.zeros(10, np.int64))))
    bad = pa.Table.from_arrays([pa.array([None] * 10, pa.string()), *rows.columns[1:]], schema=rows.schema)
    reader = pa.RecordBatchReader.from_batches(rows.schema, [*rows.to_batches(), *bad.to_batches()])
    with pytest.raises(IntegrityError, match="column 'web_id' is non-null but holds 10 null"):
        sink.append(RecordedValues, reader)
    with pytest.raises(IntegrityError, match="repeat a key already in the same write"):
        sink.append(RecordedValues, pa.concat_tables([rows, rows.slice(3, 1)]))
    assert sink.version(RecordedValues) in (None, 0)
    assert sink.count(RecordedValues) == 0


def test_merge_upserts(sink: DeltaSink):
    base = recorded(2, 48, BASE_NS, 3600 * 10**9)  # 2 tags x 48 h: dates 1 and 2
    sink.append(RecordedValues, base)
    # 12 old and 12 new hours per tag
    changed = recorded(2, 24, BASE_NS + 36 * 3600 * 10**9, 3600 * 10**9, value=2.0, run_id="r2")
    assert sink.merge(RecordedValues, changed) == 2
    kept = base.filter(pc.field("timestamp_ns") < BASE_NS + 36 * 3600 * 10**9)
    assert_same(sink.read(RecordedValues), pa.concat_tables([kept, changed]))
    metrics = sink.history(RecordedValues, 1)[0]["operationMetrics"]
    assert (metrics["num_target_rows_updated"], metrics["num_target_rows_inserted"]) == (24, 24)


def test_merge_deletes_the_given_keys_in_the_same_commit(sink: DeltaSink):
    base = recorded(2, 48, BASE_NS, 3600 * 10**9)  # 2 tags x 48 h: dates 1 and 2
    sink.append(RecordedValues, base)
    at = pc.field("timestamp_ns")
    doomed = base.filter((at >= BASE_NS + 40 * 3600 * 10**9) & (at < BASE_NS + 42 * 3600 * 10**9))  # 2 h x 2 tags
    changed = recorded(2, 12, BASE_NS + 44 * 3600 * 10**9, 3600 * 10**9, value=2.0, run_id="r2")  # 4 old, 8 new
    assert sink.merge(RecordedValues, changed, delete=doomed) == 2
    kept = base.filter((at < BASE_NS + 40 * 3600 * 10**9) | ((at >= BASE_NS + 42 * 3600 * 10**9)
                                                            & (at < BASE_NS + 44 * 3600 * 10**9)))
    assert_same(sink.read(RecordedValues), pa.concat_tables([kept, changed]))
    metrics = sink.history(RecordedValues, 1)[0]["operationMetrics"]
    assert (metrics["num_target_rows_deleted"], metrics["num_target_rows_updated"],
            metrics["num_target_rows_inserted"]) == (4, 8, 16)
    assert "__pi_connector_delete" not in sink.read(RecordedValues).schema.names


def test_merge_refuses_a_key_both_written_and_deleted(sink: DeltaSink):
    base = recorded(1, 5, BASE_NS, 10**9)
    sink.append(RecordedValues, base)
    with pytest.raises(IntegrityError):
        sink.merge(RecordedValues, base.slice(0, 2), delete=base.slice(1, 2))
    assert sink.version(RecordedValues) == 1


def test_merge_of_deletes_alone(sink: DeltaSink):
    base = recorded(1, 5, BASE_NS, 10**9)
    sink.append(RecordedValues, base)
    assert sink.merge(RecordedValues, base.schema.empty_table(), delete=base.slice(1, 2)) == 2
    assert_same(sink.read(RecordedValues), pa.concat_tables([base.slice(0, 1), base.slice(3)]))


def test_merge_insert_only_leaves_existing_rows_untouched(sink: DeltaSink):
    base = recorded(2, 10, BASE_NS, 10**9)
    sink.append(RecordedValues, base)
    again = recorded(2, 15, BASE_NS, 10**9, value=9.0, run_id="r2")  # 10 existing keys + 5 new per tag
    assert sink.merge(RecordedValues, again, insert_only=True) == 2
    new = again.filter(pc.field("timestamp_ns") >= BASE_NS + 10 * 10**9)
    assert_same(sink.read(RecordedValues), pa.concat_tables([base, new]))


def test_merge_rejects_duplicate_source_keys(sink: DeltaSink):
    sink.append(RecordedValues, recorded(1, 5, BASE_NS, 10**9))
    rows = recorded(2, 5, BASE_NS, 10**9)
    duplicated = pa.concat_tables([rows, rows.slice(6, 2)])
    with pytest.raises(IntegrityError) as caught:
        sink.merge(RecordedValues, duplicated)
    message = str(caught.value)
    assert message.startswith("2 row(s) of table 'recorded_values' repeat a key already in the same write")
    assert f"{{'web_id': 'W00001', 'timestamp_ns': {BASE_NS + 10**9}, 'ordinal': 0}}" in message
    assert sink.version(RecordedValues) == 1


def test_merge_with_update_expressions(sink: DeltaSink):
    sink.append(RecordedValues, recorded(1, 3, BASE_NS, 10**9, value=5.0))
    update = {"value": "CASE WHEN s.value > t.value THEN s.value ELSE t.value END"}
    sink.merge(RecordedValues, recorded(1, 4, BASE_NS, 10**9, value=3.0, run_id="r2"), update=update)
    result = ordered(sink.read(RecordedValues))
    assert result.column("value").to_pylist() == [5.0, 5.0, 5.0, 3.0]
    assert result.column("run_id").to_pylist() == ["r2"] * 4
    with pytest.raises(SinkError, match=r"update names unknown columns \['nope'\]"):
        sink.merge(RecordedValues, recorded(1, 1, BASE_NS, 10**9), update={"nope": "1"})


def test_deltalake_errors_name_the_table_and_operation(sink: DeltaSink):
    sink.append(RecordedValues, recorded(1, 3, BASE_NS, 10**9))
    with pytest.raises(SinkError) as caught:
        sink.merge(RecordedValues, recorded(1, 3, BASE_NS, 10**9), update={"value": "s.no_such_column"})
    where = f"merge into table 'recorded_values' at {sink.uri(RecordedValues)}"
    assert str(caught.value).startswith(f"{where} failed: ")
    assert caught.value.__cause__ is not None
    with pytest.raises(SinkError, match=r"^read table 'recorded_values' at .* failed: "):
        sink.read(RecordedValues, filter_expr="no_such_column = 1")


def test_versions_and_custom_metadata_in_history(sink: DeltaSink):
    assert sink.ensure(RecordedValues) == 0
    rows = recorded(1, 5, BASE_NS, 10**9)
    assert sink.append(RecordedValues, rows, metadata={"pi_connector.run_id": "r1"}) == 1
    assert sink.merge(RecordedValues, recorded(1, 5, BASE_NS, 10**9), metadata={"pi_connector.run_id": "r2",
                                                                                  "windows": 3}) == 2
    assert sink.version(RecordedValues) == 2
    history = sink.history(RecordedValues)
    assert [(entry["version"], entry["operation"]) for entry in history] == [
        (2, "MERGE"), (1, "WRITE"), (0, "CREATE TABLE"),
    ]
    assert history[0]["pi_connector.run_id"] == "r2" and history[0]["windows"] == 3
    assert history[1]["pi_connector.run_id"] == "r1"
    assert len(sink.history(RecordedValues, limit=1)) == 1


def test_delete_and_compact(sink: DeltaSink):
    for hour in range(3):
        sink.append(RecordedValues, recorded(1, 10, BASE_NS + hour * 3600 * 10**9, 10**9))
    assert sink.delete(RecordedValues, "timestamp_ns < {}".format(BASE_NS + 3600 * 10**9)) == 4
    assert sink.count(RecordedValues) == 20
    before = sink.read(RecordedValues)
    assert sink.compact(RecordedValues) == 5
    assert sink.history(RecordedValues, 1)[0]["operation"] == "OPTIMIZE"
    assert_same(sink.read(RecordedValues), before)
    assert sink.delete(RunLog, "seq = 1") == -1


def test_a_file_uri_works(tmp_path):
    sink = DeltaSink(f"file://{tmp_path}/x")
    assert sink.uri(RecordedValues) == f"file://{tmp_path}/x/recorded_values"
    rows = recorded(1, 10, BASE_NS, 10**9)
    assert sink.append(RecordedValues, rows) == 1
    assert sink.merge(RecordedValues, recorded(1, 10, BASE_NS, 10**9, value=2.0)) == 2
    assert_same(sink.read(RecordedValues), recorded(1, 10, BASE_NS, 10**9, value=2.0))
    assert (tmp_path / "x" / "recorded_values" / "_delta_log").is_dir()
    assert_same(DeltaSink(tmp_path / "x").read(RecordedValues), recorded(1, 10, BASE_NS, 10**9, value=2.0))


@pytest.mark.slow
def test_measure_append_and_merge(tmp_path):
    """Prints timings and deltalake's metrics (see them with -s); asserts only the outcomes."""
    sink = DeltaSink(tmp_path / "bench")
    step = 86_400 * 10**9 // 1000  # 1000 events per tag per day
    big = recorded(100, 10_000, BASE_NS, step)  # 1,000,000 rows: 100 tags x 10 days

    def timed(label: str, action):
        start = time.perf_counter()
        result = action()
        metrics = sink.history(RecordedValues, 1)[0]["operationMetrics"]
        print(f"\n{label}: {time.perf_counter() - start:.2f} s; {metrics}")
        return result

    timed("append 1,000,000 rows (10 dates)", lambda: sink.append(RecordedValues, big))
    matching = recorded(100, 500, BASE_NS + 10 * DAY_NS - 500 * step, step, value=2.0)  # last 500 per tag
    fresh = recorded(100, 500, BASE_NS + 10 * DAY_NS, step, value=3.0)  # the next 500 per tag
    timed("merge 100,000 rows, half matching (latest date + a new one)",
          lambda: sink.merge(RecordedValues, pa.concat_tables([matching, fresh])))
    spread = recorded(100, 1_000, BASE_NS, step * 10, value=4.0)  # every 10th event of all 10 dates
    timed("merge 100,000 rows, all matching, spread over all 10 dates",
          lambda: sink.merge(RecordedValues, spread))
    later = recorded(100, 1_000, BASE_NS + 12 * DAY_NS, step)
    timed("merge insert_only 100,000 rows, 0 matches (new dates)",
          lambda: sink.merge(RecordedValues, later, insert_only=True))
    between = recorded(100, 1_000, BASE_NS + step // 2, step * 10)
    timed("merge insert_only 100,000 rows, 0 matches, between existing keys of all 10 dates",
          lambda: sink.merge(RecordedValues, between, insert_only=True))
    assert sink.count(RecordedValues) == 1_000_000 + 50_000 + 100_000 + 100_000


def test_a_table_written_before_the_errors_column_gets_it_added_and_keeps_its_rows(tmp_path):
    from deltalake import DeltaTable
    from deltalake import write_deltalake

    from connector.tables import RecordedValues

    sink = DeltaSink(str(tmp_path))
    old = pa.schema([f for f in RecordedValues.schema if f.name != "errors"])
    row = {f.name: None for f in old}
    row.update(web_id="W", tag="T", timestamp=dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc),
               timestamp_ns=1_795_478_400_000_000_000, ordinal=0, value=1.5, date=dt.date(2026, 11, 24),
               ingested_at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc), run_id="old")
    DeltaTable.create(sink.uri(RecordedValues), old, partition_by=["date"])
    write_deltalake(sink.uri(RecordedValues), pa.Table.from_pylist([row], schema=old), mode="append")
    sink.ensure(RecordedValues)
    back = sink.read(RecordedValues)
    assert back.schema.names[-1] == "errors"
    assert back.column("value").to_pylist() == [1.5] and back.column("errors").to_pylist() == [None]
