"""The command line, as a user runs it: `python -m connector.cli run|discover|status CONFIG` in a
subprocess, checking exit codes and what reaches the terminal (one clear line, never a traceback,
never a password)."""
from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from connector.sink import DeltaSink
from simulator.testing import SimulatorProcess
from simulator.testing import free_port

from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for

pytestmark = pytest.mark.e2e

CONFIGS = Path(__file__).resolve().parent / "configs"
START = "2026-11-24T22:00:00Z"
END = "2026-11-24T23:00:00Z"
TINY_TAGS = ["TINY.FLOAT32", "TINY.FLOAT64", "TINY.INT32", "TINY.DIGITAL", "TINY.STRING", "TINY.STEP",
             "TINY.SUBSECOND", "TINY.GAP"]
PASSWORD = "pw-Zq8!r3x-never-print"
WRONG = "wrong-Kp2#v9-never-print"


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PI_TEST_")}
    environment.update(env or {})
    environment.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "connector.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip())
    return path


def tiny_config(tmp_path: Path, url: str, **extra: str) -> Path:
    return write(tmp_path / "tiny.yaml", f"""
source:
  url: {url}/piwebapi
  retry: {{attempts: 4, backoff: 0.01, max_backoff: 0.1}}
destination:
  uri: ./lake
tags:
  - name_filter: "TINY.*"
recorded: {{start: "{START}", end: "{END}"}}
af: {{enabled: {extra.get("af", "false")}}}
event_frames: {{enabled: false}}
""")


# ---------------------------------------------------------------------------------- bad configs


@pytest.mark.parametrize("name", ["bad-wrong-type.yaml", "bad-unknown-key.yaml", "bad-yaml-syntax.yaml"])
def test_a_bad_config_exits_2_with_file_line_field_problem(name, tmp_path):
    path = CONFIGS / name
    expect = re.search(r"# expect: (.*)", path.read_text())
    result = cli("run", str(path), "--no-progress", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    first = result.stderr.strip().splitlines()[0]
    assert re.match(rf"pi-connector: {re.escape(str(path))}:\d+: [\w.\[\]()]+: .+", first), first
    if expect:
        assert f"{path}:{expect.group(1).strip()}" in result.stderr.replace("\n", " ")


def test_a_missing_env_variable_is_a_config_error_that_names_it(tmp_path):
    path = write(tmp_path / "env.yaml", """
source:
  url: http://127.0.0.1:9/piwebapi
  auth: {type: basic, username: qa, password: "${PI_TEST_UNSET_PASSWORD}"}
destination: {uri: ./lake}
tags: [{name_filter: "*"}]
""")
    result = cli("run", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert re.search(rf"{re.escape(str(path))}:3: source\.auth\.password: .*PI_TEST_UNSET_PASSWORD", result.stderr)


def test_an_unreachable_server_exits_1_with_one_line(tmp_path):
    path = write(tmp_path / "down.yaml", f"""
source:
  url: http://127.0.0.1:{free_port()}/piwebapi
  retry: {{attempts: 2, backoff: 0.01}}
destination: {{uri: ./lake}}
tags: [{{name_filter: "*"}}]
""")
    result = cli("run", str(path), "--no-progress", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pi-connector: cannot reach http://127.0.0.1:")
    assert "connection refused" in lines[0] and "2 attempts" in lines[0]


# --------------------------------------------------------------------------------- against qa-tiny


def test_discover_lists_the_tiny_tags(sim_url, tmp_path):
    result = cli("discover", str(tiny_config(tmp_path, sim_url)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "8 tags on PISRV01" in result.stdout
    catalog = simulator_for("qa-tiny").catalog
    expected = {p.name: p for p in catalog.data_servers[0].points}
    assert sorted(expected) == sorted(TINY_TAGS)
    rows = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 4 and cells[0] in expected:
            rows[cells[0]] = cells
    assert sorted(rows) == sorted(TINY_TAGS)
    for name, (_, point_type, units, web_id) in rows.items():
        assert point_type == expected[name].point.point_type
        assert units == expected[name].point.engineering_units
        assert web_id == expected[name].web_id("IDOnly")  # whole, even though stdout is a pipe
    assert not (tmp_path / "lake").exists()  # discover writes nothing


def test_run_then_status_shows_row_counts_and_cursors(sim_url, tmp_path):
    config = tiny_config(tmp_path, sim_url)
    before = cli("status", str(config), cwd=tmp_path)
    assert before.returncode == 0 and "recorded_values" not in before.stdout

    run = cli("run", str(config), "--no-progress", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    truth = expected_rows(simulator_for("qa-tiny"), _ns(START), _ns(END))
    assert "succeeded" in run.stdout
    assert f"8 tags; {len(truth):,} values" in run.stdout

    sink = DeltaSink(str(tmp_path / "lake"))
    assert sink.count("recorded_values") == len(truth)
    status = cli("status", str(config), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    table = _table(status.stdout)
    assert table["recorded_values"] == [f"{len(truth):,}", str(sink.version("recorded_values")), "8", END, END]
    assert table["points"][0] == "8" and table["points"][2] == "0"
    assert table["run_log"][2] == "0"
    assert "_checkpoints" not in table  # internal tables are not listed


def test_a_run_keeps_pandas_out_of_its_process_and_stays_exact(sim_url, tmp_path):
    """pyarrow would import pandas (0.3-0.4 s) on the first array; the CLI never needs it."""
    import importlib.util

    assert importlib.util.find_spec("pandas") is not None  # installed here, so the test can fail
    run = cli("run", str(tiny_config(tmp_path, sim_url)), "--no-progress", cwd=tmp_path,
              env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")]
    assert "pyarrow.lib" in imported and "deltalake" in imported
    assert "pandas" in imported  # pyarrow did try (importtime lists the attempt)...
    assert not [name for name in imported if name.startswith("pandas.")]  # ...and got none of pandas
    truth = expected_rows(simulator_for("qa-tiny"), _ns(START), _ns(END))
    assert DeltaSink(str(tmp_path / "lake")).count("recorded_values") == len(truth)


def _table(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            rows[cells[0]] = cells[1:]
    return rows


def _ns(text: str) -> int:
    from connector.paging import parse_ns

    return parse_ns(text)


# ------------------------------------------------------------------------------------- secrets


@pytest.fixture(scope="module")
def faults():
    with SimulatorProcess("qa-faults", env={"PISIM_QA_PASSWORD": PASSWORD}) as sim:
        yield sim


def faults_config(tmp_path: Path, url: str) -> Path:
    return write(tmp_path / "faults.yaml", f"""
source:
  url: {url}/piwebapi
  auth: {{type: basic, username: qa, password: "${{PI_TEST_PASSWORD}}"}}
  retry: {{attempts: 8, backoff: 0.01, max_backoff: 0.1, max_retry_after: 0.2}}
destination: {{uri: ./lake}}
tags: [{{name_filter: "FAULT.TAG0*"}}]
recorded: {{start: "2026-11-24T23:50:00Z", end: "2026-11-24T23:55:00Z", method: batch, max_count: 10}}
""")


def secrets_of(password: str) -> list[str]:
    return [password, base64.b64encode(f"qa:{password}".encode()).decode()]


@pytest.mark.parametrize("command", ["run", "discover"])
def test_a_refused_password_never_reaches_the_output(faults, tmp_path, command):
    config = faults_config(tmp_path, faults.url)
    args = ["-vv", command, str(config)] + (["--no-progress"] if command == "run" else [])
    result = cli(*args, cwd=tmp_path, env={"PI_TEST_PASSWORD": WRONG})
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "401" in output and "check source.auth" in output
    assert "DEBUG" in output  # -vv really logged the requests
    for secret in secrets_of(WRONG):
        assert secret not in output
    assert "Traceback" not in output


def test_a_good_password_never_reaches_the_output_of_a_verbose_run(faults, tmp_path):
    # the scenario's own faults (429 every 7th request, 5xx...) stay on: retries are logged too
    config = faults_config(tmp_path, faults.url)
    result = cli("-vv", "run", str(config), "--no-progress", cwd=tmp_path, env={"PI_TEST_PASSWORD": PASSWORD})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "9 tags" in output and "DEBUG" in output
    for secret in secrets_of(PASSWORD):
        assert secret not in output
    fired = {f["name"]: f["fired"] for f in requests.get(faults.url + "/__admin/faults", timeout=10).json()["faults"]}
    assert any(fired.values()), fired
    status = cli("-vv", "status", str(config), cwd=tmp_path, env={"PI_TEST_PASSWORD": PASSWORD})
    assert status.returncode == 0
    assert PASSWORD not in status.stdout + status.stderr
