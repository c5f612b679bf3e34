"""bench.setup_costs: what the simulator pays before it serves: loading the 30,000-tag `large` scenario, and
validating a 150,000-value recorded response against the contract (the tests only check that both work).
"""
from __future__ import annotations

import time

import orjson

from . import Figure
from . import Options

NAME = "setup_costs"
ITEMS = 150_000
LOAD_GOAL_S = 2.0
VALIDATE_GOAL_S = 2.0


def best_of(options: Options, action) -> float:
    """The best wall time of `options.repeats` calls of `action` (after `options.warmup` untimed ones)."""
    for _ in range(options.warmup):
        action()
    best = float("inf")
    for _ in range(options.repeats):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def recorded_body(count: int) -> bytes:
    """A recorded response of `count` TimedValues, one of them a digital state."""
    items = [{"Timestamp": f"2026-11-25T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.5Z",
              "Value": i * 0.37, "UnitsAbbreviation": "m3/h", "Good": True, "Questionable": False, "Substituted": False,
              "Annotated": False} for i in range(count)]
    items[777]["Value"] = {"Name": "I/O Timeout", "Value": 246, "IsSystem": True}
    return orjson.dumps({"Links": {}, "Items": items, "UnitsAbbreviation": "m3/h"})


def run(options: Options) -> list[Figure]:
    from simulator.serving.contract import Contract
    from simulator.scenario import load_scenario

    load = best_of(options, lambda: load_scenario("large"))
    contract = Contract.load()
    body = recorded_body(ITEMS)
    path = "/piwebapi/streams/x/recorded"
    headers = {"Content-Type": "application/json"}
    validate = best_of(options, lambda: contract.validate_response("GET", path, 200, headers, body))
    return [
        Figure("load the 30,000-tag large scenario", load, "s", f"<= {LOAD_GOAL_S}", load / LOAD_GOAL_S,
               "value/goal"),
        Figure(f"validate a {ITEMS:,}-value recorded response", validate, "s", f"<= {VALIDATE_GOAL_S}",
               validate / VALIDATE_GOAL_S, "value/goal"),
    ]
