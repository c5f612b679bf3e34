"""What the simulator's archive holds, as rows the connector should have written.

Computed in-process from the same scenario (no HTTP), straight from the virtual archive and the
simulator's own encoder, so a test can compare the Delta table with it value by value.
"""
from __future__ import annotations

import orjson

from simulator.backend import Simulator
from simulator.encoder import items
from simulator.scenario import load_scenario
from simulator.settings import Settings
from simulator.streams import open_stream

NS_PER_TICK = 100


def simulator_for(scenario: str) -> Simulator:
    return Simulator(load_scenario(scenario), Settings())


def expected_rows(sim: Simulator, start_ns: int, end_ns: int, names: list[str] | None = None) -> list[tuple]:
    """(tag, timestamp_ns, ordinal, value, string_value, digital_name, digital_code, is_system, good,
    questionable, substituted, annotated, units) for every event with start <= t < end, sorted."""
    now = sim.now()
    rows = []
    for server in sim.catalog.data_servers:
        for entry in server.points:
            if names is not None and entry.name not in names:
                continue
            stream = open_stream(entry, sim.catalog, sim.archive, now)
            events = stream.archive.recorded(start_ns // NS_PER_TICK, end_ns // NS_PER_TICK, now, max_count=10**9)
            events = events.take(events.ticks < end_ns // NS_PER_TICK)
            last, ordinal = None, 0
            for ticks, text in zip(events.ticks.tolist(), items(events, stream.fmt)):
                item = orjson.loads(text)
                ordinal = ordinal + 1 if ticks == last else 0
                last = ticks
                value = item["Value"]
                state = value if isinstance(value, dict) else None
                rows.append((
                    entry.name, ticks * NS_PER_TICK, ordinal,
                    float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None,
                    value if isinstance(value, str) else None,
                    state["Name"] if state else None, state["Value"] if state else None,
                    bool(state["IsSystem"]) if state else False,
                    item["Good"], item["Questionable"], item["Substituted"], item["Annotated"],
                    item["UnitsAbbreviation"],
                ))
    return sorted(rows)


def table_rows(sink, names: list[str] | None = None) -> list[tuple]:
    """The same tuple shape, read back from the connector's recorded_values table."""
    table = sink.read("recorded_values")
    columns = ["tag", "timestamp_ns", "ordinal", "value", "string_value", "digital_name", "digital_code",
               "is_system", "good", "questionable", "substituted", "annotated", "units"]
    data = [table.column(c).to_pylist() for c in columns]
    rows = [tuple(r) for r in zip(*data)]
    if names is not None:
        rows = [r for r in rows if r[0] in names]
    return sorted(rows)
