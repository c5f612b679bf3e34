"""spark.readStream.format("pi") against qa-tiny under gunicorn (clock pinned at 2026-11-25T00:00:00Z): a parquet
sink with processingTime and availableNow triggers, and a foreachBatch Delta writer killed with SIGKILL mid-run
and restarted from its checkpoint location; each ends holding exactly the archive."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connector.paging import parse_ns
from connector.spark.options import parse_options
from connector.spark.partitions import PIPartition
from connector.spark.stream import PIStreamReader
from connector.plan import Part

from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for
from tests.connector.test_lakeflow import ROW

pytestmark = [pytest.mark.e2e, pytest.mark.spark]

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-25T00:00:00Z"
START = "2026-11-24T23:00:00Z"


@pytest.fixture(scope="module")
def truth():
    return expected_rows(simulator_for("qa-tiny"), parse_ns(START), parse_ns(NOW))


def as_rows(table) -> list[tuple]:
    return sorted(zip(*(table.column(c).to_pylist() for c in ROW)))


def test_offsets_are_per_tag_cursors_and_batches_share_no_event(simulator_server):
    options = parse_options({"url": simulator_server.url + "/piwebapi", "start": START, "maxWindowPerBatch": "25m"})
    reader = PIStreamReader(options)
    first = reader.initialOffset()
    assert set(first) == {"origin_ns", "cursors"} and len(first["cursors"]) == 8
    assert set(first["cursors"].values()) == {parse_ns(START)}
    ends, offset = [], first
    while True:
        latest = reader.latestOffset(offset, None)
        if latest == offset:
            break
        ends.append(latest)
        parts = [Part.from_dict(p.value) for p in reader.partitions(offset, latest)]
        assert {(p.start_ns, p.end_ns) for p in parts} == {(offset["cursors"][t[0]], latest["cursors"][t[0]])
                                                          for p in parts for t in p.tags}
        offset = latest
    assert [set(e["cursors"].values()) for e in ends] == [{parse_ns("2026-11-24T23:25:00Z")},
                                                          {parse_ns("2026-11-24T23:50:00Z")}, {parse_ns(NOW)}]
    assert reader.partitions(offset, offset) == []
    lookback = PIStreamReader(parse_options({"url": simulator_server.url + "/piwebapi", "start": START,
                                             "lookback": "10m"}))
    lookback.initialOffset()
    middle = {"origin_ns": parse_ns(START), "cursors": {w: parse_ns("2026-11-24T23:30:00Z") for w in first["cursors"]}}
    parts = [Part.from_dict(p.value) for p in lookback.partitions(middle, lookback.latestOffset(middle))]
    assert {p.start_ns for p in parts} == {parse_ns("2026-11-24T23:20:00Z")}  # late data is read again
    assert isinstance(PIPartition(None).value, type(None))


def test_a_parquet_sink_with_both_triggers_holds_the_archive(spark, simulator_server, truth, tmp_path):
    def stream():
        return (spark.readStream.format("pi").option("url", simulator_server.url + "/piwebapi")
                .option("start", START).option("maxWindowPerBatch", "30m").load())

    out, checkpoint = tmp_path / "out", tmp_path / "checkpoint"
    query = (stream().writeStream.format("parquet").option("path", str(out))
             .option("checkpointLocation", str(checkpoint)).trigger(processingTime="1 second").start())
    try:
        query.processAllAvailable()
    finally:
        query.stop()
    assert as_rows(pq.read_table(out)) == truth
    # the same checkpoint with availableNow: nothing new at the pinned clock, nothing written twice (the
    # restart after a kill, below, is an availableNow run that does have data left)
    again = (stream().writeStream.format("parquet").option("path", str(out))
             .option("checkpointLocation", str(checkpoint)).trigger(availableNow=True).start())
    again.awaitTermination(300)
    assert as_rows(pq.read_table(out)) == truth


def test_a_stream_killed_mid_run_and_restarted_from_its_checkpoint_writes_the_archive_once(simulator_server, truth,
                                                                                         tmp_path):
    from deltalake import DeltaTable

    checkpoint, path = str(tmp_path / "checkpoint"), str(tmp_path / "delta")
    url = simulator_server.url + "/piwebapi"

    def job(trigger: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "tests.spark.stream_job", url, checkpoint, path, START,
                                 trigger], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "PYSPARK_PYTHON": sys.executable})

    first = job("processingTime")
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # kill once a batch is in Delta, before the last one
            if os.path.exists(os.path.join(path, "_delta_log")) and DeltaTable(path).version() >= 0:
                break
            assert first.poll() is None, first.stdout.read().decode()[-3000:]
            time.sleep(0.2)
        else:
            raise AssertionError("no micro-batch reached Delta")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the job and its JVM, as a crash would
        first.wait(30)
        first.stdout.close()
    held = DeltaTable(path).to_pyarrow_table().num_rows
    assert 0 < held < len(truth)  # it really stopped mid-run
    second = job("availableNow")
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output.decode()[-3000:]
    data = DeltaTable(path).to_pyarrow_table()
    assert data.num_rows == len(truth)
    assert as_rows(data) == truth
