"""connector.lakeflow.PIConnector, driven the way the Lakeflow framework drives a community connector:
read_table called again and again with the offset the previous call returned, until an offset comes
back unchanged. Against qa-tiny under gunicorn (fixed clock 2026-11-25T00:00:00Z), compared value by
value with the simulator's own archive."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import requests

from connector.jobs import reading
from connector.errors import PIRequestError
from connector.lakeflow import PIConnector
from connector.paging import RecordedReader
from connector.paging import parse_ns
from connector.tables import TABLES

from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for

pytestmark = pytest.mark.e2e

NOW = "2026-11-25T00:00:00Z"
START = "2026-11-24T20:00:00Z"
WINDOW_NS = 30 * 60 * 1_000_000_000
OFFERED = ["points", "recorded_values", "interpolated_values", "summary_values", "af_elements", "af_attributes",
           "event_frames"]
ROW = ["tag", "timestamp_ns", "ordinal", "value", "string_value", "digital_name", "digital_code", "is_system",
       "good", "questionable", "substituted", "annotated", "units"]


@pytest.fixture(scope="module")
def tiny():
    return simulator_for("qa-tiny")


@pytest.fixture(scope="module")
def truth(tiny):
    return expected_rows(tiny, parse_ns(START), parse_ns(NOW))


def connector(url: str, **options) -> PIConnector:
    """No lookback unless asked (the default, 10m, is tested on its own): windows that chain exactly."""
    return PIConnector({"url": url + "/piwebapi", "start": START, "window": "30m", "lookback": "0s", **options})


def as_tuples(records: list[dict]) -> list[tuple]:
    return [tuple(r[c] for c in ROW) for r in records]


def check_schema(table: str, records: list[dict]) -> None:
    """Every record has exactly the table's columns, and no null where the schema forbids one."""
    schema = TABLES[table].schema
    for record in records:
        assert list(record) == schema.names, table
        nulls = [f.name for f in schema if not f.nullable and record[f.name] is None]
        assert not nulls, f"{table}: null in non-null columns {nulls}: {record}"
    pa.Table.from_pylist(records, schema=schema)  # and Arrow accepts them as that schema


def chain(pi: PIConnector, table: str, offset, limit: int = 50):
    """Call read_table as the framework does; (records of each call, offsets returned, calls)."""
    batches, offsets = [], []
    for _ in range(limit):
        records, end = pi.read_table(table, offset, {})
        batches.append(list(records))
        offsets.append(end)
        if end == offset:
            return batches, offsets
        offset = end
    raise AssertionError(f"read_table({table!r}) did not stop after {limit} calls")


# ------------------------------------------------------------------------------------- interface


def test_list_tables(sim_url):
    assert connector(sim_url).list_tables() == OFFERED


def test_get_table_schema_is_the_tables_arrow_schema_as_a_struct_type(sim_url):
    from pyspark.sql.types import IntegerType
    from pyspark.sql.types import LongType
    from pyspark.sql.types import StructType
    from pyspark.sql.types import TimestampType

    pi = connector(sim_url)
    for name in OFFERED:
        schema = pi.get_table_schema(name, {})
        assert isinstance(schema, StructType)
        assert schema.fieldNames() == TABLES[name].schema.names
        assert [f.nullable for f in schema.fields] == [f.nullable for f in TABLES[name].schema]
    recorded = pi.get_table_schema("recorded_values", None)
    assert recorded["timestamp_ns"].dataType == LongType() and not recorded["timestamp_ns"].nullable
    assert recorded["ordinal"].dataType == IntegerType()
    assert recorded["timestamp"].dataType == TimestampType()


def test_unknown_and_internal_tables_are_refused(sim_url):
    pi = connector(sim_url)
    for name in ("nope", "_checkpoints", "run_log", "event_frame_attributes"):
        with pytest.raises(ValueError, match="this connector offers: points, recorded_values"):
            pi.get_table_schema(name, {})
        with pytest.raises(ValueError):
            pi.read_table(name, None, {})


def test_read_table_metadata(sim_url):
    pi = connector(sim_url)
    metadata = {name: pi.read_table_metadata(name, {}) for name in OFFERED}
    assert metadata == {
        # what exists in PI: re-reads sequenced by when they were read, keys gone from PI are deletes
        "points": {"primary_keys": ["web_id"], "ingestion_type": "cdc_with_deletes", "cursor_field": "ingested_at"},
        # values: a lookback re-read replaces what was read before under the same key (sequenced by when
        # it was read); recorded values PI removes come from Stream Updates
        "recorded_values": {"primary_keys": ["web_id", "timestamp_ns", "ordinal"], "ingestion_type": "cdc_with_deletes",
                            "cursor_field": "ingested_at"},
        "interpolated_values": {"primary_keys": ["web_id", "timestamp_ns"], "ingestion_type": "cdc",
                                "cursor_field": "ingested_at"},
        "summary_values": {"primary_keys": ["web_id", "summary_type", "calculation_basis", "duration", "start_ns"],
                           "ingestion_type": "cdc", "cursor_field": "ingested_at"},
        "af_elements": {"primary_keys": ["web_id"], "ingestion_type": "cdc_with_deletes",
                        "cursor_field": "ingested_at"},
        "af_attributes": {"primary_keys": ["web_id"], "ingestion_type": "cdc_with_deletes",
                          "cursor_field": "ingested_at"},
        # Lakeflow sequences CDC changes by the cursor field: a frame read open, then closed
        "event_frames": {"primary_keys": ["web_id"], "ingestion_type": "cdc", "cursor_field": "ingested_at"},
    }
    for name, meta in metadata.items():
        columns = TABLES[name].schema.names
        assert set(meta["primary_keys"]) <= set(columns)
        if meta["ingestion_type"] in ("cdc", "cdc_with_deletes"):
            assert meta["cursor_field"] in columns


# ------------------------------------------------------------------------------- recorded values


@pytest.fixture(scope="module")
def recorded_chain(simulator_server):
    simulator_server.reset()
    return chain(connector(simulator_server.url), "recorded_values", None)


def test_recorded_offsets_chain_without_gaps_or_repeats(recorded_chain, truth):
    batches, offsets = recorded_chain
    # 4 h from START to NOW in 30 min windows: 8 calls with data, then one that returns its start offset
    assert len(batches) == 9
    assert [o["end_ns"] for o in offsets] == [parse_ns(START) + WINDOW_NS * k for k in range(1, 9)] + [parse_ns(NOW)]
    assert batches[-1] == [] and offsets[-1] == offsets[-2]
    records = [r for batch in batches for r in batch]
    keys = [(r["web_id"], r["timestamp_ns"], r["ordinal"]) for r in records]
    assert len(set(keys)) == len(keys)
    assert sorted(as_tuples(records)) == truth
    assert len(records) == len(truth) > 50_000
    # each call's rows lie in its half-open window [previous offset, returned offset)
    previous = parse_ns(START)
    for batch, offset in zip(batches, offsets):
        assert all(previous <= r["timestamp_ns"] < offset["end_ns"] for r in batch)
        previous = offset["end_ns"]
    # what makes the comparison meaningful: duplicates, sub-second times, states and strings are there
    assert any(r["ordinal"] > 0 for r in records)
    assert any(r["timestamp_ns"] % 1_000_000_000 for r in records)
    states = {r["digital_name"] for r in records if r["digital_name"] and not r["is_system"]}
    assert len(states) >= 2 and states <= {"Off", "On", "Fault"}
    assert {r["string_value"] for r in records if r["string_value"]} <= {"Alpha", "Bravo", "Charlie", "Delta"}


def test_the_default_lookback_reads_the_last_10_minutes_again_and_the_keys_give_the_archive(sim_url, truth):
    pi = PIConnector({"url": sim_url + "/piwebapi", "start": START, "window": "30m"})
    batches, offsets = chain(pi, "recorded_values", {})
    assert len(batches) == 9 and all(o["origin_ns"] == parse_ns(START) for o in offsets)
    previous = parse_ns(START)
    for k, (batch, offset) in enumerate(zip(batches[:-1], offsets)):
        low = previous if k == 0 else previous - 600 * 10**9
        assert batch and min(r["timestamp_ns"] for r in batch) >= low and max(r["timestamp_ns"] for r in batch) < \
            offset["end_ns"]
        if k:
            assert any(r["timestamp_ns"] < previous for r in batch)  # the lookback was read again
        previous = offset["end_ns"]
    latest = {}
    for batch in batches:
        for r in batch:
            latest[(r["web_id"], r["timestamp_ns"], r["ordinal"])] = r
    assert sorted(as_tuples(list(latest.values()))) == truth  # upserted by key: the archive, once


def test_recorded_records_fit_the_schema(recorded_chain):
    batches, _ = recorded_chain
    check_schema("recorded_values", batches[0][:2000])
    assert {r["run_id"] for r in batches[0]} == {"lakeflow"}
    assert all(r["ingested_at"] > dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) for r in batches[0][:10])


def test_restarting_from_any_intermediate_offset_continues_exactly(recorded_chain, sim_url):
    batches, offsets = recorded_chain
    fresh = connector(sim_url)  # a new process picking up a checkpointed offset
    for k, offset in enumerate(offsets[:-2]):
        records, end = fresh.read_table("recorded_values", dict(offset), {})
        assert end == offsets[k + 1]
        assert as_tuples(list(records)) == as_tuples(batches[k + 1])


def test_a_restart_from_the_last_offset_finds_nothing_new(recorded_chain, sim_url):
    _, offsets = recorded_chain
    records, end = connector(sim_url).read_table("recorded_values", offsets[-1], {})
    assert list(records) == [] and end == offsets[-1]


def test_the_frameworks_initial_offset_is_an_empty_dict(recorded_chain, sim_url):
    # Lakeflow's stream reader starts from initialOffset() == {}, not None
    batches, offsets = recorded_chain
    records, end = connector(sim_url).read_table("recorded_values", {}, {})
    assert end == offsets[0]
    assert as_tuples(list(records)) == as_tuples(batches[0])
    frames, frames_end = connector(sim_url).read_table("event_frames", {}, {})
    assert [r["name"] for r in frames] == ["BATCH-003"] and frames_end["end_ns"] == parse_ns(NOW)


def test_a_start_after_now_returns_an_offset_that_stops_at_once(sim_url):
    pi = connector(sim_url, start="2026-11-26T00:00:00Z")
    records, end = pi.read_table("recorded_values", None, {})
    assert list(records) == []
    assert pi.read_table("recorded_values", end, {})[1] == end


def test_a_window_larger_than_the_rest_stops_at_now(sim_url, tiny):
    pi = connector(sim_url, start="2026-11-24T23:00:00Z", window="1d", tags="TINY.FLOAT32, TINY.STRING")
    batches, offsets = chain(pi, "recorded_values", None)
    assert [o["end_ns"] for o in offsets] == [parse_ns(NOW)] * 2
    expected = expected_rows(tiny, parse_ns("2026-11-24T23:00:00Z"), parse_ns(NOW), ["TINY.FLOAT32", "TINY.STRING"])
    assert sorted(as_tuples(batches[0])) == expected
    assert {r["tag"] for r in batches[0]} == {"TINY.FLOAT32", "TINY.STRING"}


def test_a_tag_whose_read_failed_stops_the_call_instead_of_skipping_its_data(sim_url, monkeypatch):
    class Failing(RecordedReader):
        def read(self, web_ids, start_ns, end_ns, max_count):
            reads = super().read(web_ids, start_ns, end_ns, max_count)
            reads[web_ids[0]].error = PIRequestError(f"tag {web_ids[0]}: HTTP 502: Bad Gateway", status=502)
            return reads

    monkeypatch.setattr(reading, "RecordedReader", Failing)
    pi = connector(sim_url)
    with pytest.raises(PIRequestError, match="502"):
        pi.read_table("recorded_values", {"end_ns": parse_ns(START)}, {})


def test_verify_option_keeps_a_ca_bundle_path(sim_url, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not read until a TLS handshake\n")
    assert connector(sim_url, verify="false").client.session.verify is False
    assert connector(sim_url, verify="No").client.session.verify is False
    assert connector(sim_url, verify="true").client.session.verify is True
    assert connector(sim_url).client.session.verify is True
    assert connector(sim_url, verify=str(bundle)).client.session.verify == str(bundle)


# ---------------------------------------------------------------------------------- event frames


def frames_by_name(records):
    return {r["name"]: r for r in records}


def test_event_frames_carry_the_open_frames_in_the_offset(sim_url):
    pi = connector(sim_url, start="2026-11-23T00:00:00Z")
    batches, offsets = chain(pi, "event_frames", None)
    assert len(batches) == 2 and batches[1] == [] and offsets[1] == offsets[0]
    frames = frames_by_name(batches[0])
    assert sorted(frames) == ["BATCH-001", "BATCH-002", "BATCH-003"]
    check_schema("event_frames", batches[0])
    assert frames["BATCH-003"]["is_open"] is True and frames["BATCH-003"]["end_time"] is None
    assert frames["BATCH-001"]["end_time"] == dt.datetime(2026, 11, 24, 5, 30, tzinfo=dt.timezone.utc)
    assert {r["database"] for r in batches[0]} == {"TinyDB"}
    assert offsets[0] == {"end_ns": parse_ns(NOW), "open": [frames["BATCH-003"]["web_id"]]}


def test_a_frame_the_offset_says_is_open_is_read_again_and_comes_back_closed(sim_url):
    pi = connector(sim_url, start="2026-11-23T00:00:00Z")
    frames = frames_by_name(list(pi.read_table("event_frames", None, {})[0]))
    # as if an earlier call had seen BATCH-002 open, with a search window that no longer overlaps it
    offset = {"end_ns": parse_ns(NOW), "open": sorted([frames["BATCH-002"]["web_id"], frames["BATCH-003"]["web_id"]])}
    records, end = pi.read_table("event_frames", offset, {})
    again = frames_by_name(list(records))
    assert sorted(again) == ["BATCH-002", "BATCH-003"]
    closed = again["BATCH-002"]
    assert closed["is_open"] is False
    assert closed["end_time"] == dt.datetime(2026, 11, 24, 14, tzinfo=dt.timezone.utc)
    assert closed["database"] == "TinyDB"
    check_schema("event_frames", list(again.values()))
    assert end == {"end_ns": parse_ns(NOW), "open": [frames["BATCH-003"]["web_id"]]}
    assert pi.read_table("event_frames", end, {})[1] == end


def test_event_frames_with_nothing_in_the_window(sim_url):
    pi = connector(sim_url, start="2026-11-25T00:00:00Z")
    records, end = pi.read_table("event_frames", {"end_ns": parse_ns(NOW), "open": []}, {})
    assert list(records) == [] and end == {"end_ns": parse_ns(NOW), "open": []}


# --------------------------------------------------------------------------------- points and AF


def test_points_come_whole_with_a_digest_offset(sim_url, tiny):
    records, offset = connector(sim_url).read_table("points", None, {})
    records = list(records)
    assert set(offset) == {"digest"}
    check_schema("points", records)
    expected = {p.name: p for server in tiny.catalog.data_servers for p in server.points}
    assert sorted(r["name"] for r in records) == sorted(expected)
    for r in records:
        entry = expected[r["name"]]
        assert r["web_id"] == entry.web_id("IDOnly")
        assert r["point_type"] == entry.point.point_type
        assert r["engineering_units"] == entry.point.engineering_units
        assert r["path"] == f"\\\\PISRV01\\{r['name']}"
    by_name = {r["name"]: r for r in records}
    assert by_name["TINY.DIGITAL"]["digital_set"] == "TinyState"
    assert by_name["TINY.STEP"]["step"] is True and by_name["TINY.FLOAT32"]["step"] is False


def test_a_tag_list_limits_the_points(sim_url):
    records, _ = connector(sim_url, tags="TINY.GAP,TINY.INT32").read_table("points", None, {})
    assert sorted(r["name"] for r in records) == ["TINY.GAP", "TINY.INT32"]


def test_af_tables_come_whole_with_a_digest_offset(sim_url, tiny):
    pi = connector(sim_url)
    elements, offset = pi.read_table("af_elements", None, {})
    elements = list(elements)
    assert set(offset) == {"digest"}
    check_schema("af_elements", elements)
    by_path = {e["path"]: e for e in elements}
    assert sorted(by_path) == ["\\\\PIAF01\\TinyDB\\Plant", "\\\\PIAF01\\TinyDB\\Plant\\Tank1",
                               "\\\\PIAF01\\TinyDB\\Plant\\Tank2"]
    plant = by_path["\\\\PIAF01\\TinyDB\\Plant"]
    tank = by_path["\\\\PIAF01\\TinyDB\\Plant\\Tank1"]
    assert (plant["depth"], plant["parent_web_id"], plant["template"], plant["has_children"]) == (0, None, None, True)
    assert (tank["depth"], tank["parent_web_id"], tank["template"], tank["categories"]) == (
        1, plant["web_id"], "Tank", ["Tank"])
    attributes, offset = pi.read_table("af_attributes", None, {})
    attributes = list(attributes)
    assert set(offset) == {"digest"}
    check_schema("af_attributes", attributes)
    by_path = {a["path"]: a for a in attributes}
    assert len(attributes) == 2 + 4 + 4
    pressure = by_path["\\\\PIAF01\\TinyDB\\Plant\\Tank2|Pressure"]
    assert (pressure["data_reference"], pressure["point_path"], pressure["is_static"], pressure["units"]) == (
        "PI Point", "\\\\PISRV01\\TINY.FLOAT64", False, "kPa")
    capacity = by_path["\\\\PIAF01\\TinyDB\\Plant\\Tank2|Capacity"]
    assert (capacity["data_reference"], capacity["point_path"], capacity["is_static"]) == (None, None, True)
    assert capacity["element_web_id"] == {e["path"]: e for e in elements}["\\\\PIAF01\\TinyDB\\Plant\\Tank2"]["web_id"]


def test_the_server_is_only_asked_over_loopback(sim_url):
    # a guard for this module: the options above never name another host
    assert sim_url.startswith("http://127.0.0.1:")
    assert requests.get(sim_url + "/health", timeout=5).status_code == 200
