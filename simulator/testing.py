"""simulator.testing: run the simulator for a test or a benchmark: gunicorn on a free loopback port.

    with SimulatorProcess("qa-tiny") as sim:
        requests.get(sim.url + "/piwebapi/dataservers")

Any PI Web API client's test suite can use it; `reset()` clears the mock state (journal, stubs,
runtime faults) between tests.

`GroundTruth` answers what a scenario's archive held at any time (late, edited, deleted and
buffered values as of then), as `pi-sim values ... --as-of T` prints it, for tests to compare a
client's output with, value by value:

    truth = GroundTruth("living", now="2026-11-25T01:00:00Z")
    rows = truth.items("LIVE.FLOW", "2026-11-25T00:00:00Z", "*", as_of=last_run)
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.error
import urllib.request
from pathlib import Path

from .serving.gunicorn_app import LIMIT_REQUEST_LINE

ROOT = Path(__file__).resolve().parents[1]
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when the thread that started it ends
# looked up here, not in the forked child (where a loader lock held by another thread could block it)
_prctl = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent goes, so no gunicorn outlives a killed test run."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, *, timeout: float = 60.0,
                    output: t.Callable[[], str] | None = None) -> None:
    """Wait until `url`/health answers 200; RuntimeError (with what `output()` returns, or the
    process's piped stdout) if the process exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if output is not None:
                text = output()
            else:
                piped = process.stdout.read() if process.stdout is not None else ""
                text = piped.decode(errors="replace") if isinstance(piped, bytes) else piped
            raise RuntimeError(f"the simulator exited: {text}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the simulator did not answer /health within {timeout:.0f} s")


class GroundTruth:
    """A scenario's virtual archive as of any time, without HTTP (the ground truth of its values).

    `now` pins the clock (relative times such as "*-1h" count from it); without it a scenario
    that pins none follows the wall clock, as the server does.
    """

    def __init__(self, scenario, *, now: str | int | None = None) -> None:
        from .backend.simulator import Simulator
        from .scenario import load_scenario
        from .scenario.model import Scenario
        from .settings import Settings

        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, now=now)
        if isinstance(scenario, Scenario) and now is not None:
            from dataclasses import replace

            from picommon import pitime

            ticks = now if isinstance(now, int) else pitime.parse_time(now, now=pitime.now_ticks(),
                                                                       tz=scenario.clock.timezone)
            loaded = replace(scenario, clock=replace(scenario.clock, now=ticks))
        self.sim = Simulator(loaded, Settings())

    def time(self, value: str | int, *, relative_to: int | None = None) -> int:
        """Ticks of a time given as ticks or PI/ISO text (TimeParseError, a ValueError, if bad)."""
        from picommon import pitime

        if isinstance(value, int):
            return value
        return pitime.parse_time(value, now=self.sim.now(), tz=self.sim.timezone, relative_to=relative_to)

    def stream(self, tag: str, server: str | None = None):
        """The stream of a PI point by name; ValueError naming what exists when there is none."""
        from .backend.streams import open_stream

        servers = self.sim.catalog.data_servers
        entry = self.sim.catalog.data_server_by_name(server) if server else (servers[0] if servers else None)
        if entry is None:
            known = ", ".join(s.name for s in servers) or "none"
            raise ValueError(f"no data server named {server!r} (the scenario has: {known})" if server
                             else "the scenario has no data server")
        point = entry.by_name.get(tag.lower())
        if point is None:
            raise ValueError(f"no PI point named {tag!r} on {entry.name}")
        return open_stream(point, self.sim.catalog, self.sim.archive, self.sim.now())

    def recorded(self, tag: str, start: str | int, end: str | int, *, as_of: str | int | None = None,
                 server: str | None = None):
        """The recorded events (`Values`) of [start, end] that the archive held at `as_of` (default: now)."""
        t0 = self.time(start)
        t1 = self.time(end, relative_to=t0)
        when = self.sim.now() if as_of is None else self.time(as_of)
        return self.stream(tag, server).archive.recorded(t0, t1, when, max_count=2**62)

    def items(self, tag: str, start: str | int, end: str | int, *, as_of: str | int | None = None,
              server: str | None = None) -> list[dict]:
        """`recorded` as PI Web API's TimedValue objects (Timestamp, Value, Good, Questionable...)."""
        import orjson

        from .pi.encoder import items

        stream = self.stream(tag, server)
        values = self.recorded(tag, start, end, as_of=as_of, server=server)
        return [orjson.loads(line) for line in items(values, stream.fmt)]


class SimulatorProcess:
    """gunicorn serving a scenario on 127.0.0.1:<free port> until stop().

    Its output (gunicorn's and the app's log) goes to a temporary file, never to a pipe nobody reads
    (a full pipe would stall the server); `output()` returns it. On Linux the server gets SIGTERM
    when the thread that started it ends (`die_with_parent`), so a test run killed before its
    fixtures' teardown leaves no server behind; pass False to start one from a short-lived thread."""

    def __init__(self, scenario: str, workers: int = 1, env: dict | None = None, *,
                 threads: int = 1, startup_timeout: float = 60.0, extra_args: tuple[str, ...] = (),
                 admin_token: str | None = None, die_with_parent: bool = True) -> None:
        self.scenario = scenario
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = admin_token  # a Bearer token /__admin accepts (needed once the scenario enables auth)
        environment = dict(os.environ, PISIM_SCENARIO=scenario, **(env or {}))
        if admin_token:
            environment["PISIM_ADMIN_TOKEN"] = admin_token
        command = [sys.executable, "-m", "gunicorn", "simulator.serving.wsgi:app", "-b", f"127.0.0.1:{self.port}",
                   "-w", str(workers), "--threads", str(threads), "--preload", "--timeout", "300",
                   "--limit-request-line", str(LIMIT_REQUEST_LINE), "--log-level", "warning", *extra_args]
        handle, self._log_path = tempfile.mkstemp(prefix="pisim-", suffix=".log")
        os.close(handle)
        with open(self._log_path, "ab") as log:  # appends: what output() reads never moves where it writes
            self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,
                                            stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent if die_with_parent and _prctl else None)
        try:
            wait_for_health(self.url, self.process, timeout=startup_timeout, output=self.output)
        except RuntimeError:
            self.stop()
            raise

    def output(self) -> str:
        """What the server has written so far (gunicorn's and the app's log lines)."""
        try:
            with open(self._log_path, "rb") as log:
                return log.read().decode(errors="replace")
        except FileNotFoundError:  # stopped
            return ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def reset(self) -> None:
        """POST /__admin/reset: journal, stubs, runtime faults and counters back to the start."""
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        request = urllib.request.Request(self.url + "/__admin/reset", method="POST", data=b"", headers=headers)
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
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._log_path)

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
