"""`make fuzz`: schemathesis against the simulator under gunicorn, longer than the in-suite run.

    python -m tests.fuzz [--max-examples 100] [--seed 42] [--scenario qa-tiny] [st run options...]

Starts gunicorn (simulator.testing.SimulatorProcess) on a free loopback port, writes a
schemathesis.toml built by `config()` (real WebIDs and paths of the scenario for the path/query
parameters that name objects, valid PI time strings and intervals for the free-text time
parameters), runs `st run contracts/piwebapi.yaml` with every check and phase, prints its summary
and exits with its exit code (0: no findings).

The same `config()` drives tests/simulator/test_schemathesis.py in process. Why each setting:

- PI routes and /health only: the /__admin API changes the server for every later request (fault
  rules answering 5xx, fixed delays, stubs), so fuzzing it would make the PI checks flaky. The
  admin API has its own tests (tests/simulator/test_mock_admin.py).
- Object-naming parameters (`webId`, `path`, `dataServerWebId`) get real values: a random string is
  not a WebID, and PI answers a malformed one with 400, which the schema (type: string) cannot
  tell apart from a valid one. Malformed and unknown WebIDs are tested in test_routes_*.py.
- Free-text parameters that PI parses (times, intervals, time zones, filter expressions, point
  queries) draw from dictionaries of valid values in positive cases, for the same reason.
- One `filter_failure` hook drops "schema-valid request rejected" only for 400s whose message
  shows the schema could not know (ACCEPTED_400): an unparsable PI time/interval/time zone/filter/
  point query (schemathesis' coverage phase ignores the dictionaries); MaxReturnedItemsPerCall
  counting maxCount (intervals, summary intervals) times the streams of a set; the Backward*/Forward*
  search modes, which forbid endTime, sortField and sortOrder (PI's documented rule); batch ParentIds
  that name no sub-request or form a cycle.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import schemathesis

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "contracts" / "piwebapi.yaml"
EXCLUDE = r"^/__admin"  # the PI routes and /health remain

TIMES = ["*", "*-1d", "*-2h", "*-30m", "t", "y", "today", "y+12h", "2026-11-24T06:00:00Z",
         "2026-11-24T12:30:15.1234567Z", "2026-11-24 13:05:00", "11/24/2026 1:05 PM", "24-Nov-26 08:00:00",
         "2026-11-23T22:00:00+02:00", "*+5m", ""]
INTERVALS = ["1h", "15m", "30s", "2h", "1d", "90s", "0.5h"]
TIME_ZONES = ["UTC", "Australia/Sydney", "AUS Eastern Standard Time", "Europe/Oslo", ""]
FILTERS = ["'.' > 0", "'.' < 50 AND '.' > 10", "BadVal('.')", "NOT '.' = 3", ""]
POINT_QUERIES = ["Tag:=TINY.*", "name:*GAP", "TINY.S*", "Tag:=* AND PointType:=Float32", ""]
TIME_PARAMETERS = ("startTime", "endTime", "syncTime")  # and `time`, bound per operation below
INTERVAL_PARAMETERS = ("interval", "summaryDuration", "sampleInterval")


def objects(scenario: str = "qa-tiny") -> dict[str, str]:
    """WebIDs and paths of one object of each kind in the scenario (the first of its kind)."""
    from simulator.backend import Simulator
    from simulator.scenario import load_scenario
    from simulator.settings import Settings

    sim = Simulator(load_scenario(scenario), Settings())
    catalog = sim.catalog
    server = catalog.data_servers[0]
    point = server.points[0]
    asset_server = catalog.asset_servers[0]
    database = asset_server.databases[0]
    element = next((e for e in database.elements if e.element.template), database.elements[0])
    attribute = element.attributes[0]
    frame = catalog.event_frames(database).search(None, None, "None", sim.now())[0]
    template = next(iter(database.templates.values()))
    return {"server": server.web_id(), "server_name": server.name, "point": point.web_id(),
            "point_path": point.path, "point2": server.points[-1].web_id(), "asset_server": asset_server.web_id(),
            "asset_server_name": asset_server.name, "database": database.web_id(), "database_path": database.path,
            "element": element.web_id(), "element_path": element.path, "attribute": attribute.web_id(),
            "attribute_path": attribute.path, "event_frame": frame.web_id(), "template": template.web_id()}


def _operation(path_regex: str, **parameters: object) -> dict:
    return {"include-path-regex": path_regex, "parameters": parameters}


def config(scenario: str = "qa-tiny", *, max_examples: int = 15, seed: int = 42, deterministic: bool = False) -> dict:
    """The schemathesis configuration (the shape of schemathesis.toml) for `scenario`."""
    o = objects(scenario)
    web_ids = [
        (r"^/piwebapi/dataservers/\{webId\}", o["server"]),
        (r"^/piwebapi/points/\{webId\}$", o["point"]),
        (r"^/piwebapi/streams/\{webId\}/", o["point"]),
        (r"^/piwebapi/streamsets/\{webId\}/", o["element"]),
        (r"^/piwebapi/assetservers/\{webId\}", o["asset_server"]),
        (r"^/piwebapi/assetdatabases/\{webId\}", o["database"]),
        (r"^/piwebapi/elements/\{webId\}", o["element"]),
        (r"^/piwebapi/attributes/\{webId\}", o["attribute"]),
        (r"^/piwebapi/eventframes/\{webId\}", o["event_frame"]),
        (r"^/piwebapi/elementtemplates/\{webId\}", o["template"]),
    ]
    operations = [_operation(regex, **{"path.webId": web_id}) for regex, web_id in web_ids]
    operations += [
        _operation(r"^/piwebapi/points$", **{"query.path": o["point_path"]}),
        _operation(r"^/piwebapi/points/multiple$", **{"query.webId": [o["point"], o["point2"]]}),
        _operation(r"^/piwebapi/points/search$", **{"query.dataServerWebId": o["server"],
                                                     "query.query": {"dictionary": "point-queries"}}),
        _operation(r"^/piwebapi/streamsets/(value|end|recorded|interpolated|plot|summary)$",
                   **{"query.webId": [o["point"], o["point2"]]}),
        {"include-path-regex": r"^/piwebapi/streamsets/updates$", "include-method": "POST",
         "headers": {"X-Requested-With": "schemathesis"}, "parameters": {"query.webId": [o["point"], o["point2"]]}},
        # `time`: a PI time string, or several (interpolatedattimes repeats it: a fixed list there)
        _operation(r"/(value|recordedattime)$", **{"query.time": {"dictionary": "times"}}),
        _operation(r"/interpolatedattimes$", **{"query.time": ["2026-11-24T06:00:00Z", "*-90m", "t+1h"]}),
        _operation(r"^/piwebapi/assetdatabases$", **{"query.path": o["database_path"]}),
        # clients send X-Requested-With on every write (PI's CSRF defence answers 403 without it)
        {"include-path-regex": r"^/piwebapi/(batch|streams/\{webId\}/(value|recorded|updates)|streamsets/recorded)$",
         "headers": {"X-Requested-With": "schemathesis"}},
        _operation(r"^/piwebapi/elements$", **{"query.path": o["element_path"]}),
        _operation(r"^/piwebapi/attributes$", **{"query.path": o["attribute_path"]}),
    ]
    parameters: dict[str, object] = {f"query.{name}": {"dictionary": "times"} for name in TIME_PARAMETERS}
    parameters.update({f"query.{name}": {"dictionary": "intervals"} for name in INTERVAL_PARAMETERS})
    parameters["query.timeZone"] = {"dictionary": "time-zones"}
    parameters["query.filterExpression"] = {"dictionary": "filters"}
    return {
        "hooks": "tests.fuzz",  # filter_failure below
        "seed": seed,
        "dictionaries": {"times": {"values": TIMES}, "intervals": {"values": INTERVALS},
                         "time-zones": {"values": TIME_ZONES}, "filters": {"values": FILTERS},
                         "point-queries": {"values": POINT_QUERIES}},
        "generation": {"max-examples": max_examples, "database": "none", "deterministic": deterministic},
        "parameters": parameters,
        "operations": operations,
    }


# -- the one filter on failures -------------------------------------------------------------------------

#: 400s that are right although the request matches the schema, each recognised by its message:
#: a PI time string, interval, time zone, filter or point query the schema can only call a string;
#: MaxReturnedItemsPerCall exceeded by maxCount/intervals times the streams of a set; a search mode
#: that forbids endTime/sortField/sortOrder; a batch whose ParentIds name no sub-request or loop.
ACCEPTED_400 = re.compile(
    r"of parameter '(startTime|endTime|time|syncTime|interval|summaryDuration|sampleInterval|timeZone)'"
    r" is not (a )?valid"
    r"|^The filterExpression '.*' is not valid"
    r"|^The value '.*' of parameter 'query' is not supported"
    r"|^Parameter '\w+' is greater than the maximum allowed \(\d+\)\.$"
    r"|^searchMode '\w+' does not allow endTime, sortField or sortOrder\.$"
    r"|^Batch request '.*' names an unknown parent '.*'\.$|^The batch request has a circular dependency"
    r"|^The Timestamp .* is not a valid time|^The Value .* (is not|needs)|^A TimedValue to write needs a 'Value'"
    r"|^The SYSTEM state .* needs", re.DOTALL)


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except "schema-valid request rejected" for the 400s in ACCEPTED_400."""
    if type(failure).__name__ != "RejectedPositiveData" or response.status_code != 400:
        return True
    try:
        messages = orjson.loads(response.content)["Errors"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return True
    return not (messages and all(ACCEPTED_400.search(message) for message in messages))


# -- a minimal TOML writer (tomllib only reads) ------------------------------------------------------------


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: dict) -> str:
    """`config()` as TOML: top-level scalars and inline tables, then one [[operations]] per operation."""
    lines = []
    for key, value in data.items():
        if key != "operations":
            lines.append(f"{_toml_value(key)} = {_toml_value(value)}")
    for operation in data.get("operations", []):
        lines.append("")
        lines.append("[[operations]]")
        for key, value in operation.items():
            lines.append(f"{_toml_value(key)} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="qa-tiny")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    known, extra = parser.parse_known_args(argv)

    from simulator.testing import SimulatorProcess

    st = Path(sys.executable).with_name("st")
    with tempfile.TemporaryDirectory(prefix="pisim-fuzz-") as tmp, \
            SimulatorProcess(known.scenario, workers=known.workers, threads=4) as server:
        config_file = Path(tmp) / "schemathesis.toml"
        config_file.write_text(to_toml(config(known.scenario, max_examples=known.max_examples, seed=known.seed)))
        command = [str(st) if st.exists() else "st", "--config-file", str(config_file), "run", str(CONTRACT),
                   "--url", server.url, "--exclude-path-regex", EXCLUDE, "--checks", "all",
                   "--phases", "examples,coverage,fuzzing,stateful",
                   "--max-examples", str(known.max_examples), "--seed", str(known.seed),
                   "--generation-database", "none", *extra]
        print("$", " ".join(command), flush=True)
        done = subprocess.run(command, cwd=ROOT, env=dict(os.environ, NO_COLOR="1"))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
