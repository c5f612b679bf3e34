"""bench.connector: end-to-end values/s from the simulator to Delta, against a naive baseline.

1. 1,000 tags x 1 day at one value a minute (1.44 M values) and 30,000 tags x 1 hour (1.8 M values),
   read by the connector (stream sets, 4 requests in flight) into a fresh Delta table, the simulator
   (bench/scenarios/connector-30k.yaml, frozen clock, 2 gunicorn workers) on the same machine.
   Each is run 3 times and the median reported. The same work once more with the batch
   controller instead of stream sets (once).
2. The naive way, measured in the same run: one GET per tag, sequentially, paging by maxCount,
   parsed with requests' .json(), rows built as dicts, one Delta append at the end. Done for all
   1,000 tags of the first case; for the 30,000-tag case on the first 1,000 tags only (its rate
   is per value, so the sample measures it; the note says so).
3. Peak memory (peak RSS) of a connector process extracting 30,000 tags x 1 day (43 M values), with
   the default flush size. Skipped with --quick.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import requests

from connector.config import ConnectorConfig
from connector.runner import extract
from connector.sink import DeltaSink
from connector.tables import RecordedValues
from simulator.testing import SimulatorProcess

from . import Figure
from . import Options

NAME = "connector"
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "connector-30k.yaml"
NOW = "2026-11-25T00:00:00Z"
NAIVE_SAMPLE = 1_000
MEMORY_BUDGET_MB = 1024
CONNECTOR_RUNS = 3  # the stream-set runs are repeated and their median reported (a shared, noisy machine)


def _names(count: int) -> list[str]:
    """The scenario's first `count` tags, in its order (area, loop, kind)."""
    kinds = ("FT", "PT", "TT", "ST", "IT")
    names = [f"B{area:02d}.L{loop:04d}.{kind}" for area in range(1, 21) for loop in range(1, 301) for kind in kinds]
    return names[:count]


def _config(url: str, lake: str, tags: list, start: str, method: str = "streamsets") -> ConnectorConfig:
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi", "concurrency": 4},
        "destination": {"uri": lake},
        "tags": tags,
        "recorded": {"start": start, "end": NOW, "method": method},
        "af": {"enabled": False}, "event_frames": {"enabled": False},
    })


def _connector_run(url: str, tags: list, start: str, method: str) -> tuple[int, float]:
    lake = tempfile.mkdtemp(prefix="bench-lake-")
    try:
        started = time.perf_counter()
        report = extract(_config(url, lake, tags, start, method))
        seconds = time.perf_counter() - started
        rows = DeltaSink(lake).count(RecordedValues)
        assert rows == report.tables["recorded_values"].rows, "rows written and rows in the table differ"
        return rows, seconds
    finally:
        shutil.rmtree(lake, ignore_errors=True)


def naive(url: str, names: list[str], start: str) -> tuple[int, float]:
    """What most open connectors do: one GET per tag, sequential, dict rows, one write at the end."""
    lake = tempfile.mkdtemp(prefix="bench-naive-")
    started = time.perf_counter()
    session = requests.Session()
    base = url + "/piwebapi"
    rows: list[dict] = []
    for name in names:
        point = session.get(f"{base}/points", params={"path": f"\\\\PISRV01\\{name}"}).json()
        cursor, seen_at_cursor = start, 0
        while True:
            page = session.get(f"{base}/streams/{point['WebId']}/recorded",
                               params={"startTime": cursor, "endTime": NOW, "maxCount": 1000}).json()["Items"]
            fresh = page[seen_at_cursor:]
            fresh = [item for item in fresh if item["Timestamp"] != NOW.replace(".0", "")]
            for item in fresh:
                value = item["Value"]
                rows.append({"web_id": point["WebId"], "tag": name, "timestamp": item["Timestamp"],
                             "value": value if isinstance(value, (int, float)) else None,
                             "digital_name": value.get("Name") if isinstance(value, dict) else None,
                             "good": item["Good"], "questionable": item["Questionable"]})
            if len(page) < 1000:
                break
            last = page[-1]["Timestamp"]
            seen_at_cursor = sum(1 for item in page if item["Timestamp"] == last) if last != cursor else \
                seen_at_cursor + len(fresh)
            cursor = last
    table = pa.Table.from_pylist(rows)
    from deltalake import write_deltalake

    write_deltalake(lake, table, mode="append")
    seconds = time.perf_counter() - started
    shutil.rmtree(lake, ignore_errors=True)
    return len(rows), seconds


def _memory_run(url: str) -> tuple[float, int, float]:
    """(peak RSS in MB, values written, seconds) of `pi-connector run` extracting every tag for a
    day, in its own process; the values are counted from the Delta log's file statistics."""
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    config = work / "config.yaml"
    config.write_text(f"""
source: {{url: "{url}/piwebapi", concurrency: 4}}
destination: {{uri: "{work / 'lake'}"}}
tags: [{{name_filter: "*"}}]
recorded: {{start: "2026-11-24T00:00:00Z", end: "{NOW}"}}
af: {{enabled: false}}
event_frames: {{enabled: false}}
""")
    # Linux carries a process's peak RSS across fork+exec, so a child of this (big) process would
    # report our own peak: a small Python in between starts the run and reports its child's.
    probe = ("import resource, subprocess, sys; "
             "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "connector.cli", "run", str(config),
                           "--no-progress"], stdout=subprocess.PIPE, text=True, check=True)
    seconds = time.perf_counter() - started
    from deltalake import DeltaTable

    actions = DeltaTable(str(work / "lake" / "recorded_values")).get_add_actions(flatten=True)
    values = sum(n or 0 for n in actions.column("num_records").to_pylist())
    shutil.rmtree(work, ignore_errors=True)
    return int(done.stdout.split()[-1]) / 1024, values, seconds


def run(options: Options) -> list[Figure]:
    figures: list[Figure] = []
    with SimulatorProcess(str(SCENARIO), workers=2, startup_timeout=120) as sim:
        url = sim.url
        cases = [("1,000 tags x 1 day", [{"names": _names(1000)}], "2026-11-24T00:00:00Z"),
                 ("30,000 tags x 1 hour", [{"name_filter": "*"}], "2026-11-24T23:00:00Z")]
        runs = CONNECTOR_RUNS if not options.quick else 1
        for label, tags, start in cases:
            timed = [_connector_run(url, tags, start, "streamsets") for _ in range(runs)]
            rows, seconds = timed[0][0], statistics.median(s for _, s in timed)
            rate = rows / seconds
            goal = "< 5 s" if "30,000" in label else ""
            figures.append(Figure(f"{label}: connector (stream sets)", rate, "values/s", "",
                                  note=f"{rows:,} values in {seconds:.2f} s (median of {runs} runs: "
                                       + ", ".join(f"{s:.2f}" for _, s in timed) + " s)"))
            if "30,000" in label:
                figures.append(Figure(f"{label}: connector wall time", seconds, "s", goal,
                                      ratio=seconds / 5.0, ratio_of="time/goal"))
            if not options.quick:
                rows_b, seconds_b = _connector_run(url, tags, start, "batch")
                figures.append(Figure(f"{label}: connector (batch controller)", rows_b / seconds_b, "values/s",
                                      note=f"{rows_b:,} values in {seconds_b:.2f} s"))
            sample = _names(min(NAIVE_SAMPLE, 1000 if "1,000" in label else NAIVE_SAMPLE))
            naive_rows, naive_seconds = naive(url, sample, start)
            naive_rate = naive_rows / naive_seconds
            figures.append(Figure(f"{label}: naive (GET per tag, sequential)", naive_rate, "values/s",
                                  note=f"{naive_rows:,} values in {naive_seconds:.2f} s"
                                       + ("" if "1,000" in label else f" (first {len(sample):,} tags)")))
            figures.append(Figure(f"{label}: connector / naive", rate / naive_rate, "x", ">= 20",
                                  ratio=rate / naive_rate / 20, ratio_of="ratio/goal"))
        if not options.quick:
            peak, values, seconds = _memory_run(url)
            figures.append(Figure("30,000 tags x 1 day: connector peak memory", peak, "MB",
                                  f"<= {MEMORY_BUDGET_MB}", ratio=peak / MEMORY_BUDGET_MB, ratio_of="peak/budget",
                                  note=f"peak RSS of `pi-connector run` in its own process, taken by a small "
                                       f"launcher: {values:,} values in {seconds:.0f} s"))
    return figures


if __name__ == "__main__":
    from . import table

    print(table(run(Options(quick="--quick" in sys.argv)), "bench.connector"))
    os._exit(0)
