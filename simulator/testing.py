"""simulator.testing: run the simulator for a test or a benchmark: gunicorn on a free loopback port.

    with SimulatorProcess("qa-tiny") as sim:
        requests.get(sim.url + "/piwebapi/dataservers")

Any PI Web API client's test suite can use it; `reset()` clears the mock state (journal, stubs,
runtime faults) between tests.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, *, timeout: float = 60.0) -> None:
    """Wait until `url`/health answers 200; RuntimeError (with its output, if piped) if the process
    exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout is not None else ""
            output = output.decode(errors="replace") if isinstance(output, bytes) else output
            raise RuntimeError(f"the simulator exited: {output}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the simulator did not answer /health within {timeout:.0f} s")


class SimulatorProcess:
    """gunicorn serving a scenario on 127.0.0.1:<free port> until stop()."""

    def __init__(self, scenario: str, workers: int = 1, env: dict | None = None, *,
                 threads: int = 1, startup_timeout: float = 60.0, extra_args: tuple[str, ...] = (),
                 unlimited_request_line: bool = True) -> None:
        """`unlimited_request_line=False` keeps gunicorn's default request-line limit (4094 bytes)."""
        self.scenario = scenario
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ, PISIM_SCENARIO=scenario, **(env or {}))
        command = [sys.executable, "-m", "gunicorn", "simulator.wsgi:app", "-b", f"127.0.0.1:{self.port}",
                   "-w", str(workers), "--threads", str(threads), "--preload", "--timeout", "300",
                   *(("--limit-request-line", "0") if unlimited_request_line else ()),
                   "--log-level", "warning", *extra_args]
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        try:
            wait_for_health(self.url, self.process, timeout=startup_timeout)
        except RuntimeError:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def reset(self) -> None:
        """POST /__admin/reset: journal, stubs, runtime faults and counters back to the start."""
        request = urllib.request.Request(self.url + "/__admin/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
