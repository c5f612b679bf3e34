"""connector.cli: `pi-connector run|discover|status CONFIG`.

The exit code comes from the exception class (ConfigError 2, other ConnectorErrors 1); a user
mistake prints one clear line, never a traceback. Credentials never reach the terminal.
"""
from __future__ import annotations

import dataclasses
import importlib.abc
import logging
import sys
import threading

import click
from rich.console import Console
from rich.progress import BarColumn
from rich.progress import Progress as RichProgress
from rich.progress import TaskID
from rich.progress import TaskProgressColumn
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.progress import TimeRemainingColumn
from rich.table import Table as RichTable

from .context import Progress
from .errors import ConnectorError

console = Console(stderr=True)
#: Width of standard output when it is not a terminal: rich would cut cells at 80 columns ("2026-11-24T23…").
PIPE_WIDTH = 1000


def _stdout() -> Console:
    """Standard output: the terminal's width, or wide enough that a pipe or file gets every cell whole."""
    out = Console()
    return out if out.is_terminal else Console(width=PIPE_WIDTH)


class BarProgress(Progress):
    """Progress events drawn as rich progress bars: tags done, values, values/s, ETA."""

    def __init__(self, bars: RichProgress) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}
        self.values: dict[str, int] = {}
        self.lock = threading.Lock()

    def start(self, label: str, total: int) -> None:
        with self.lock:
            self.values[label] = 0
            self.tasks[label] = self.bars.add_task(label, total=max(total, 1), values="0 values", rate="")

    def advance(self, label: str, done: int = 0, values: int = 0) -> None:
        with self.lock:
            task = self.tasks.get(label)
            if task is None:
                return
            self.values[label] += values
            elapsed = self.bars.tasks[task].elapsed or 0.0
            rate = f"{self.values[label] / elapsed:,.0f}/s" if elapsed > 0 else ""
            self.bars.update(task, advance=done, values=f"{self.values[label]:,} values", rate=rate)

    def finish(self, label: str) -> None:
        with self.lock:
            task = self.tasks.get(label)
            if task is not None:
                self.bars.update(task, completed=self.bars.tasks[task].total)


def _fail(error: Exception) -> None:
    code = getattr(error, "exit_code", 1)
    console.print(f"[bold red]pi-connector:[/] {error}", highlight=False, markup=True, soft_wrap=True)
    sys.exit(code)


def _load(path: str):
    from .config import load_config

    try:
        return load_config(path)
    except ConnectorError as error:
        _fail(error)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="pi-lakehouse")
def main(verbose: int) -> None:
    """Extract PI Web API data into bronze Delta tables."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _release_memory_promptly()


def _release_memory_promptly() -> None:
    """Arrow's default allocator (jemalloc) keeps freed pages for a while; a long extraction that
    frees a window's columns every second keeps its peak lower with the system allocator."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


@main.command()
@click.argument("config")
@click.option("--no-progress", is_flag=True, help="No progress bars (for logs and CI).")
@click.option("--follow", is_flag=True, help="recorded.mode follow: apply PI's Stream Updates since the last run.")
def run(config: str, no_progress: bool, follow: bool) -> None:
    """Run the extraction once (incremental: safe to run again)."""
    from .runner import extract

    loaded = _load(config)
    if follow:
        loaded = dataclasses.replace(loaded, recorded=dataclasses.replace(loaded.recorded, mode="follow"))
    try:
        if no_progress or not console.is_terminal:
            report = extract(loaded, processes_allowed=True)
        else:
            columns = (TextColumn("{task.description:<24}"), BarColumn(), TaskProgressColumn(),
                       TextColumn("{task.fields[values]:>16}"), TextColumn("{task.fields[rate]:>12}"),
                       TimeElapsedColumn(), TimeRemainingColumn())
            with RichProgress(*columns, console=console) as bars:
                report = extract(loaded, progress=BarProgress(bars), processes_allowed=True)
    except ConnectorError as error:
        _fail(error)
    print_report(report)


def print_report(report) -> None:
    """The run's summary: rows and speed per table."""
    out = _stdout()
    table = RichTable(title=f"run {report.run_id} {report.status} in {report.seconds:.1f} s "
                            f"(server time {report.server_time.isoformat()})")
    for column in ("table", "rows written", "seconds", "values/s"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for name, item in report.tables.items():
        rate = f"{item.values_per_second:,.0f}" if item.values_per_second else ""
        table.add_row(name, f"{item.rows:,}", f"{item.seconds:.2f}", rate)
    out.print(table)
    out.print(f"{report.points} tags; {report.values:,} values in {report.seconds:.1f} s "
              f"({report.values / report.seconds if report.seconds else 0:,.0f} values/s)")
    for what, why in report.missing:
        out.print(f"[yellow]not found:[/] {what}: {why}")


@main.command()
@click.argument("config")
def discover(config: str) -> None:
    """List the tags the config selects (nothing is written)."""
    from .client import PIClient
    from .discovery import discover as find

    loaded = _load(config)
    try:
        with PIClient.from_config(loaded) as client:
            client.check()
            server = client.data_server(loaded.source.data_server)
            found = find(client, server, loaded.tags)
    except ConnectorError as error:
        _fail(error)
    out = _stdout()
    table = RichTable(title=f"{len(found.points)} tags on {server.get('Name')}")
    for column in ("name", "type", "units", "web_id"):
        table.add_column(column)
    for p in found.points:
        table.add_row(p.name, p.point_type, p.engineering_units, p.web_id)
    out.print(table)
    for what, why in found.missing:
        out.print(f"[yellow]not found:[/] {what}: {why}")


@main.command()
@click.argument("config")
def status(config: str) -> None:
    """Row counts and checkpoints of the destination's tables."""
    from .sink import DeltaSink
    from .state import Checkpoints
    from .tables import TABLES

    loaded = _load(config)
    sink = DeltaSink(loaded.destination.uri, dict(loaded.destination.storage_options))
    out = _stdout()
    table = RichTable(title=f"tables at {loaded.destination.uri}")
    for column in ("table", "rows", "version", "cursors", "oldest cursor", "newest cursor"):
        table.add_column(column)
    try:
        checkpoints = Checkpoints(sink)
        for name, declared in TABLES.items():
            if declared.internal or not sink.exists(name):
                continue
            cursors = checkpoints.load(name) if sink.exists("_checkpoints") else {}
            values = sorted(c.cursor_ns for c in cursors.values())
            from .paging import format_ns

            table.add_row(name, f"{sink.count(name):,}", str(sink.version(name)), str(len(values)),
                          format_ns(values[0]) if values else "", format_ns(values[-1]) if values else "")
    except ConnectorError as error:
        _fail(error)
    out.print(table)


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """`import pandas` fails in this process, as if pandas were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of pi-connector's process)", name=name)
        return None


def entry() -> None:
    """The `pi-connector` console script (and `python -m connector.cli`): `main` in a process without pandas.

    pyarrow imports pandas, when it is installed, on its first array built from Python objects:
    0.3-0.4 s of a small run's 1.5 s here, though nothing the CLI does uses pandas. Kept out of this
    process only: the library (`connector.PI` in a notebook) keeps pandas."""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _WithoutPandas())
    main()


if __name__ == "__main__":
    entry()
