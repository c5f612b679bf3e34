"""End to end: the connector against the simulator under gunicorn, compared value by value with the
simulator's own archive: paging, both read methods, re-runs, faults, crashes and bad input."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests

from connector.config import ConnectorConfig
from connector.errors import AuthError
from connector.errors import ConnectionFailedError
from connector.runner import extract
from connector.sink import DeltaSink
from connector.state import Checkpoints
from simulator.testing import SimulatorProcess
from simulator.testing import free_port

from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for
from tests.connector.groundtruth import table_rows

pytestmark = pytest.mark.e2e

START = "2026-11-24T09:30:00Z"
END = "2026-11-24T13:00:00Z"


def ns(text: str) -> int:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000_000


@pytest.fixture(scope="module")
def truth():
    return expected_rows(simulator_for("qa-tiny"), ns(START), ns(END))


def config(url: str, lake, **recorded) -> ConnectorConfig:
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi", "retry": {"attempts": 8, "backoff": 0.01, "max_backoff": 0.2}},
        "destination": {"uri": str(lake)},
        "tags": [{"name_filter": "TINY.*"}],
        "recorded": {"start": START, "end": END, **recorded},
        "af": {"enabled": False},
        "event_frames": {"enabled": False},
    })


def write_cli_config(path, url: str, lake, *, flush_rows: int) -> None:
    """A config file for `pi-connector run` in a subprocess: one reader, small pages, many Delta commits."""
    path.write_text(f"""
source: {{url: "{url}/piwebapi", concurrency: 1}}
destination: {{uri: "{lake}"}}
tags: [{{name_filter: "TINY.*"}}]
recorded: {{start: "{START}", end: "{END}", max_count: 200, flush_rows: {flush_rows}}}
af: {{enabled: false}}
event_frames: {{enabled: false}}
""")


@pytest.mark.parametrize("method", ["streamsets", "batch"])
def test_recorded_values_equal_the_archive_through_small_pages(sim_url, tmp_path, truth, method):
    report = extract(config(sim_url, tmp_path, max_count=97, method=method))
    assert report.status == "succeeded"
    rows = table_rows(DeltaSink(str(tmp_path)))
    assert len(rows) == len(truth)
    assert rows == truth
    # the data has what makes paging hard: sub-second, duplicated timestamps, states, strings
    assert any(r[2] > 0 for r in rows)
    assert any(r[1] % 1_000_000_000 for r in rows)
    assert {"I/O Timeout"} <= {r[5] for r in rows if r[7]}
    assert {"Alpha", "Bravo", "Charlie", "Delta"} >= {r[4] for r in rows if r[4]} != set()


def test_a_second_run_adds_nothing_twice(sim_url, tmp_path, truth):
    cfg = config(sim_url, tmp_path)
    extract(cfg)
    sink = DeltaSink(str(tmp_path))
    first_version = sink.version("recorded_values")
    report = extract(cfg)
    # the second run re-reads only the lookback (10 minutes before each tag's cursor, END) and merges it
    lookback = [r for r in truth if r[1] >= ns(END) - 600 * 1_000_000_000]
    assert report.tables["recorded_values"].rows == len(lookback) > 0
    assert table_rows(sink) == truth
    # nothing changed in the archive: no MERGE, no file rewritten, no commit at all
    assert sink.version("recorded_values") == first_version


def test_values_gone_from_the_archive_are_removed_when_their_window_is_read_again(sim_url, tmp_path, truth):
    cfg = config(sim_url, tmp_path)
    extract(cfg)
    sink = DeltaSink(str(tmp_path))
    table = sink.read("recorded_values")
    at, lookback_start = pc.field("timestamp_ns"), ns(END) - 600 * 1_000_000_000
    recent = table.filter((at >= lookback_start) & (pc.field("ordinal") == 0)).sort_by("timestamp_ns")
    older = table.filter(at < lookback_start - 60 * 1_000_000_000).sort_by("timestamp_ns")
    moved = recent.slice(0, 1).set_column(3, "timestamp_ns", pc.add(recent.slice(0, 1)["timestamp_ns"], 100))
    extra_ordinal = recent.slice(1, 1).set_column(4, "ordinal", pa.array([7], pa.int32()))
    outside = older.slice(0, 1).set_column(3, "timestamp_ns", pc.add(older.slice(0, 1)["timestamp_ns"], 100))
    numeric = recent.filter(pc.field("value").is_valid()).slice(2, 1)
    edited = numeric.set_column(5, "value", pc.add(numeric["value"], 1.5))
    sink.merge("recorded_values", edited.cast(table.schema))  # the table holds an older value there
    assert len(set(table_rows(sink)) - set(truth)) == 1
    fakes = pa.concat_tables([fake.cast(table.schema) for fake in (moved, extra_ordinal, outside)])
    keys = {(r["web_id"], r["timestamp_ns"], r["ordinal"]) for r in table.select(["web_id", "timestamp_ns",
                                                                                    "ordinal"]).to_pylist()}
    assert not keys & {(r["web_id"], r["timestamp_ns"], r["ordinal"]) for r in fakes.to_pylist()}
    sink.append("recorded_values", fakes)
    assert len(table_rows(sink)) == len(truth) + 3

    extract(cfg)
    rows = table_rows(sink)
    # the two inside the re-read window are gone, the edited value is the archive's again; the row
    # before the window is out of reach (not read again)
    outside_row = next(r for r in rows if r not in set(truth))
    assert outside_row[:3] == (outside["tag"][0].as_py(), outside["timestamp_ns"][0].as_py(), 0)
    assert sorted(set(rows) - {outside_row}) == truth and len(rows) == len(truth) + 1
    log = sink.read("run_log").to_pylist()
    removed = [entry for entry in log if entry["event"] == "values_removed"]
    assert [entry["rows"] for entry in removed] == [2] and removed[0]["level"] == "warning"


def test_faults_are_retried_and_nothing_is_lost(sim_url, tmp_path, truth):
    admin = sim_url + "/__admin/faults"
    for fault in (
        {"name": "flaky-sets", "method": "GET", "path": "/piwebapi/streamsets/recorded", "rate": 0.3, "status": 503},
        {"name": "throttle", "method": "*", "path": "/piwebapi/**", "every": 7, "status": 429, "retry_after": 1},
        {"name": "slow", "method": "*", "path": "/piwebapi/**", "rate": 0.2, "status": None, "delay": {"fixed": 30}},
        {"name": "sub-requests", "method": "GET", "path": "/piwebapi/streams/*/recorded", "rate": 0.3,
         "status": 502, "scope": "batch"},
    ):
        assert requests.post(admin, json=fault, timeout=10).status_code in (200, 201)
    extract(config(sim_url, tmp_path, max_count=500))
    assert table_rows(DeltaSink(str(tmp_path))) == truth
    hits = {f["name"]: f["fired"] for f in requests.get(admin, timeout=10).json().get("faults", [])}
    assert any(hits.values()), hits


def test_a_crash_between_data_and_checkpoint_leaves_no_duplicate(sim_url, tmp_path, truth, monkeypatch):
    cfg = config(sim_url, tmp_path, flush_rows=20_000)
    calls = {"n": 0}
    original = Checkpoints.commit

    def crash_on_second(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash after the data commit")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Checkpoints, "commit", crash_on_second)
    with pytest.raises(RuntimeError):
        extract(cfg)
    monkeypatch.setattr(Checkpoints, "commit", original)
    sink = DeltaSink(str(tmp_path))
    assert Checkpoints(sink).is_dirty("recorded_values")
    extract(cfg)
    assert table_rows(sink) == truth


def test_a_run_killed_midway_resumes_exactly(sim_url, tmp_path, truth):
    path = tmp_path / "config.yaml"
    lake = tmp_path / "lake"
    write_cli_config(path, sim_url, lake, flush_rows=5000)
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "run", str(path), "--no-progress"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sink = DeltaSink(str(lake))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if sink.exists("recorded_values") and (sink.version("recorded_values") or 0) >= 3:
            break
        time.sleep(0.05)
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    extract(config(sim_url, lake))
    assert table_rows(sink) == truth
    assert killed, "the run finished before it could be killed; make the test data bigger"


def test_unknown_tags_are_reported_not_fatal(sim_url, tmp_path):
    cfg = ConnectorConfig.from_dict({
        "source": {"url": sim_url + "/piwebapi"}, "destination": {"uri": str(tmp_path)},
        "tags": [{"names": ["TINY.FLOAT32", "NO.SUCH.TAG"]}],
        "recorded": {"start": START, "end": END}, "af": {"enabled": False}, "event_frames": {"enabled": False},
    })
    report = extract(cfg)
    assert report.points == 1
    assert [what for what, _ in report.missing] == ["\\\\PISRV01\\NO.SUCH.TAG"]
    log = DeltaSink(str(tmp_path)).read("run_log").to_pylist()
    assert any(r["event"] == "tag_missing" and "NO.SUCH.TAG" in r["tag"] for r in log)


def test_wrong_credentials_write_nothing(tmp_path):
    with SimulatorProcess("qa-faults") as sim:
        cfg = ConnectorConfig.from_dict({
            "source": {"url": sim.url + "/piwebapi", "auth": {"type": "basic", "username": "pi", "password": "wrong"}},
            "destination": {"uri": str(tmp_path / "lake")}, "tags": [{"name_filter": "*"}],
        })
        with pytest.raises(AuthError) as caught:
            extract(cfg)
    assert "wrong" not in str(caught.value)
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").iterdir())


def test_an_unreachable_server_writes_nothing(tmp_path):
    cfg = ConnectorConfig.from_dict({
        "source": {"url": f"http://127.0.0.1:{free_port()}/piwebapi", "retry": {"attempts": 2, "backoff": 0.01}},
        "destination": {"uri": str(tmp_path / "lake")}, "tags": [{"name_filter": "*"}],
    })
    with pytest.raises(ConnectionFailedError):
        extract(cfg)
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").iterdir())


def test_long_web_id_lists_are_split_to_stay_under_the_url_limit(tmp_path, truth):
    """gunicorn's default request line (4094 bytes) refuses a long URL; the connector splits its
    WebID lists so that every URL, query string counted, stays under source.max_url_bytes."""
    from simulator.mock.admin import AdminClient

    limit = 900
    with SimulatorProcess("qa-tiny", env={"PISIM_NOW": "2026-11-25T00:00:00Z"}) as server:  # gunicorn's 4094
        too_long = requests.get(server.url + "/piwebapi/system?x=" + "a" * 5000, timeout=30)
        assert too_long.status_code >= 400  # the limit is on
        cfg = ConnectorConfig.from_dict({
            "source": {"url": server.url + "/piwebapi", "max_url_bytes": limit},
            "destination": {"uri": str(tmp_path)}, "tags": [{"name_filter": "TINY.*"}],
            "recorded": {"start": START, "end": END}, "af": {"enabled": False}, "event_frames": {"enabled": False}})
        assert extract(cfg).status == "succeeded"
        urls = [server.url + r["request"]["url"] for r in AdminClient(server.url).requests()]
        sets = [u for u in urls if "/streamsets/recorded?" in u]
        assert len({u.count("webId=") for u in sets}) >= 1 and max(u.count("webId=") for u in sets) < len(
            {r[0] for r in truth})  # split
        assert max(len(u) for u in urls) < limit
    assert table_rows(DeltaSink(str(tmp_path))) == truth
