"""`make chaos`: run the connector again and again against a living, faulty simulator, kill it, then compare.

    python -m chaos.run                        # the soak: 40 runs, 20 of them killed with SIGKILL
    python -m chaos.run --runs 8 --kills 4     # the short version `make test` runs
    python -m chaos.run --seed 7 --speed 300

The simulator's clock starts at --start and runs --speed times faster than real time, so late values arrive,
edits and deletions happen and the archive grows while the connector runs. Kills are chosen by --seed: three in
four at a named point inside the connector, each point in turn (connector/crashpoints.py, PI_CONNECTOR_CRASH_AT:
between a Delta commit and its checkpoint, in the middle of a Delta write, between pages), one in four after a
random delay from outside (a share of the last whole run's duration).
At the end the simulator is restarted with its clock pinned at the time the soak stopped and its faults off, the
connector runs once more, and every value of recorded_values is compared with the archive as of that time.
Exit 0 only when nothing is lost, duplicated or stale.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

from picommon.pitime import timestamp_ns as parse_ns

from .compare import compare

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO = HERE / "scenario.yaml"
#: named points inside the connector where it can kill itself (connector/crashpoints.py), chosen by the seed
CRASH_POINTS = ("after-commit", "in-commit", "between-pages")
NS_PER_TICK = 100


@dataclasses.dataclass
class Soak:
    runs: int = 0
    killed_outside: int = 0
    inside: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # point -> kills
    armed: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # point -> runs armed

    @property
    def killed_inside(self) -> int:
        return sum(self.inside.values())
    failed: int = 0
    succeeded: int = 0
    faults: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.run", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="connector runs in the soak (default 40)")
    parser.add_argument("--kills", type=int, default=20, help="how many of them are killed with SIGKILL")
    parser.add_argument("--seed", type=int, default=1, help="chooses which runs are killed, when and where")
    parser.add_argument("--speed", type=float, default=120.0, help="simulated seconds per real second")
    parser.add_argument("--start", default="2026-11-24T12:00:00Z", help="the simulated clock's start")
    parser.add_argument("--scenario", default=str(SCENARIO), help="the scenario file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if not 0 <= args.kills < args.runs:
        parser.error(f"--kills must be between 0 and --runs - 1 ({args.runs - 1}), got {args.kills}")
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="pi-chaos-"))
    try:
        soak, stopped_at = run_soak(args, rng, work)
        result = settle_and_compare(args, work, stopped_at)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    report(soak, result, args)
    return 0 if result.exact else 1


def simulator(scenario: str, env: dict[str, str]):
    from simulator.testing import SimulatorProcess

    return SimulatorProcess(scenario, env=env, threads=4)


def first_time(start: str) -> str:
    """Where every run's recorded window begins: two hours before the soak's clock starts."""
    import datetime as dt

    begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00")) - dt.timedelta(hours=2)
    return begin.strftime("%Y-%m-%dT%H:%M:%SZ")


def connector_config(work: Path, url: str, start: str) -> Path:
    path = work / "connector.yaml"
    path.write_text(textwrap.dedent(f"""
        source:
          url: {url}/piwebapi
          timeout: 2
          retry: {{attempts: 8, backoff: 0.05, max_backoff: 1}}
        destination: {{uri: {work / "lake"}}}
        tags: [{{name_filter: "CHAOS.*"}}]
        recorded: {{start: "{first_time(start)}", lookback: 30m, max_count: 100, flush_rows: 1000}}
        af: {{enabled: false}}
        event_frames: {{enabled: false}}
    """).lstrip())
    return path


def run_soak(args, rng: random.Random, work: Path) -> tuple[Soak, str]:
    """The runs against the live simulator; returns what happened and the simulated time it stopped at."""
    soak = Soak()
    kills = sorted(rng.sample(range(args.runs - 1), args.kills))  # the last soak run is never killed
    # three kills in four at a point inside (each point in turn, its hit count seeded), one from outside
    plan = {index: (CRASH_POINTS[k % len(CRASH_POINTS)] if k % 4 != 3 else None) for k, index in enumerate(kills)}
    env = {"PISIM_CLOCK_START": args.start, "PISIM_CLOCK_SPEED": str(args.speed)}
    with simulator(args.scenario, env) as sim:
        config = connector_config(work, sim.url, args.start)
        last_run = 2.0  # seconds a whole run took, measured on each one that was not killed
        for index in range(args.runs):
            soak.runs += 1
            crash_at = None
            delay = None
            if index in plan:
                point = plan[index]
                if point is not None:
                    crash_at = f"{point}:{rng.randint(1, 4)}"
                    soak.armed[point] += 1
                else:  # somewhere inside a run as long as the last full one (a fixed range mostly misses)
                    delay = rng.uniform(0.1, 0.9) * last_run
            began = time.monotonic()
            outcome = run_connector(config, work, crash_at=crash_at, kill_after=delay)
            if outcome == "ok" and not crash_at:
                last_run = time.monotonic() - began
            if outcome == "killed-outside":
                soak.killed_outside += 1
            elif outcome == "killed-inside" and crash_at:
                soak.inside[crash_at.partition(":")[0]] += 1
            elif outcome == "ok":
                soak.succeeded += 1
            else:
                soak.failed += 1
            time.sleep(rng.uniform(0.0, 1.0))  # let the clock move on between runs
        soak.faults = fired_faults(sim.url)
        post(sim.url + "/__admin/settings", {"faultsEnabled": False})  # the harness's own call must not fail
        stopped_at = server_time(sim.url)
    return soak, stopped_at


def run_connector(config: Path, work: Path, *, crash_at: str | None = None, kill_after: float | None = None) -> str:
    env = dict(os.environ)
    if crash_at:
        env["PI_CONNECTOR_CRASH_AT"] = crash_at
    command = [sys.executable, "-m", "connector.cli", "run", str(config), "--no-progress"]
    with open(work / "connector.log", "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            process.wait(timeout=kill_after if kill_after is not None else 600)
        except subprocess.TimeoutExpired:
            if kill_after is None:
                raise
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return "killed-outside"
    if process.returncode == -signal.SIGKILL:
        return "killed-inside" if crash_at else "killed-outside"
    return "ok" if process.returncode == 0 else f"exit {process.returncode}"


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def fired_faults(url: str) -> dict[str, tuple[int, int]]:
    document = get_json(url + "/__admin/faults")
    rules = document.get("faults", document) if isinstance(document, dict) else document
    return {rule["name"]: (rule.get("fired", 0), rule.get("matched", 0)) for rule in rules}


def server_time(url: str) -> str:
    return get_json(url + "/piwebapi/system/status")["ServerTime"]


def settle_and_compare(args, work: Path, stopped_at: str):
    """One clean run against the archive pinned where the soak stopped, then every value compared."""
    from tests.connector.groundtruth import expected_rows
    from tests.connector.groundtruth import table_rows

    from connector.sink import DeltaSink
    from simulator.backend import Simulator
    from simulator.scenario import load_scenario
    from simulator.settings import Settings

    with simulator(args.scenario, {"PISIM_NOW": stopped_at}) as sim:
        post(sim.url + "/__admin/settings", {"faultsEnabled": False})
        config = connector_config(work, sim.url, args.start)
        outcome = run_connector(config, work)
        if outcome != "ok":
            log = (work / "connector.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"chaos: the settling run failed ({outcome}):\n{log}")
    truth_sim = Simulator(load_scenario(args.scenario), Settings(now=stopped_at))
    now_ns = truth_sim.now() * NS_PER_TICK
    truth = expected_rows(truth_sim, parse_ns(first_time(args.start)), now_ns, errors=True)
    table = [row for row in table_rows(DeltaSink(str(work / "lake")), errors=True) if row[1] < now_ns]
    return compare(truth, table)


def post(url: str, body: object) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30):
        pass


def report(soak: Soak, result, args) -> None:
    print(f"chaos: seed {args.seed}, clock x{args.speed:g} from {args.start}")
    print(f"  runs {soak.runs}: {soak.succeeded} succeeded, {soak.killed_outside + soak.killed_inside} killed "
          f"with SIGKILL ({soak.killed_outside} from outside, {soak.killed_inside} at a point inside), "
          f"{soak.failed} failed")
    points = ", ".join(f"{point} {soak.inside[point]}/{soak.armed[point]}" for point in CRASH_POINTS)
    print(f"  kills inside by point (killed/armed; an armed run that ends first is not killed): {points}")
    fired = ", ".join(f"{name} {count}/{seen}" for name, (count, seen) in sorted(soak.faults.items())) or "none"
    print(f"  faults fired (of requests matched): {fired}; "
          f"{sum(count for count, _ in soak.faults.values())} in all")
    print(f"  values expected {result.expected:,}, in the table {result.rows:,}")
    print(f"  lost {result.lost}, duplicated {result.duplicated}, stale {result.stale}, "
          f"deleted but kept {result.kept_deleted}")
    for line in result.examples:
        print(f"    {line}")
    print("  EXACT" if result.exact else "  NOT EXACT")


if __name__ == "__main__":
    sys.exit(main())
