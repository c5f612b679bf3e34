"""kill -9 inside the connector at seeded points (between a Delta commit and its checkpoint, in the
middle of a Delta write, between two pages), then a rerun: the table must equal the archive."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from connector import crashpoints
from connector.errors import ConfigError
from connector.runner import extract
from connector.sink import DeltaSink
from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for
from tests.connector.groundtruth import table_rows
from tests.connector.test_e2e import END
from tests.connector.test_e2e import START
from tests.connector.test_e2e import config
from tests.connector.test_e2e import ns
from tests.connector.test_e2e import write_cli_config

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SEEDS = (3, 8)


@pytest.fixture(scope="module")
def truth():
    return expected_rows(simulator_for("qa-tiny"), ns(START), ns(END))


def run_killed(url: str, lake: Path, crash_at: str) -> subprocess.CompletedProcess:
    path = lake.parent / "config.yaml"
    write_cli_config(path, url, lake, flush_rows=3000)
    env = {**os.environ, crashpoints.ENV: crash_at}
    env.pop(crashpoints.MAIN_PID_ENV, None)
    return subprocess.run([sys.executable, "-m", "connector.cli", "run", str(path), "--no-progress"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def orphans(table_dir: Path) -> set[str]:
    """Data files on disk that the Delta log does not reference (what a write cut short leaves)."""
    if not (table_dir / "_delta_log").exists():
        return {str(p) for p in table_dir.rglob("*.parquet")}
    live = {os.path.normpath(u.removeprefix("file://")) for u in DeltaTable(str(table_dir)).file_uris()}
    return {str(p) for p in table_dir.rglob("*") if p.is_file() and "_delta_log" not in p.parts
            and os.path.normpath(str(p)) not in live}


@pytest.mark.parametrize("point", crashpoints.POINTS)
def test_a_run_killed_at_a_seeded_point_then_rerun_equals_the_archive(sim_url, tmp_path, truth, point):
    left_behind = 0
    for seed in SEEDS:
        n = random.Random(f"{point}:{seed}").randint(1, 4)
        lake = tmp_path / f"{seed}" / "lake"
        lake.parent.mkdir(parents=True)
        done = run_killed(sim_url, lake, f"{point}:{n}")
        assert done.returncode == -signal.SIGKILL, (point, n, done.returncode, done.stderr[-2000:])
        left_behind += len(orphans(lake / "recorded_values")) if (lake / "recorded_values").exists() else 0
        report = extract(config(sim_url, lake))
        assert report.status == "succeeded"
        assert table_rows(DeltaSink(str(lake))) == truth, f"{point}:{n}"
    if point == "in-commit" and not left_behind:  # the watcher lost the race to the write (a loaded machine)
        print("in-commit: every kill came after its write finished; no mid-write state was exercised")


def test_a_run_that_never_reaches_the_point_is_not_killed(sim_url, tmp_path, truth):
    done = run_killed(sim_url, tmp_path / "lake", "between-pages:100000")
    assert done.returncode == 0, done.stderr[-2000:]
    assert table_rows(DeltaSink(str(tmp_path / "lake"))) == truth


@pytest.mark.parametrize("text", ["after-commit", "after-commit:0", "mid-write:2", "in-commit:x"])
def test_a_malformed_crash_point_is_a_clear_error(monkeypatch, text):
    monkeypatch.setenv(crashpoints.ENV, text)
    with pytest.raises(ConfigError, match=r"<environment>: PI_CONNECTOR_CRASH_AT: .*expected POINT:N with POINT one of "
                                          r"after-commit, in-commit, between-pages"):
        crashpoints.arm()
