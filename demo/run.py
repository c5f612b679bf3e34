"""demo.run: start the simulator (default scenario), run the connector, show what landed, stop.

Run it twice: the second run reads only each tag's lookback and adds nothing twice.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from rich.console import Console
from rich.table import Table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--config", default="demo/connector.yaml")
    parser.add_argument("--scenario", default=os.environ.get("SCENARIO", "default"))
    args = parser.parse_args(argv)
    console = Console()

    from connector.cli import BarProgress
    from connector.cli import print_report
    from connector.config import load_config
    from connector.errors import ConnectorError
    from connector.runner import extract
    from connector.sink import DeltaSink
    from connector.tables import TABLES
    from simulator.testing import SimulatorProcess

    started = time.perf_counter()
    console.print(f"starting the simulator (scenario [bold]{args.scenario}[/]) ...")
    with SimulatorProcess(args.scenario, workers=2) as sim:
        os.environ["PI_URL"] = sim.url + "/piwebapi"
        console.print(f"simulator up at {sim.url} in {time.perf_counter() - started:.1f} s")
        try:
            config = load_config(args.config)
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("{task.description:<24}"), BarColumn(), TaskProgressColumn(),
                          TextColumn("{task.fields[values]:>16}"), TextColumn("{task.fields[rate]:>12}"),
                          TimeElapsedColumn(), console=console, transient=True) as bars:
                report = extract(config, progress=BarProgress(bars))
        except ConnectorError as error:
            console.print(f"[bold red]demo failed:[/] {error}")
            return getattr(error, "exit_code", 1)
    print_report(report)
    sink = DeltaSink(config.destination.uri)
    landed = Table(title=f"what is in {config.destination.uri} now")
    for column in ("table", "rows", "delta version"):
        landed.add_column(column, justify="left" if column == "table" else "right")
    for name, table in TABLES.items():
        if not table.internal and sink.exists(name):
            landed.add_row(name, f"{sink.count(name):,}", str(sink.version(name)))
    console.print(landed)
    console.print(f"demo done in {time.perf_counter() - started:.1f} s (simulator stopped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
