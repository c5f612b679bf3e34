"""connector.spark: the Spark 4 Python Data Source `pi` (batch and streaming) over the planner and the jobs' readers.

`from connector.spark import PIDataSource; spark.dataSource.register(PIDataSource)`; pyspark is
imported only when a Spark part is asked for, so `connector.spark.options` works without it.
"""
from __future__ import annotations


def __getattr__(name: str):
    if name == "PIDataSource":
        from .datasource import PIDataSource

        return PIDataSource
    raise AttributeError(name)
