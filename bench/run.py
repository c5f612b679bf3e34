"""`make bench`: run the benchmark suites, print their tables, write .bench/<suite>.json.

    python -m bench.run                     # every suite
    python -m bench.run simulator           # one suite
    python -m bench.run --repeats 5 --quick
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import platform
import sys
import time
import traceback

from . import Options
from . import table
from . import write_json

SUITES = ("simulator", "setup_costs", "connector", "peers", "spark")


def available(name: str) -> bool:
    return importlib.util.find_spec(f"bench.{name}") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help=f"suites to run: {', '.join(SUITES)} (default: all)")
    parser.add_argument("--repeats", type=int, default=Options.repeats, help="timed calls per figure")
    parser.add_argument("--warmup", type=int, default=Options.warmup, help="untimed calls first")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 repeats, fewer figures")
    ns = parser.parse_args(argv)
    options = Options(repeats=3 if ns.quick else max(1, ns.repeats), warmup=1 if ns.quick else ns.warmup,
                      quick=ns.quick)
    unknown = [s for s in ns.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    chosen = ns.suites or [s for s in SUITES if available(s)]
    status = 0
    for name in chosen:
        if not available(name):
            print(f"bench.{name}: not written yet, skipped", file=sys.stderr)
            continue
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            figures = module.run(options)
        except Exception:  # one broken suite must not hide the others' figures
            traceback.print_exc()
            print(f"bench.{name}: FAILED", file=sys.stderr)
            status = 1
            continue
        elapsed = time.perf_counter() - started
        meta = {"suite": name, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": round(elapsed, 1),
                "repeats": options.repeats, "warmup": options.warmup, "python": platform.python_version(),
                "machine": platform.machine(), "cpus": _cpus()}
        print()
        print(table(figures, f"bench.{name} ({elapsed:.0f} s, {options.repeats} timed calls per figure)"))
        path = write_json(getattr(module, "NAME", name), figures, meta)
        print(f"\nwritten: {path}")
    return status


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
