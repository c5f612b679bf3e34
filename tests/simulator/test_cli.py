"""`pi-sim validate|values|webid|serve`: exit codes, messages without tracebacks, ground-truth output."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from picommon import pitime
from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
BAD = sorted((ROOT / "tests" / "scenarios" / "bad").glob("*.yaml"))
GOOD = sorted((ROOT / "simulator" / "scenarios").glob("*.yaml"))
PI_SIM = [sys.executable, "-m", "simulator.cli"]


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def expected_message(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: ")
    return first[len("# expect: "):].replace("\\n", "\n")


def test_validate_accepts_every_bundled_scenario():
    result = run("validate", *map(str, GOOD))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(GOOD) and all(": ok (" in line for line in lines)
    assert result.stderr == ""


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_validate_rejects_each_bad_file_with_file_line_column(path):
    env = {k: None for k in os.environ if k.startswith("PISIM_TEST_")}
    result = run("validate", str(path), env=env)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:{expected_message(path)}")
    assert "Traceback" not in result.stderr


def test_validate_reports_every_file_and_fails_if_one_is_bad():
    good, bad = GOOD[0], BAD[0]
    result = run("validate", str(good), str(bad), str(ROOT / "no-such-file.yaml"))
    assert result.exit_code == 2
    assert f"{good}: ok" in result.stdout
    assert str(bad) in result.stderr and "no-such-file.yaml" in result.stderr


def test_validate_in_a_real_process_prints_no_traceback():
    path = next(p for p in BAD if p.stem == "yaml-syntax")
    done = subprocess.run([*PI_SIM, "validate", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{path}:{expected_message(path)}")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_values_prints_the_archives_events(tiny_scenario):
    from simulator.archive import Archive

    result = run("values", "TINY.SUBSECOND", "--scenario", "qa-tiny", "--start", "2026-11-24T12:00:00Z",
                 "--end", "2026-11-24T12:00:10Z")
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    point = next(p for p in tiny_scenario.data_servers[0].points if p.name == "TINY.SUBSECOND")
    now = tiny_scenario.clock.now
    events = Archive(tiny_scenario).of(point).recorded(pitime.parse_time("2026-11-24T12:00:00Z", now=now),
                                                       pitime.parse_time("2026-11-24T12:00:10Z", now=now), now,
                                                       max_count=10**6)
    assert [line["Timestamp"] for line in lines] == pitime.format_times(events.ticks)
    assert [line["Value"] for line in lines] == events.value.tolist()
    assert len(lines) > 10 and len({line["Timestamp"] for line in lines}) < len(lines)  # duplicates shown


def test_values_of_a_digital_tag_and_the_defaults():
    result = run("values", "tiny.digital", "-s", "qa-tiny")
    assert result.exit_code == 0
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 12  # an event every 5 minutes for the last hour (with jitter)
    assert {line["Value"]["Name"] for line in lines} <= {"Off", "On", "Fault"}
    assert all(line["Timestamp"] <= "2026-11-25T00:00:00Z" for line in lines)


@pytest.mark.parametrize(("args", "words"), [
    (("values", "NO.SUCH.TAG", "-s", "qa-tiny"), "no PI point named 'NO.SUCH.TAG'"),
    (("values", "TINY.STEP", "-s", "qa-tiny", "--start", "whenever"), "whenever"),
    (("values", "TINY.STEP", "-s", "qa-tiny", "--server", "ELSEWHERE"), "no data server named 'ELSEWHERE'"),
    (("values", "TINY.STEP", "-s", "no-such-scenario"), "no-such-scenario"),
    (("webid", "F1XX"), "F1XX"),
])
def test_values_and_webid_errors_exit_2_with_a_message(args, words):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Traceback" not in result.stderr


def test_webid_decodes(tiny_scenario):
    from simulator.pi import webid

    server = tiny_scenario.data_servers[0]
    text = webid.point(server.id, 3, server.name, "TINY.INT32")
    result = run("webid", text)
    assert result.exit_code == 0
    assert "DP" in result.stdout and "TINY.INT32" in result.stdout and "3" in result.stdout


def test_serve_with_a_bad_scenario_exits_2_before_forking():
    path = next(p for p in BAD if p.stem == "bad-enum")
    done = subprocess.run([*PI_SIM, "serve", "--scenario", str(path), "--port", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert f"{path}:{expected_message(path)}" in done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr + done.stdout
    assert "Listening at" not in done.stderr + done.stdout


def test_serve_with_a_bad_setting_exits_2():
    env = dict(os.environ, PISIM_WORKERS="many")
    done = subprocess.run([*PI_SIM, "serve", "--scenario", "qa-tiny"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize(("option", "value"), [("--workers", "0"), ("--threads", "-1")])
def test_serve_refuses_fewer_than_one_worker_or_thread(option, value):
    done = subprocess.run([*PI_SIM, "serve", "--scenario", "qa-tiny", "--port", "1", option, value], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"pi-sim: {option}: expected a whole number >= 1, got {value}" in done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr


def test_serve_with_two_workers_says_the_mock_state_is_per_worker():
    from simulator.testing import free_port
    from simulator.testing import wait_for_health

    port = free_port()
    process = subprocess.Popen([*PI_SIM, "serve", "--scenario", "qa-tiny", "--port", str(port), "-w", "2", "-t", "3"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process, timeout=60)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "pi-sim: note: 2 workers, each with its own mock state" in stderr
    assert "--workers 1 (and --threads N)" in stderr
    assert stderr.count("Booting worker") == 2
    assert "gthread" in stderr  # threads > 1: gunicorn's threaded worker
