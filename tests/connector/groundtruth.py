"""What the simulator's archive holds, as rows the connector should have written.

Computed in-process from the same scenario (no HTTP), straight from the virtual archive and the
simulator's own encoder, so a test can compare the Delta table with it value by value.
"""
from __future__ import annotations

import orjson

from simulator.backend import Simulator
from simulator.pi.encoder import items
from simulator.scenario import load_scenario
from simulator.settings import Settings
from simulator.backend.streams import open_stream

NS_PER_TICK = 100


def simulator_for(scenario: str) -> Simulator:
    return Simulator(load_scenario(scenario), Settings())


def expected_rows(sim: Simulator, start_ns: int, end_ns: int, names: list[str] | None = None, *,
                  errors: bool = False) -> list[tuple]:
    """(tag, timestamp_ns, ordinal, value, string_value, digital_name, digital_code, is_system, good,
    questionable, substituted, annotated, units[, errors]) for every event with start <= t < end, sorted.

    PI's bad values map as the connector documents them: an error object's messages and a TimedValue's
    own Errors go to `errors` ("; "-joined, "Field: message"), an array value to string_value as JSON."""
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
                row = (entry.name, ticks * NS_PER_TICK, ordinal, *_value_columns(item["Value"]),
                       item["Good"], item["Questionable"], item["Substituted"], item["Annotated"],
                       item["UnitsAbbreviation"])
                rows.append((*row, _errors(item)) if errors else row)
    return sorted(rows)


def _value_columns(value: object) -> tuple:
    """(value, string_value, digital_name, digital_code, is_system) of a TimedValue's Value."""
    if isinstance(value, dict):
        if "Errors" in value:
            return None, None, None, None, False
        return None, None, value["Name"], value["Value"], bool(value.get("IsSystem", False))
    if isinstance(value, list):
        return None, orjson.dumps(value).decode(), None, None, False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), None, None, None, False
    return None, value, None, None, False


def _errors(item: dict) -> str | None:
    value = item["Value"]
    messages = list(value["Errors"]) if isinstance(value, dict) and "Errors" in value else []
    for error in item.get("Errors", ()):
        text = "; ".join(error.get("Message", ()))
        messages.append(f"{error['FieldName']}: {text}" if error.get("FieldName") else text)
    return "; ".join(messages) or None


def table_rows(sink, names: list[str] | None = None, *, errors: bool = False) -> list[tuple]:
    """The same tuple shape, read back from the connector's recorded_values table."""
    table = sink.read("recorded_values")
    columns = ["tag", "timestamp_ns", "ordinal", "value", "string_value", "digital_name", "digital_code",
               "is_system", "good", "questionable", "substituted", "annotated", "units"] + (["errors"] * errors)
    data = [table.column(c).to_pylist() for c in columns]
    rows = [tuple(r) for r in zip(*data)]
    if names is not None:
        rows = [r for r in rows if r[0] in names]
    return sorted(rows)
