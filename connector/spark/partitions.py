"""connector.spark.partitions: Spark input partitions planned on the driver, read on executors as Arrow batches.

A value table's partition is a `connector.plan.Part` (tag group x window); the tables that are one
snapshot (points, AF, event frames) are one partition read whole. Executors build their PI client
once per Python worker (cached by the options) and read with the jobs' readers and exact paging.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql.datasource import InputPartition

from picommon.pitime import timestamp as parse_server_time
from picommon.pitime import to_ns

from ..client import PIClient
from ..discovery import PointInfo
from ..discovery import discover
from ..plan import RECORDED
from ..plan import Part
from ..plan import plan_spans
from ..plan import read_part
from ..tables import TABLES
from .options import ReadOptions

VALUE_TABLES = (RECORDED, "interpolated_values", "summary_values")
_clients: dict[str, PIClient] = {}


class PIPartition(InputPartition):
    """One part of a value table (as Part.to_dict()), or the whole of a snapshot table (None)."""

    def __init__(self, part: dict | None) -> None:
        super().__init__(part)


def client_for(options: ReadOptions) -> PIClient:
    """This worker's client for these options (a session is not picklable; one per process is enough)."""
    key = json.dumps(sorted(options.options.items()))
    if key not in _clients:
        _clients[key] = PIClient.from_config(options.config)
    return _clients[key]


def server_now_ns(client: PIClient, options: ReadOptions) -> tuple[dict, int]:
    server = client.data_server(options.config.source.data_server)
    return server, to_ns(parse_server_time(server["ServerTime"]))


def find_points(client: PIClient, server: dict, options: ReadOptions) -> list[PointInfo]:
    return discover(client, server, options.config.tags).points


def plan(options: ReadOptions, points: list[PointInfo], spans: dict[str, tuple[int, int]]) -> list[PIPartition]:
    """The partitions covering each tag's span exactly once."""
    step = 1 if options.table == RECORDED else options.step_ns
    parts = plan_spans(options.table, points, spans, window_ns=options.window_ns, step_ns=step,
                       values_per_step=options.values_per_step, source=options.config.source,
                       tags_per_part=options.tags_per_part, max_count=options.max_count)
    return [PIPartition(part.to_dict()) for part in parts]


def read(options: ReadOptions, partition: InputPartition) -> Iterator[pa.RecordBatch]:
    """The partition's rows in the table's Arrow schema."""
    client = client_for(options)
    if partition.value is None:
        data = _snapshot(client, options)
    else:
        data = read_part(client, options.config, Part.from_dict(partition.value), run_id="spark")
    if data is not None and data.num_rows:
        yield from data.to_batches()


def _snapshot(client: PIClient, options: ReadOptions) -> pa.Table:
    """Points, AF elements or attributes, or the event frames since `start`, through the Lakeflow reader."""
    from ..lakeflow import PIConnector

    rows, _ = PIConnector(dict(options.options), client=client).read_table(options.table, {}, {})
    return pa.Table.from_pylist([{**r, "run_id": "spark"} for r in rows], schema=TABLES[options.table].schema)
