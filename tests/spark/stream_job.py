"""A streaming query as its own process (so a test can kill -9 it): readStream.format("pi") -> foreachBatch
-> a Delta table written with deltalake, MERGEd by the table's key so a micro-batch replayed after a crash
(written, not yet in Spark's commit log) lands once.

    python -m tests.spark.stream_job URL CHECKPOINT DELTA_PATH START END_OF_DATA [availableNow|processingTime]
"""
from __future__ import annotations

import os
import sys

import pyarrow as pa


def write_batch(path: str, data: pa.Table) -> None:
    from deltalake import DeltaTable
    from deltalake import write_deltalake

    from connector.tables import RecordedValues

    data = data.select(RecordedValues.schema.names).cast(RecordedValues.schema)
    if not os.path.exists(os.path.join(path, "_delta_log")):
        write_deltalake(path, data, mode="append")
        return
    predicate = " AND ".join(f"t.{k} = s.{k}" for k in RecordedValues.primary_keys)
    DeltaTable(path).merge(data, predicate, source_alias="s", target_alias="t").when_not_matched_insert_all().execute()


def main(url: str, checkpoint: str, path: str, start: str, trigger: str) -> None:
    from pyspark.sql import SparkSession

    from connector.spark import PIDataSource

    spark = (SparkSession.builder.master("local[1]").appName("pi-stream-job").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.dataSource.register(PIDataSource)
    stream = (spark.readStream.format("pi").option("url", url).option("start", start)
              .option("maxWindowPerBatch", "20m").option("partitionWindow", "10m").load())

    def sink(batch, batch_id: int) -> None:
        data = batch.toArrow()
        if data.num_rows:
            write_batch(path, data)
        print(f"batch {batch_id}: {data.num_rows} rows", flush=True)

    writer = stream.writeStream.foreachBatch(sink).option("checkpointLocation", checkpoint)
    if trigger == "availableNow":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime="1 second")
    query = writer.start()
    if trigger == "availableNow":
        query.awaitTermination()
    else:
        query.awaitTermination(600)
    spark.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    main(*sys.argv[1:6])
