"""bench/peers/pysparkpi_read.py: read recorded values with pyspark-pi 0.3 on local Spark, print JSON.

Run in its own virtualenv (`.bench/peers/pyspark-pi`) by bench.peers:

    python pysparkpi_read.py SPEC.json

SPEC: {"url": "http://host:port" (pyspark-pi adds /piwebapi), "server": "PISRV01", "groups": [[tag, ...],
...], "start": ISO, "end": ISO, "master": "local[2]", "keys": path}. pyspark-pi refuses tags of
different value types in one read, so each group (tags of one Spark type) is one `spark.read`.
Prints one JSON line like tagreader_read.py, plus session_seconds (starting Spark).
"""
import json
import os
import sys
import time

from answer import finish  # this directory is on sys.path (the script's own)

started = time.perf_counter()
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark_pi import PiDataSource  # noqa: E402

imported = time.perf_counter() - started


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    began = time.perf_counter()
    spark = (SparkSession.builder.master(spec.get("master", "local[2]")).appName("bench-pyspark-pi")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(PiDataSource)
    session = time.perf_counter() - began
    began = time.perf_counter()
    frames, values = [], 0
    for group in spec["groups"]:
        # rowLevelErrorHandling: by default pyspark-pi raises on the first system state ("Bad Input"),
        # which the archive holds; "nullify" keeps the row with a null value, so every event counts.
        frame = (spark.read.format("pi")
                 .options(host=spec["url"], authMethod="anonymous", verify="false", requestType="recorded",
                          rowLevelErrorHandling="nullify",
                          startTime=spec["start"], endTime=spec["end"], server=spec.get("server", "PISRV01"))
                 .load(group)).persist()
        values += frame.count()  # every row read from PI, decoded and held by Spark
        frames.append(frame)
    seconds = time.perf_counter() - began

    def collect() -> dict:
        keys: dict = {}
        for frame in frames:
            for point, micros in frame.select("point", F.unix_micros("timestamp")).collect():
                keys.setdefault(point, []).append(micros * 1000)
        spark.stop()
        return keys

    finish(spec, values, seconds, imported, collect, session_seconds=session)


if __name__ == "__main__":
    main()
