"""Reading the bronze tables from a plain script exits 0 every time (the exit-134 abort of deltalake's handler)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pyarrow.fs as pafs
import pytest

from connector.deltaread import arrow_filesystem
from connector.deltaread import read_table
from connector.sink import DeltaSink

from .test_sink import BASE_NS
from .test_sink import DAY_NS
from .test_sink import recorded

RUNS = 20
READER = textwrap.dedent(
    """
    import pathlib, sys
    from connector.deltaread import read_table
    for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
        if (path / "_delta_log").exists():
            table = read_table(str(path))
            print(path.name, table.num_rows, table.column_names[:3])
    """
)


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory):
    """A lakehouse of several date-partitioned files (the shape that made scripts abort)."""
    root = tmp_path_factory.mktemp("lakehouse")
    sink = DeltaSink(root)
    for day in range(6):
        sink.append("recorded_values", recorded(40, 2_000, BASE_NS + day * DAY_NS, 10**9 * 40, run_id=f"r{day}"))
    return root


def test_a_reading_script_exits_zero_every_time(lakehouse):
    outputs = set()
    for run in range(RUNS):
        done = subprocess.run([sys.executable, "-c", READER, str(lakehouse)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"run {run + 1} of {RUNS} exited {done.returncode}: {done.stderr[-2000:]}"
        outputs.add(done.stdout)
    assert outputs == {"recorded_values 480000 ['web_id', 'tag', 'timestamp']\n"}


def test_read_table_keeps_partition_columns_and_filters(lakehouse):
    table = read_table(str(lakehouse / "recorded_values"), columns=["web_id", "date"],
                       filters=[("run_id", "=", "r2")])
    assert table.num_rows == 80_000
    assert table.column_names == ["web_id", "date"]
    assert {str(day) for day in table.column("date").unique().to_pylist()} == {"2026-01-03"}


def test_the_sink_reads_through_the_native_file_system(lakehouse):
    sink = DeltaSink(lakehouse)
    assert sink.read("recorded_values", ["web_id"]).num_rows == 480_000
    assert sink.count("recorded_values") == 480_000


@pytest.mark.parametrize(("uri", "options", "expected"), [
    ("s3://bucket/lake/points", {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1",
                                 "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, "bucket/lake/points"),
    ("s3://bucket/lake/points/", {"aws_allow_http": "true", "endpoint": "127.0.0.1:9000"}, "bucket/lake/points"),
])
def test_s3_uris_get_a_native_s3_file_system(uri, options, expected):
    filesystem = arrow_filesystem(uri, options)
    assert isinstance(filesystem, pafs.SubTreeFileSystem)
    assert filesystem.base_path.rstrip("/") == expected
    assert isinstance(filesystem.base_fs, pafs.S3FileSystem)


def test_other_object_stores_keep_deltalakes_handler():
    assert arrow_filesystem("abfss://container@account.dfs.core.windows.net/lake/points") is None


def test_local_paths_and_file_uris_are_rooted_at_the_table(tmp_path):
    for uri in (str(tmp_path), f"file://{tmp_path}"):
        filesystem = arrow_filesystem(uri)
        assert filesystem.base_path.rstrip("/") == str(tmp_path)
        assert isinstance(filesystem.base_fs, pafs.LocalFileSystem)
