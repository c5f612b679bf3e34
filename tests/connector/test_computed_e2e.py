"""Interpolated and summary values land as the simulator computes them, and re-runs upsert them."""
from __future__ import annotations

import math

import numpy as np
import orjson
import pyarrow.compute as pc
import pytest

from connector.config import ConnectorConfig
from connector.runner import extract
from connector.sink import DeltaSink
from picommon import pitime
from simulator.archive.summaries import summarize
from simulator.pi.encoder import items
from simulator.backend.streams import open_stream
from tests.connector.groundtruth import simulator_for
from tests.connector.stubbing import stream_failure
from tests.connector.stubbing import stub_answers
from tests.connector.stubbing import web_id_of

pytestmark = pytest.mark.e2e

START, END = "2026-11-24T06:00:00Z", "2026-11-24T12:00:00Z"
HOUR = 3600 * 10**7


def _config(url, lake):
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi"}, "destination": {"uri": str(lake)},
        "tags": [{"names": ["TINY.FLOAT32", "TINY.FLOAT64", "TINY.STEP", "TINY.GAP"]}],
        "recorded": {"enabled": False},
        "interpolated": {"enabled": True, "interval": "1h", "start": START, "end": END},
        "summaries": {"enabled": True, "duration": "1h", "types": ["Average", "Minimum", "Maximum", "Count"],
                      "start": START, "end": END},
        "af": {"enabled": False}, "event_frames": {"enabled": False},
    })


def test_interpolated_and_summaries_equal_the_simulator(sim_url, tmp_path):
    extract(_config(sim_url, tmp_path))
    sink = DeltaSink(str(tmp_path))
    sim = simulator_for("qa-tiny")
    now = sim.now()
    start, end = pitime.parse_time(START, now=now), pitime.parse_time(END, now=now)
    interpolated = {(r["tag"], r["timestamp_ns"]): r for r in sink.read("interpolated_values").to_pylist()}
    summaries = {(r["tag"], r["summary_type"], r["start_ns"]): r for r in sink.read("summary_values").to_pylist()}
    assert len(interpolated) == 4 * 6 and len(summaries) == 4 * 6 * 4
    for name in ("TINY.FLOAT32", "TINY.FLOAT64", "TINY.STEP", "TINY.GAP"):
        entry = sim.catalog.data_servers[0].by_name[name.lower()]
        stream = open_stream(entry, sim.catalog, sim.archive, now)
        times = np.arange(start, end, HOUR, dtype=np.int64)
        expected = stream.archive.interpolated_at(times, now)
        for ticks, text in zip(times.tolist(), items(expected, stream.fmt)):
            item = orjson.loads(text)
            row = interpolated[(name, ticks * 100)]
            value = item["Value"]
            assert row["good"] == item["Good"]
            if isinstance(value, dict):
                assert (row["value"], row["digital_name"], row["is_system"]) == (None, value["Name"], True)
            else:
                assert row["value"] == value
        for hour in range(6):
            a, b = start + hour * HOUR, start + (hour + 1) * HOUR
            # every stored interval is [a, b): the first of a two-interval summary
            interval = pitime.parse_interval("1h")
            results = summarize(stream.archive, a, b + HOUR, ("Average", "Minimum", "Maximum", "Count"), now,
                                duration=interval)[:4]
            for result in results:
                row = summaries[(name, result.type, a * 100)]
                if result.values.state[0] >= 0:
                    assert row["is_system"] and row["value"] is None
                else:
                    assert math.isclose(row["value"], float(result.values.value[0]), rel_tol=1e-12, abs_tol=1e-12)


def test_a_second_run_upserts_instead_of_duplicating(sim_url, tmp_path):
    cfg = _config(sim_url, tmp_path)
    extract(cfg)
    sink = DeltaSink(str(tmp_path))
    before = (sink.count("interpolated_values"), sink.count("summary_values"))
    versions = (sink.version("interpolated_values"), sink.version("summary_values"))
    extract(cfg)
    assert (sink.count("interpolated_values"), sink.count("summary_values")) == before
    # the re-read hour is what the tables hold: nothing written, no file rewritten
    assert (sink.version("interpolated_values"), sink.version("summary_values")) == versions


def test_an_edited_row_of_the_reread_hour_is_put_back(sim_url, tmp_path):
    cfg = _config(sim_url, tmp_path)
    extract(cfg)
    sink = DeltaSink(str(tmp_path))
    truth = sorted(sink.read("interpolated_values").drop_columns(["ingested_at", "run_id"]).to_pylist(),
                   key=lambda r: (r["web_id"], r["timestamp_ns"]))
    last = sink.read("interpolated_values").filter(pc.field("value").is_valid()).sort_by(
        [("timestamp_ns", "descending")]).slice(0, 1)
    sink.merge("interpolated_values", last.set_column(last.schema.get_field_index("value"), "value",
                                                       pc.add(last["value"], 1.0)).cast(last.schema))
    extract(cfg)
    after = sorted(sink.read("interpolated_values").drop_columns(["ingested_at", "run_id"]).to_pylist(),
                   key=lambda r: (r["web_id"], r["timestamp_ns"]))
    assert after == truth


def test_a_crash_between_data_and_checkpoint_leaves_no_duplicate(sim_url, tmp_path, monkeypatch):
    from connector.state import Checkpoints

    cfg = _config(sim_url, tmp_path)
    original = Checkpoints.commit

    def crash(self, table, *args, **kwargs):
        raise RuntimeError("simulated crash after the data commit")

    monkeypatch.setattr(Checkpoints, "commit", crash)
    with pytest.raises(RuntimeError):
        extract(cfg)
    monkeypatch.setattr(Checkpoints, "commit", original)
    sink = DeltaSink(str(tmp_path))
    assert sink.count("interpolated_values") == 4 * 6  # written, not checkpointed
    extract(cfg)
    assert (sink.count("interpolated_values"), sink.count("summary_values")) == (4 * 6, 4 * 6 * 4)


def _computed_rows(sink):
    def rows(name, key):
        data = sink.read(name).drop_columns(["ingested_at", "run_id"]).to_pylist()
        return sorted(data, key=lambda r: tuple(r[k] for k in key))
    return (rows("interpolated_values", ("web_id", "timestamp_ns")),
            rows("summary_values", ("web_id", "summary_type", "start_ns")))


@pytest.mark.parametrize("status", [500, 502])
def test_a_tag_whose_read_fails_keeps_its_cursor_and_fails_the_run(sim_url, tmp_path, status):
    """A per-stream WebException for one tag (PI's answer stays 200) must not move that tag's
    cursor: the run fails visibly, and the next run (the error gone) reads what was missed."""
    from connector.errors import ConnectorError
    from connector.state import Checkpoints
    from simulator.mock.admin import AdminClient

    clean = tmp_path / "clean"
    extract(_config(sim_url, clean))
    broken = web_id_of(DeltaSink(str(clean)), "TINY.GAP")
    for route in ("/streamsets/interpolated", "/streamsets/summary"):
        stub_answers(sim_url, route, stream_failure(broken, status, ["I/O Timeout"]))
    lake = tmp_path / "lake"
    with pytest.raises(ConnectorError, match="I/O Timeout"):
        extract(_config(sim_url, lake))
    sink = DeltaSink(str(lake))
    log = sink.read("run_log").to_pylist()
    assert [r["event"] for r in log if r["level"] == "error"] == ["run_failed"]
    assert "failed" in [r["message"] for r in log if r["event"] == "run_finished"][0]
    for table in ("interpolated_values", "summary_values"):
        assert broken not in Checkpoints(sink).load(table)
    AdminClient(sim_url).reset()
    extract(_config(sim_url, lake))
    assert _computed_rows(sink) == _computed_rows(DeltaSink(str(clean)))
