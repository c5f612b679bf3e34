"""bench.profile: where one extraction's time goes (stage by stage), and the orjson decode floor.

`breakdown(url, tags, start, end)` runs the connector's library call in this process with timers
wrapped around its stages (nothing in connector/ changes; the wrappers are removed afterwards):

    discovery    check, data server, the points named (their HTTP included)
    points       the `points` table write
    planning     RecordedJob.plan (groups and first windows)
    http         sending each request and reading its body (PIClient._request, minus what it parses)
    json decode  msgspec decoding of the value pages and of the small answers
    paging       the pager's own work: cursors, page boundaries, repeated-timestamp bookkeeping
    arrow build  convert.recorded_rows: values into Arrow columns
    window split rows split into older/newer than each tag's cursor (reading.read_window, the rest)
    reconcile    comparing re-read rows with the table (none on a first run)
    delta commit DeltaSink.append/merge/version on recorded_values
    checkpoint   Checkpoints.commit (a MERGE into the checkpoints table)

Each timer counts its own time only (a stage's nested stages are subtracted) per thread, so the
figures are thread-seconds: with several requests in flight the stages sum to more than the wall.
The value pages read are kept, then decoded again with orjson.loads alone, one core, best of 3:
that is the decode floor, the fastest any Python reader could turn these bodies into objects.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

import orjson

STAGES = ("discovery", "points", "planning", "http", "json decode", "paging", "arrow build", "window split",
          "reconcile", "delta commit", "checkpoint")
ABSORBING = {"discovery", "points", "checkpoint"}  # what they call is theirs (HTTP of discovery, its Delta write)


@dataclass
class Breakdown:
    """One timed extraction: wall seconds, thread-seconds per stage, the bodies of its value pages."""

    rows: int = 0
    wall: float = 0.0
    job_wall: float = 0.0  # the recorded job alone
    stages: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bodies: list[bytes] = field(default_factory=list)


class _Timers:
    """Exclusive per-thread timers: a stage's time minus the timed stages it calls."""

    def __init__(self, result: Breakdown) -> None:
        self.result = result
        self.local = threading.local()
        self.lock = threading.Lock()

    def wrap(self, stage: str, function):
        timers = self

        def timed(*args, **kwargs):
            stack = timers.local.__dict__.setdefault("stack", [])
            if stack and stack[-1][0] in ABSORBING:
                return function(*args, **kwargs)
            frame = [stage, 0.0]
            stack.append(frame)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                stack.pop()
                if stack:
                    stack[-1][1] += elapsed
                with timers.lock:
                    timers.result.stages[stage] += elapsed - frame[1]
                    timers.result.calls[stage] += 1

        return timed


class _TimedDecoder:
    def __init__(self, decoder, timers: _Timers) -> None:
        self.decode = timers.wrap("json decode", decoder.decode)


@contextlib.contextmanager
def instrumented(result: Breakdown):
    """The connector's stages wrapped with timers while inside; the originals put back after."""
    import connector.jobs.reading as reading
    import connector.jobs.reconcile as reconcile
    import connector.paging as paging
    import connector.runner as runner
    from connector.client import PIClient
    from connector.jobs.recorded import RecordedJob
    from connector.sink import DeltaSink
    from connector.state import Checkpoints

    timers = _Timers(result)
    original_get_bytes = PIClient.get_bytes

    def keep_body(self, path, params=None):
        body = original_get_bytes(self, path, params)
        if "recorded" in path:
            with timers.lock:
                result.bodies.append(body)
        return body

    patches = [
        (runner, "discover"), (PIClient, "check"), (PIClient, "data_server"),
        (runner, "write_points"), (RecordedJob, "plan"), (PIClient, "_request"),
        (paging.RecordedReader, "read"), (reading, "recorded_rows"), (reading, "read_window"),
        (reconcile, "reconcile"), (DeltaSink, "append"), (DeltaSink, "merge"), (DeltaSink, "version"),
        (Checkpoints, "commit"),
    ]
    stage_of = {"discover": "discovery", "check": "discovery", "data_server": "discovery",
                "write_points": "points", "plan": "planning", "_request": "http", "read": "paging",
                "recorded_rows": "arrow build", "read_window": "window split", "reconcile": "reconcile",
                "append": "delta commit", "merge": "delta commit", "version": "delta commit",
                "commit": "checkpoint"}
    saved = [(owner, name, owner.__dict__[name]) for owner, name in patches]
    saved += [(paging, "STREAM_SET", paging.STREAM_SET), (paging, "TIMED_VALUES", paging.TIMED_VALUES),
              (PIClient, "_parse", PIClient.__dict__["_parse"]), (PIClient, "get_bytes", original_get_bytes)]
    try:
        for owner, name in patches:
            setattr(owner, name, timers.wrap(stage_of[name], getattr(owner, name)))
        paging.STREAM_SET = _TimedDecoder(paging.STREAM_SET, timers)
        paging.TIMED_VALUES = _TimedDecoder(paging.TIMED_VALUES, timers)
        PIClient._parse = staticmethod(timers.wrap("json decode", PIClient.__dict__["_parse"].__func__))
        PIClient.get_bytes = keep_body
        yield result
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def breakdown(url: str, tags: list[str], start: str, end: str, *, concurrency: int = 4) -> Breakdown:
    """One extraction of `tags` over [start, end) into a temporary Delta table, timed stage by stage."""
    from connector.config import ConnectorConfig
    from connector.jobs.recorded import RecordedJob
    from connector.runner import extract

    lake = tempfile.mkdtemp(prefix="bench-profile-")
    result = Breakdown()
    config = ConnectorConfig.from_dict({
        "source": {"url": url, "concurrency": concurrency}, "destination": {"uri": lake},
        "tags": [{"names": tags}], "recorded": {"start": start, "end": end},
        "af": {"enabled": False}, "event_frames": {"enabled": False},
    })
    original_run = RecordedJob.run

    def timed_run(job):
        started = time.perf_counter()
        try:
            return original_run(job)
        finally:
            result.job_wall = time.perf_counter() - started

    try:
        with instrumented(result):
            RecordedJob.run = timed_run
            started = time.perf_counter()
            report = extract(config)
            result.wall = time.perf_counter() - started
        result.rows = report.tables["recorded_values"].rows
    finally:
        RecordedJob.run = original_run
        shutil.rmtree(lake, ignore_errors=True)
    return result


def decode_floor(bodies: list[bytes], repeats: int = 3) -> tuple[int, float]:
    """(values, best seconds) to orjson.loads every body once, on this thread (one core)."""
    values = 0
    for body in bodies:
        document = orjson.loads(body)
        items = document.get("Items", [])
        values += sum(len(s.get("Items", [])) for s in items) if items and "Items" in items[0] else len(items)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for body in bodies:
            orjson.loads(body)
        best = min(best, time.perf_counter() - started)
    return values, best


def main(argv: list[str]) -> None:
    """`python -m bench.profile URL START END TAG...`: the same extraction twice in this fresh process
    (cold: first use of every library; warm: the second), one JSON line each, then the orjson floor."""
    import json

    url, start, end, *tags = argv
    for label in ("cold", "warm"):
        result = breakdown(url, tags, start, end)
        values, seconds = decode_floor(result.bodies)
        print(json.dumps({"run": label, "rows": result.rows, "wall": result.wall, "job_wall": result.job_wall,
                          "stages": dict(result.stages), "calls": dict(result.calls), "floor_values": values,
                          "floor_seconds": seconds}), flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
