"""connector.spark.datasource: `spark.read.format("pi")` and `spark.readStream.format("pi")`.

    from connector.spark import PIDataSource
    spark.dataSource.register(PIDataSource)
    spark.read.format("pi").option("url", "https://server/piwebapi").option("tags", "SYD.*")
        .option("start", "*-1d").option("table", "recorded").load()

Options are checked when the source is made, on the driver, before anything is read
(`connector.spark.options`). The schema is the bronze table's (`connector.tables`), converted.
Batch reads are planned on the driver (tag groups x windows, `connector.plan`) and read on the
executors with exact paging; streaming reads are in `connector.spark.stream`.
"""
from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql.datasource import DataSource
from pyspark.sql.datasource import DataSourceReader
from pyspark.sql.datasource import InputPartition
from pyspark.sql.types import StructType

from picommon.pitime import from_ns
from picommon.pitime import to_ns

from ..config import resolve_time
from ..errors import ConfigError
from ..tables import TABLES
from . import partitions
from .partitions import PIPartition  # a bare name: the reader's partitions() method hides the module
from .options import ReadOptions
from .options import parse_options
from .schema import spark_schema


class PIDataSource(DataSource):
    """PI Web API recorded, interpolated and summary values, points, AF and event frames."""

    def __init__(self, options) -> None:
        super().__init__(options)
        self.read_options = parse_options(dict(options))

    @classmethod
    def name(cls) -> str:
        return "pi"

    def schema(self) -> StructType:
        return spark_schema(TABLES[self.read_options.table].schema)

    def reader(self, schema: StructType) -> DataSourceReader:
        return PIBatchReader(self.read_options)

    def streamReader(self, schema: StructType):
        from .stream import PIStreamReader

        if self.read_options.table not in partitions.VALUE_TABLES:
            raise ConfigError(f"expected one of recorded, interpolated, summary for a stream, got "
                              f"{self.read_options.table!r} (read it with spark.read)", file="<spark options>",
                              line=None, field="table")
        return PIStreamReader(self.read_options)


class PIBatchReader(DataSourceReader):
    """Plans [start, end) of every tag on the driver; each partition is a tag group x window."""

    def __init__(self, options: ReadOptions) -> None:
        self.options = options

    def partitions(self) -> list[PIPartition]:
        options = self.options
        if options.table not in partitions.VALUE_TABLES:
            return [PIPartition(None)]
        client = partitions.client_for(options)
        server, now_ns = partitions.server_now_ns(client, options)
        now = from_ns(now_ns)
        start_ns, end_ns = to_ns(resolve_time(options.start, now)), to_ns(resolve_time(options.end, now))
        if end_ns < start_ns:
            raise ConfigError(f"expected an end after start ({options.start}), got {options.end!r}",
                              file="<spark options>", line=None, field="end")
        if options.table != partitions.RECORDED:
            step = options.step_ns
            start_ns, end_ns = start_ns // step * step, end_ns // step * step
        points = partitions.find_points(client, server, options)
        planned = partitions.plan(options, points, {p.web_id: (start_ns, end_ns) for p in points})
        return planned or [PIPartition({"empty": True})]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        if isinstance(partition.value, dict) and partition.value.get("empty"):
            return iter(())
        return partitions.read(self.options, partition)
