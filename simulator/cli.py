"""simulator.cli: `pi-sim serve|validate|values|webid|schema`.

A bad scenario prints `file:line:column: field: problem` and exits 2, with no traceback.
"""
from __future__ import annotations

import sys

import click

from .errors import ScenarioError


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
@click.option("--now", default=None, envvar="PISIM_NOW", help="Freeze the clock at this time (ISO 8601).")
@click.option("--validate-responses", is_flag=True, default=None,
              help="Check every response against contracts/piwebapi.yaml (slower; for debugging).")
def serve(scenario, host, port, workers, threads, now, validate_responses) -> None:
    """Serve a scenario with gunicorn."""
    from .gunicorn_app import serve as run
    from .settings import Settings

    try:
        settings = Settings.load(scenario=scenario, host=host, port=port, workers=workers, threads=threads,
                                 now=now, validate_responses=validate_responses)
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
@click.option("--scenario", "-s", default="default", help="Scenario file or bundled name.")
@click.option("--start", default="*-1h", help="PI time (default *-1h).")
@click.option("--end", default="*", help="PI time (default *).")
@click.option("--server", default=None, help="Data server name (default: the first).")
def values(tag, scenario, start, end, server) -> None:
    """Print a tag's recorded events from the virtual archive (the ground truth), one JSON per line."""
    import orjson

    from . import pitime
    from .backend import Simulator
    from .encoder import items
    from .scenario import load_scenario
    from .settings import Settings
    from .streams import open_stream

    try:
        sim = Simulator(load_scenario(scenario), Settings())
    except ScenarioError as error:
        _fail(error)
    servers = sim.catalog.data_servers
    entry = sim.catalog.data_server_by_name(server) if server else (servers[0] if servers else None)
    if entry is None:
        known = ", ".join(s.name for s in servers) or "none"
        _fail(ValueError(f"no data server named {server!r} (the scenario has: {known})" if server
                         else "the scenario has no data server"))
    point = entry.by_name.get(tag.lower())
    if point is None:
        _fail(ValueError(f"no PI point named {tag!r} on {entry.name}"))
    now = sim.now()
    try:
        t0 = pitime.parse_time(start, now=now, tz=sim.timezone)
        t1 = pitime.parse_time(end, now=now, tz=sim.timezone, relative_to=t0)
    except pitime.TimeParseError as error:
        _fail(error)
    stream = open_stream(point, sim.catalog, sim.archive, now)
    events = stream.archive.recorded(t0, t1, now, max_count=2**62)
    for line in items(events, stream.fmt):
        click.echo(orjson.dumps(orjson.loads(line)).decode())


@main.command()
@click.argument("web_id")
def webid(web_id) -> None:
    """Decode a WebID and print what it names."""
    from . import webid as codec

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
