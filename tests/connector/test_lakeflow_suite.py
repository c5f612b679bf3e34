"""Lakeflow's shared suite's checks (LakeflowConnectTests), written as our own tests since its package
is not installable here, run live against qa-tiny under gunicorn (clock pinned at 2026-11-25T00:00:00Z):
tables, schemas and metadata, read_table with the framework's offsets ({} and None first), offsets
never None and terminating, partitions that cover the window exactly once, and deletes."""
from __future__ import annotations

import json

import orjson
import pytest
from pyspark.sql.types import StructType

from connector.lakeflow import PIConnector
from connector.paging import parse_ns
from connector.plan import Part
from connector.tables import TABLES

from tests.connector.groundtruth import expected_rows
from tests.connector.test_lakeflow import ROW
from tests.connector.test_lakeflow import check_schema

pytestmark = pytest.mark.e2e

NOW = "2026-11-25T00:00:00Z"
START = "2026-11-24T18:00:00Z"
VALID = {"snapshot", "cdc", "cdc_with_deletes", "append"}
PARTITIONED = ["recorded_values", "interpolated_values", "summary_values"]


@pytest.fixture(scope="module")
def pi(simulator_server):
    simulator_server.reset()
    return PIConnector({"url": simulator_server.url + "/piwebapi", "start": START, "window": "2h",
                        "interval": "10m", "summaryDuration": "30m", "summaryType": "Average,Count"})


def test_tables_are_unique_strings(pi):
    tables = pi.list_tables()
    assert tables and len(set(tables)) == len(tables) and all(isinstance(t, str) for t in tables)


def test_an_unknown_table_raises_in_every_method(pi):
    for call in (lambda: pi.get_table_schema("__nope__", {}), lambda: pi.read_table_metadata("__nope__", {}),
                 lambda: pi.read_table("__nope__", {}, {}), lambda: pi.get_partitions("__nope__", {}),
                 lambda: pi.read_table_deletes("__nope__", {}, {})):
        with pytest.raises(ValueError, match="unknown table '__nope__'"):
            call()


@pytest.mark.parametrize("options", [None, {}])
def test_every_table_has_a_schema_and_valid_metadata(pi, options):
    for table in pi.list_tables():
        schema = pi.get_table_schema(table, options)
        assert isinstance(schema, StructType) and schema.fields
        assert len(set(schema.fieldNames())) == len(schema.fields)
        meta = pi.read_table_metadata(table, options)
        assert meta["ingestion_type"] in VALID, table
        assert meta["primary_keys"] and set(meta["primary_keys"]) <= set(schema.fieldNames()), table
        if meta["ingestion_type"] in ("cdc", "cdc_with_deletes"):
            assert meta["cursor_field"] in schema.fieldNames(), table
        assert pi.is_partitioned(table) == (table in PARTITIONED)


@pytest.mark.parametrize("first", [None, {}])
@pytest.mark.parametrize("options", [None, {}])
def test_read_table_gives_rows_that_fit_and_offsets_that_terminate(pi, first, options):
    for table in pi.list_tables():
        offset, calls, seen = first, 0, 0
        while True:
            records, end = pi.read_table(table, offset, options)
            records = list(records)
            assert isinstance(end, dict), f"{table}: offset {end!r}"
            json.dumps(end)
            check_schema(table, records)
            assert all(any(v is not None for v in r.values()) for r in records)
            seen += len(records)
            calls += 1
            if end == offset:
                break
            assert calls < 20, f"{table}: read_table did not stop"
            offset = end
        assert seen, f"{table}: nothing read"


def test_partitions_cover_the_window_once_and_read_the_archive(pi, simulator_server):
    from tests.connector.groundtruth import simulator_for

    parts = pi.get_partitions("recorded_values", {})
    json.dumps(parts)  # primitives only
    assert len(parts) == 3  # 6 h in 2 h windows, one group of tags
    decoded = [Part.from_dict(p) for p in parts]
    spans: dict[str, list[tuple[int, int]]] = {}
    for part in decoded:
        for web_id, _, _ in part.tags:
            spans.setdefault(web_id, []).append((part.start_ns, part.end_ns))
    for web_id, covered in spans.items():
        covered.sort()
        assert covered[0][0] == parse_ns(START) and covered[-1][1] == parse_ns(NOW)
        assert all(a[1] == b[0] for a, b in zip(covered, covered[1:])), web_id  # no gap, no overlap
    rows = [r for p in parts for r in pi.read_partition("recorded_values", p, {})]
    check_schema("recorded_values", rows)
    assert sorted(tuple(r[c] for c in ROW) for r in rows) == expected_rows(simulator_for("qa-tiny"), parse_ns(START),
                                                                           parse_ns(NOW))


@pytest.mark.parametrize("table", ["interpolated_values", "summary_values"])
def test_grid_partitions_read_what_read_table_reads(pi, table):
    parts = pi.get_partitions(table, {})
    rows = [r for p in parts for r in pi.read_partition(table, p, {})]
    chained, offset = [], {}
    while True:
        records, end = pi.read_table(table, offset, {})
        chained.extend(records)
        if end == offset:
            break
        offset = end
    keys = TABLES[table].primary_keys
    key = [tuple(r[k] for k in keys) for r in rows]
    assert len(key) == len(set(key))  # no overlap
    # the same rows; a time-weighted average may differ in its last bits with the call's window
    by_key = {tuple(r[k] for k in keys): r for r in chained}
    assert sorted(by_key) == sorted(key)
    for r in rows:
        other = by_key[tuple(r[k] for k in keys)]
        assert {k: v for k, v in r.items() if k not in ("ingested_at", "run_id", "value")} == \
            {k: v for k, v in other.items() if k not in ("ingested_at", "run_id", "value")}
        assert r["value"] == other["value"] or r["value"] == pytest.approx(other["value"], rel=1e-9, abs=1e-8)
    step = 600 if table == "interpolated_values" else 1800
    column = "timestamp_ns" if table == "interpolated_values" else "start_ns"
    instants = sorted({r[column] for r in rows})
    assert instants == list(range(parse_ns(START), parse_ns(NOW), step * 10**9))


def test_partitioned_stream_offsets(pi):
    latest = pi.latest_offset("recorded_values", {})
    assert latest == {"end_ns": parse_ns(NOW)}
    assert pi.get_partitions("recorded_values", {}, latest, latest) == []
    first = {"end_ns": parse_ns("2026-11-24T23:00:00Z")}
    parts = [Part.from_dict(p) for p in pi.get_partitions("recorded_values", {}, first, latest)]
    assert {(p.start_ns, p.end_ns) for p in parts} == {(first["end_ns"], latest["end_ns"])}
    # an offset that knows where the stream started re-reads the lookback (10m by default) before it
    first["origin_ns"] = parse_ns(START)
    assert pi.latest_offset("recorded_values", {}, first) == {**latest, "origin_ns": parse_ns(START)}
    parts = [Part.from_dict(p) for p in pi.get_partitions("recorded_values", {}, first, latest)]
    assert {(p.start_ns, p.end_ns) for p in parts} == {(parse_ns("2026-11-24T22:50:00Z"), latest["end_ns"])}
    assert pi.latest_offset("summary_values", {}) == {"end_ns": parse_ns(NOW)}  # whole 30 min steps
    with pytest.raises(ValueError, match="not read in partitions"):
        pi.get_partitions("points", {})


@pytest.mark.parametrize("table", ["points", "af_elements", "af_attributes"])
def test_deletes_are_the_keys_gone_since_the_offset(pi, table):
    assert pi.read_table_metadata(table, {})["ingestion_type"] == "cdc_with_deletes"
    records, offset = pi.read_table_deletes(table, {}, {})
    assert list(records) == [] and set(offset) == {"keys"}
    again, same = pi.read_table_deletes(table, offset, None)
    assert list(again) == [] and same == offset
    known = orjson.loads(offset["keys"])
    gone_offset = {"keys": orjson.dumps(sorted(known + ["GONE-WEBID"])).decode()}
    records, end = pi.read_table_deletes(table, gone_offset, {})
    records = list(records)
    assert [r["web_id"] for r in records] == ["GONE-WEBID"] and records[0]["ingested_at"] is not None
    assert end == offset
    with pytest.raises(ValueError, match="not a cdc_with_deletes table"):
        pi.read_table_deletes("interpolated_values", {}, {})


def test_recorded_deletes_register_first_then_stop_while_nothing_is_removed(pi):
    assert pi.read_table_metadata("recorded_values", {})["ingestion_type"] == "cdc_with_deletes"
    records, offset = pi.read_table_deletes("recorded_values", {}, {})
    assert list(records) == [] and set(offset) == {"markers", "issued_at"} and offset["markers"]
    json.dumps(offset)
    for _ in range(5):  # the first retrieval may bring the events since registration; then nothing moves
        again, same = pi.read_table_deletes("recorded_values", offset, None)
        assert list(again) == []  # the clock is pinned: nothing removed
        if same == offset:
            break
        offset = same
    assert same == offset, "the delete offsets never stopped moving"


def test_a_snapshot_read_again_unchanged_stops_and_a_changed_one_reads_again(pi):
    records, offset = pi.read_table("points", {}, {})
    assert list(records)
    again, same = pi.read_table("points", offset, {})
    assert list(again) == [] and same == offset
    changed, new = pi.read_table("points", {"digest": "other"}, {})
    assert list(changed) and new == offset


def test_table_options_override_the_connectors(pi):
    parts = pi.get_partitions("recorded_values", {"window": "3h", "tags": "TINY.FLOAT32"})
    assert len(parts) == 2 and all(json.loads(p["tags"])[0][1] == "TINY.FLOAT32" for p in parts)
