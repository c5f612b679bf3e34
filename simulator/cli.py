"""simulator.cli: `pi-sim serve|validate|values|webid|schema`.

A bad scenario prints `file:line:column: field: problem` and exits 2, with no traceback.
"""
from __future__ import annotations

import sys

import click

from .pi.errors import ScenarioError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pi-lakehouse")
def main() -> None:
    """A PI Web API simulator driven by YAML scenario files."""


def _fail(error: Exception, code: int = 2) -> None:
    click.echo(f"pi-sim: {error}", err=True)
    sys.exit(code)


@main.command()
@click.option("--scenario", "-s", default=None, envvar="PISIM_SCENARIO",
              help="Scenario file, or a bundled name (default, large, qa-gaps...).")
@click.option("--host", default=None, envvar="PISIM_HOST", help="Interface to bind (default 127.0.0.1).")
@click.option("--port", "-p", type=int, default=None, envvar="PISIM_PORT", help="Port (default 8000).")
@click.option("--workers", "-w", type=int, default=None, envvar="PISIM_WORKERS",
              help="gunicorn worker processes (default 1; the mock's state lives in each one).")
@click.option("--threads", "-t", type=int, default=None, envvar="PISIM_THREADS",
              help="Threads per worker (default 1): requests served side by side in one process.")
@click.option("--now", default=None, envvar="PISIM_NOW",
              help="Pin the clock at this time (ISO 8601 or PI time such as '*-1d' or 't'). "
                   "Default: the scenario's clock.now, else the wall clock (moving).")
@click.option("--clock-speed", type=float, default=None, envvar="PISIM_CLOCK_SPEED",
              help="Run the clock N times faster than real time (soak tests), from --clock-start.")
@click.option("--clock-start", default=None, envvar="PISIM_CLOCK_START",
              help="Where a moving clock starts (default: the scenario's clock.now, else the wall clock).")
@click.option("--validate-responses", is_flag=True, default=None,
              help="Check every response against contracts/piwebapi.yaml (slower; for debugging).")
@click.option("--admin-token", default=None, envvar="PISIM_ADMIN_TOKEN",
              help="A Bearer token for /__admin (prefer the PISIM_ADMIN_TOKEN variable: argv is visible to ps).")
@click.option("--admin-open", is_flag=True, default=None,
              help="Leave /__admin open to everyone even when the scenario enables auth (local QA only).")
def serve(scenario, host, port, workers, threads, now, clock_speed, clock_start, validate_responses, admin_token,
          admin_open) -> None:
    """Serve a scenario with gunicorn. The clock follows the wall clock unless pinned."""
    from .serving.gunicorn_app import serve as run
    from .settings import Settings

    try:
        settings = Settings.load(scenario=scenario, host=host, port=port, workers=workers, threads=threads,
                                 now=now, clock_speed=clock_speed, clock_start=clock_start,
                                 validate_responses=validate_responses, admin_token=admin_token,
                                 admin_open=admin_open)
        run(settings)
    except ScenarioError as error:
        _fail(error)
    except ValueError as error:
        _fail(error)


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files) -> None:
    """Check scenario files without serving them."""
    from .scenario import validate_file

    failed = False
    for path in files:
        try:
            summary = validate_file(path)
        except ScenarioError as error:
            click.echo(str(error), err=True)
            failed = True
            continue
        click.echo(f"{path}: ok ({summary})")
    if failed:
        sys.exit(2)


@main.command()
@click.argument("tag")
@click.argument("start_time", metavar="[START", required=False)
@click.argument("end_time", metavar="[END]]", required=False)
@click.option("--scenario", "-s", default="default", help="Scenario file or bundled name.")
@click.option("--start", default=None, help="PI time (default *-1h); or give START as an argument.")
@click.option("--end", default=None, help="PI time (default *); or give END as an argument.")
@click.option("--as-of", "as_of", default=None,
              help="Print what the archive held at this time (PI time or ISO; default: now).")
@click.option("--now", default=None, envvar="PISIM_NOW",
              help="Pin the clock (default: the scenario's clock.now, else the wall clock).")
@click.option("--server", default=None, help="Data server name (default: the first).")
def values(tag, start_time, end_time, scenario, start, end, as_of, now, server) -> None:
    """Print a tag's recorded events from the virtual archive (the ground truth), one JSON per line.

    With --as-of T: the events as the archive held them at T (late values not yet arrived, edits and
    deletions made by then), what a client reading at T was served.
    """
    import orjson

    from .testing import GroundTruth

    for positional, option, name in ((start_time, start, "START"), (end_time, end, "END")):
        if positional is not None and option is not None:
            _fail(ValueError(f"give {name} as an argument or as --{name.lower()}, not both"))
    try:
        truth = GroundTruth(scenario, now=now)
        rows = truth.items(tag, start_time or start or "*-1h", end_time or end or "*", as_of=as_of, server=server)
    except ScenarioError as error:
        _fail(error)
    except ValueError as error:
        _fail(error)
    for row in rows:
        click.echo(orjson.dumps(row).decode())


@main.command()
@click.argument("web_id")
def webid(web_id) -> None:
    """Decode a WebID and print what it names."""
    from .pi import webid as codec

    try:
        info = codec.decode(web_id)
    except codec.InvalidWebIdError as error:
        _fail(error)
    click.echo(repr(info))


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors: `pi-sim schema > scenario.schema.json`)."""
    import json

    from .scenario.json_schema import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=1))


if __name__ == "__main__":
    main()
