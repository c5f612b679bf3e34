"""connector.runner: extract(config) -> RunReport, one run: check, discover, read, write, checkpoint.

Order matters for "nothing half-done": the server and credentials are checked and the tags
discovered before any table is touched; each job commits its data before its cursors; the run log
is written whatever happens, and a failed run says so there and in the exception it raises.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from dataclasses import field

from . import crashpoints
from .client import PIClient
from .config import ConnectorConfig
from .context import Progress
from .context import RunContext
from .context import TableReport
from picommon.pitime import timestamp as parse_server_time
from .discovery import Discovery
from .discovery import discover
from .errors import ConnectorError
from .jobs.assets import write_af
from .jobs.computed import write_interpolated
from .jobs.computed import write_summaries
from .jobs.eventframes import write_event_frames
from .jobs.points import write_points
from .jobs.follow import FollowJob
from .jobs.recorded import RecordedJob
from .sink import DeltaSink


@dataclass
class RunReport:
    run_id: str
    server_time: dt.datetime
    tables: dict[str, TableReport] = field(default_factory=dict)
    points: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "running"

    @property
    def values(self) -> int:
        return sum(r.rows for name, r in self.tables.items() if name.endswith("_values"))


def extract(config: ConnectorConfig, *, progress: Progress | None = None, client: PIClient | None = None,
            sink: DeltaSink | None = None, processes_allowed: bool = False) -> RunReport:
    """Run the configured extraction once. Raises a ConnectorError subclass on failure.

    `processes_allowed`: big recorded reads may use worker processes (pass it only from code that
    runs under an `if __name__ == "__main__":` guard, as the CLI does; `recorded.workers` overrides)."""
    started = time.perf_counter()
    crashpoints.arm()
    own_client = client is None
    client = client or PIClient.from_config(config)
    sink = sink or DeltaSink(config.destination.uri, dict(config.destination.storage_options))
    try:
        client.check()
        server = client.data_server(config.source.data_server)
        now = parse_server_time(server.get("ServerTime") or dt.datetime.now(dt.timezone.utc).isoformat())
        ctx = RunContext(config, client, sink, run_id=str(uuid.uuid4()), now=now, progress=progress or Progress())
        report = RunReport(ctx.run_id, now)
        found = discover(client, server, config.tags) if config.tags else Discovery()
        report.points, report.missing = len(found.points), found.missing
        ctx.log("run_started", message=f"server time {now.isoformat()}, {len(found.points)} tags")
        for what, why in found.missing:
            ctx.log("tag_missing", level="warning", tag=what, message=why)
        try:
            _run_jobs(ctx, config, found, report, processes_allowed)
            report.status = "succeeded"
        except ConnectorError as exc:
            report.status = "failed"
            ctx.log("run_failed", level="error", message=str(exc))
            raise
        except BaseException as exc:
            report.status = "failed"
            ctx.log("run_failed", level="error", message=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            report.seconds = time.perf_counter() - started
            ctx.log("run_finished", rows=report.values, message=f"{report.status} in {report.seconds:.1f} s")
            ctx.flush_log()
        return report
    finally:
        if own_client:
            client.close()


def _run_jobs(ctx: RunContext, config: ConnectorConfig, found: Discovery, report: RunReport,
              processes_allowed: bool) -> None:
    report.tables["points"] = write_points(ctx, found.points)
    if config.recorded.enabled and found.points:
        job = FollowJob if config.recorded.mode == "follow" else RecordedJob
        report.tables["recorded_values"] = job(ctx, found.points, processes_allowed=processes_allowed).run()
    if config.interpolated.enabled and found.points:
        report.tables["interpolated_values"] = write_interpolated(ctx, found.points)
    if config.summaries.enabled and found.points:
        report.tables["summary_values"] = write_summaries(ctx, found.points)
    if config.af.enabled:
        report.tables.update(write_af(ctx))
    if config.event_frames.enabled:
        report.tables.update(write_event_frames(ctx))
