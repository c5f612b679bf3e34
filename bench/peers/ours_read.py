"""bench/peers/ours_read.py: the connector's library call (or its Spark data source) in a fresh process.

Run by bench.peers with the project's own Python:

    python bench/peers/ours_read.py SPEC.json

SPEC: {"url": ".../piwebapi", "tags": [...], "start": ISO, "end": ISO, "lake": dir, "keys": path} and,
for Spark, "master": "local[N]". Prints one JSON line like the peers' scripts: values, seconds (the
extraction into Delta, or the Spark read), import_seconds, pairs and duplicates of (tag, timestamp).
"""
import json
import os
import sys
import time

from answer import finish  # this directory is on sys.path (the script's own)

started = time.perf_counter()
from connector.config import ConnectorConfig  # noqa: E402
from connector.runner import extract  # noqa: E402
from connector.sink import DeltaSink  # noqa: E402

imported = time.perf_counter() - started


def config(spec: dict) -> ConnectorConfig:
    return ConnectorConfig.from_dict({
        "source": {"url": spec["url"], "concurrency": spec.get("concurrency", 4)},
        "destination": {"uri": spec["lake"]},
        "tags": [{"names": spec["tags"]}],
        "recorded": {"start": spec["start"], "end": spec["end"]},
        "af": {"enabled": False}, "event_frames": {"enabled": False},
    })


def library(spec: dict):
    began = time.perf_counter()
    report = extract(config(spec))
    seconds = time.perf_counter() - began
    return report.tables["recorded_values"].rows, seconds, lambda: table_keys(spec["lake"])


def table_keys(lake: str) -> dict:
    """{tag: [timestamp_ns, ...]} of the recorded_values table just written."""
    rows = DeltaSink(lake).read("recorded_values", columns=["tag", "timestamp_ns"])
    keys: dict = {}
    for tag, ns in zip(rows.column("tag").to_pylist(), rows.column("timestamp_ns").to_pylist()):
        keys.setdefault(tag, []).append(ns)
    return keys


def spark(spec: dict):
    """connector.spark (when it exists): spark.read.format("pi") over the same tags and window."""
    from pyspark.sql import SparkSession

    from connector.spark import PIDataSource

    # Spark's Python workers run `python3` from PATH unless told: they need this venv's pyarrow
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master(spec["master"]).appName("bench-ours-spark")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    session.dataSource.register(PIDataSource)
    began = time.perf_counter()
    frame = (session.read.format("pi").option("url", spec["url"]).option("tags", ",".join(spec["tags"]))
             .option("start", spec["start"]).option("end", spec["end"]).option("table", "recorded").load()).persist()
    values = frame.count()
    seconds = time.perf_counter() - began

    def keys() -> dict:
        found: dict = {}
        for tag, ns in frame.select("tag", "timestamp_ns").collect():
            found.setdefault(tag, []).append(ns)
        session.stop()
        return found

    return values, seconds, keys


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    values, seconds, collect = spark(spec) if spec.get("master") else library(spec)
    finish(spec, values, seconds, imported, collect)


if __name__ == "__main__":
    main()
