"""spark.read.format("pi") against qa-tiny under gunicorn (clock pinned at 2026-11-25T00:00:00Z), compared
value by value with the simulator's archive, with several partition sizes on local[4]."""
from __future__ import annotations

import pytest

from connector.paging import parse_ns
from connector.tables import TABLES

from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for
from tests.connector.test_lakeflow import ROW

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

NOW = "2026-11-25T00:00:00Z"
START = "2026-11-24T22:00:00Z"  # 2 h: ~35,000 events of 8 tags


@pytest.fixture(scope="module")
def truth():
    return expected_rows(simulator_for("qa-tiny"), parse_ns(START), parse_ns(NOW))


def read(spark, url: str, **options):
    reader = spark.read.format("pi").option("url", url + "/piwebapi")
    for name, value in options.items():
        reader = reader.option(name, value)
    return reader.load()


def rows_of(df) -> list[tuple]:
    """The rows as the groundtruth tuples (through Arrow: collecting Row objects is slow)."""
    table = df.select(*ROW).toArrow()
    return sorted(zip(*(table.column(c).to_pylist() for c in ROW)))


@pytest.mark.parametrize("layout, partitions", [
    ({"partitionWindow": "2h"}, 1),  # one call per tag group
    ({"partitionWindow": "20m"}, 6),
    ({"partitionWindow": "9m", "tagsPerPartition": "3", "maxCount": "97"}, None),  # many parts, paged inside
])
def test_a_batch_read_is_the_archive_value_by_value(spark, simulator_server, truth, layout, partitions):
    df = read(spark, simulator_server.url, start=START, end=NOW, **layout)
    if partitions is not None:
        assert df.rdd.getNumPartitions() == partitions
    else:
        assert df.rdd.getNumPartitions() > 20
    got = rows_of(df)
    assert len(got) == len(truth) and got == truth
    # what makes the comparison meaningful: same-timestamp runs, sub-second times, states and strings
    assert any(r[2] > 0 for r in got) and any(r[1] % 1_000_000_000 for r in got)
    assert any(r[5] for r in got) and any(r[4] for r in got)


def test_the_schema_is_the_bronze_tables(spark, simulator_server):
    from connector.spark.schema import spark_schema

    for table, name in [("recorded", "recorded_values"), ("interpolated", "interpolated_values"),
                        ("summary", "summary_values"), ("points", "points"), ("af_elements", "af_elements"),
                        ("af_attributes", "af_attributes"), ("event_frames", "event_frames")]:
        assert read(spark, simulator_server.url, table=table).schema == spark_schema(TABLES[name].schema)


def test_pi_time_syntax_and_a_tag_wildcard(spark, simulator_server):
    df = read(spark, simulator_server.url, start="*-1h", end="*", tags="TINY.F*")
    got = rows_of(df)
    assert {r[0] for r in got} == {"TINY.FLOAT32", "TINY.FLOAT64"}
    expected = expected_rows(simulator_for("qa-tiny"), parse_ns("2026-11-24T23:00:00Z"), parse_ns(NOW),
                             ["TINY.FLOAT32", "TINY.FLOAT64"])
    assert got == expected


def test_an_af_element_path_selects_the_points_behind_its_attributes(spark, simulator_server):
    df = read(spark, simulator_server.url, start="*-1h", tags="\\\\PIAF01\\TinyDB\\Plant\\Tank2")
    # Tank2's template attributes reference these three; Plant's Batch (TINY.STRING) is above it
    assert {r["tag"] for r in df.select("tag").distinct().collect()} == {"TINY.FLOAT32", "TINY.FLOAT64",
                                                                          "TINY.DIGITAL"}


def test_interpolated_and_summary_tables(spark, simulator_server):
    from connector.lakeflow import PIConnector

    pi = PIConnector({"url": simulator_server.url + "/piwebapi", "start": START, "window": "2h", "interval": "5m",
                      "summaryDuration": "1h", "summaryType": "Average,Maximum"})
    for table, key, extra in [("interpolated", ["web_id", "timestamp_ns"], {"interval": "5m"}),
                              ("summary", ["web_id", "summary_type", "start_ns"],
                               {"summaryDuration": "1h", "summaryType": "Average,Maximum"})]:
        df = read(spark, simulator_server.url, table=table, start=START, end=NOW, partitionWindow="1h",
                  tagsPerPartition="4", **extra)
        assert df.rdd.getNumPartitions() > 1
        got = {tuple(r[k] for k in key): r.asDict() for r in df.collect()}
        name = TABLES[{"interpolated": "interpolated_values", "summary": "summary_values"}[table]].name
        expected = {tuple(r[k] for k in key): r for r in pi.read_table(name, {}, {})[0]}
        assert sorted(got) == sorted(expected) and len(got) == df.count()
        for k, row in got.items():
            assert row["good"] == expected[k]["good"] and row["tag"] == expected[k]["tag"]
            assert row["value"] == expected[k]["value"] or row["value"] == pytest.approx(expected[k]["value"],
                                                                                         rel=1e-9, abs=1e-8)


def test_points_af_and_event_frames(spark, simulator_server):
    points = read(spark, simulator_server.url, table="points").collect()
    assert "TINY.DIGITAL" in {r["name"] for r in points}
    elements = read(spark, simulator_server.url, table="af_elements").collect()
    assert sorted(r["name"] for r in elements) == ["Plant", "Tank1", "Tank2"]
    assert read(spark, simulator_server.url, table="af_attributes").count() == 10
    frames = read(spark, simulator_server.url, table="event_frames", start="2026-11-23T00:00:00Z").collect()
    assert sorted(r["name"] for r in frames) == ["BATCH-001", "BATCH-002", "BATCH-003"]


@pytest.mark.parametrize("option, value, message", [
    ("start", "yesterday-ish", "start: expected a PI time such as \\*-1d"),
    ("end", "", None),  # empty is the default, not an error
    ("table", "recordedd", "table: expected one of recorded, interpolated"),
    ("partitionWindow", "an hour", "partitionWindow: expected a duration such as 10m"),
    ("tagsPerPartition", "0", "tagsPerPartition: expected a whole number of at least 1"),
    ("maxCount", "ten", "maxCount: expected a whole number"),
    ("summaryType", "Mean", "summaryType: expected comma-separated PI summary types"),
    ("auth", "magic", "auth: "),
    ("startTime", "*-1d", "starttime: expected one of the options url"),
])
def test_a_bad_option_is_named_on_the_driver_before_any_read(spark, simulator_server, option, value, message):
    simulator_server.reset()
    if message is None:
        read(spark, simulator_server.url, **{option: value}).schema
        return
    with pytest.raises(Exception, match=message):
        read(spark, simulator_server.url, **{option: value})
    import requests

    journal = requests.get(simulator_server.url + "/__admin/requests", timeout=10).json()
    assert not [r for r in journal.get("requests", []) if "/streams" in str(r)]


def test_a_missing_url_is_named(spark):
    with pytest.raises(Exception, match="url: expected the PI Web API root"):
        spark.read.format("pi").load()


def test_many_tags_are_split_to_fit_the_servers_url_limit(spark):
    """111 tags in one stream-set GET is a URL longer than gunicorn's request line (4094): the planner
    must cut tag groups to source.max_url_bytes (it did not, and every read of 100+ tags failed 414)."""
    from simulator.backend import Simulator
    from simulator.scenario import load_scenario
    from simulator.settings import Settings
    from simulator.testing import SimulatorProcess

    start, end = "2026-11-24T23:50:00Z", NOW
    with SimulatorProcess("default", env={"PISIM_NOW": NOW}) as server:
        got = rows_of(read(spark, server.url, start=start, end=end, tags="*", partitionWindow="10m"))
    truth = expected_rows(Simulator(load_scenario("default", now=NOW), Settings()), parse_ns(start), parse_ns(end))
    assert len({r[0] for r in truth}) > 100
    assert got == truth
