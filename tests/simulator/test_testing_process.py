"""simulator.testing.SimulatorProcess: a server that never outlives its test run, and its output.

A pytest run killed with SIGKILL runs no teardown: the gunicorn it started must go anyway
(PR_SET_PDEATHSIG), or it keeps a port and a CPU busy on a shared CI machine. Its log goes to a
file, so a chatty server never blocks on a full pipe, and `output()` shows it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from simulator.testing import SimulatorProcess

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

PARENT = """
import sys, time
from simulator.testing import SimulatorProcess
server = SimulatorProcess("qa-tiny")
print(server.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose (its parent, now init, reaps it)
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[-1][0] != "Z"


def test_the_server_goes_when_the_process_that_started_it_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(parent.stdout.readline())
        assert alive(server_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 20
        while alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(server_pid), "gunicorn outlived the killed test process"
    finally:
        parent.kill()
        parent.stdout.close()


def test_output_is_the_servers_log_and_a_failed_start_shows_it(tmp_path):
    with SimulatorProcess("qa-tiny", extra_args=("--log-level", "info")) as server:
        assert "Booting worker" in server.output()
    assert server.output() == ""  # stopped: the log file is gone
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nseed: not-a-number\n")
    with pytest.raises(RuntimeError, match=r"(?s)the simulator exited: .*bad.yaml:2:7: seed: expected a whole number"):
        SimulatorProcess(str(bad), startup_timeout=60)
