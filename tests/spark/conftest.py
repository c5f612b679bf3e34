"""One local SparkSession (local[4], few shuffle partitions, no UI) shared by every Spark test.

Under coverage (make test) the Python workers are not reused: each exits through os._exit after
its task, which coverage's `patch = _exit` turns into a save of what it ran (a reused worker is
killed at the end with its data unsaved, so the executors' code would count as never run)."""
from __future__ import annotations

import os
import sys

import pytest


def _measuring() -> bool:
    return "COVERAGE_PROCESS_CONFIG" in os.environ or "COVERAGE_PROCESS_START" in os.environ


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[4]").appName("pi-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC").config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.showConsoleProgress", "false")
               .config("spark.python.worker.reuse", "false" if _measuring() else "true")
               .getOrCreate())
    from connector.spark import PIDataSource

    session.dataSource.register(PIDataSource)
    yield session
    session.stop()
