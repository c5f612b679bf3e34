"""bench.spark: our Spark data source (`spark.read.format("pi")`) on local[1], local[2] and local[4].

1,000 tags x 1 day at one value a minute (1.44 M values) from bench/scenarios/connector-30k.yaml
(frozen clock), the simulator under gunicorn with 4 workers on the same machine. Each Spark size
runs in its own process (a session's master is fixed); one untimed read of an hour first (JVM,
Python workers), then the timed read: the whole window written to Spark's `noop` sink, so every
row of every partition is read, converted and handed to Spark. values/s = rows / that time.
Scaling efficiency = rate(local[4]) / (4 x rate(local[1])); on a 2-core machine it cannot reach
the goal, and the note prints the cores the run had.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from simulator.testing import SimulatorProcess

from . import Figure
from . import Options

NAME = "spark"
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "connector-30k.yaml"
ROOT = Path(__file__).resolve().parents[1]
START, END = "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"


def _tags() -> str:
    """The first 1,000 tags of the scenario, as bench.connector's 1,000-tag case reads them."""
    from .connector import _names

    return ",".join(_names(1000))


def measure(cores: int, url: str, start: str, end: str) -> dict:
    """In this process: a local[cores] session, one warm-up read, then the timed read."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from connector.spark import PIDataSource

    spark = (SparkSession.builder.master(f"local[{cores}]").appName(f"bench-pi-{cores}")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(PIDataSource)
    tags = _tags()

    def frame(a: str, b: str):
        return (spark.read.format("pi").option("url", url + "/piwebapi").option("tags", tags).option("start", a)
                .option("end", b).option("partitionWindow", "2h").load())

    frame("2026-11-24T23:00:00Z", end).write.format("noop").mode("overwrite").save()
    df = frame(start, end)
    partitions = df.rdd.getNumPartitions()
    started = time.perf_counter()
    df.write.format("noop").mode("overwrite").save()
    seconds = time.perf_counter() - started
    rows = df.count()
    spark.stop()
    return {"cores": cores, "rows": rows, "seconds": seconds, "partitions": partitions}


def run(options: Options) -> list[Figure]:
    figures: list[Figure] = []
    results = {}
    cores = os.cpu_count() or 1
    with SimulatorProcess(str(SCENARIO), workers=4, threads=4, startup_timeout=120) as sim:
        for n in ((1, 4) if options.quick else (1, 2, 4)):
            out = subprocess.run([sys.executable, "-m", "bench.spark", str(n), sim.url, START, END], cwd=ROOT,
                                 capture_output=True, text=True, timeout=1800,
                                 env={**os.environ, "PYSPARK_PYTHON": sys.executable})
            if out.returncode != 0:
                raise RuntimeError(f"local[{n}] failed:\n{out.stderr[-3000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results[n] = result
            figures.append(Figure(f"1,000 tags x 1 day: ours on Spark local[{n}]", result["rows"] / result["seconds"],
                                  "values/s", note=f"{result['rows']:,} values in {result['seconds']:.2f} s, "
                                                   f"{result['partitions']} partitions"))
    if 1 in results and 4 in results:
        efficiency = (results[4]["rows"] / results[4]["seconds"]) / (4 * results[1]["rows"] / results[1]["seconds"])
        figures.append(Figure("Spark scaling efficiency local[1] -> local[4]", efficiency, "", ">= 0.7",
                              ratio=efficiency / 0.7, ratio_of="value/goal",
                              note=f"this machine has {cores} cores, shared with the simulator's 4 workers"))
    return figures


if __name__ == "__main__":
    n, url, start, end = sys.argv[1:5]
    print(json.dumps(measure(int(n), url, start, end)))
