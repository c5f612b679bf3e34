"""simulator.scenario.loader: scenario file -> marked YAML tree -> for_each expanded -> Scenario.

`read_yaml` reads with picommon.markedyaml (marks on every node, YAML 1.2 core scalars, `${NAME}`
and `${NAME:-default}` from the environment, `$$` for a `$`) and turns its problems into
ScenarioError, so any error reads `file:line:column: dotted.path: message`. `load_scenario` runs
read -> expand -> schema and is the only entry point the rest of the simulator uses.
"""
from __future__ import annotations

import os
import typing as t
from pathlib import Path

from picommon import markedyaml
from picommon.markedyaml import MarkedDict
from picommon.markedyaml import format_path
from picommon.markedyaml import locate

from ..pi.errors import ScenarioError
from .expand import expand

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from .model import Scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
MAX_SHOWN_ERRORS = 10


def read_yaml(text: str, *, file: str = "<scenario>", env: Mapping[str, str] | None = None) -> object:
    """Parse one YAML document into MarkedDict/MarkedList/scalars (picommon.markedyaml), with ${ENV}
    substituted from env (default: os.environ); a problem becomes a ScenarioError at its line:column."""
    try:
        return markedyaml.read_yaml(text, env=os.environ if env is None else env)
    except markedyaml.YAMLProblem as exc:
        raise ScenarioError(exc.message, file=file, line=exc.line, column=exc.column) from None


def error_at(root: object, file: str, problems: list[tuple[tuple, str, bool]]) -> ScenarioError:
    """One ScenarioError for `problems` ((path, message, at_key) triples), the first by line.

    The message of the first problem leads; up to MAX_SHOWN_ERRORS follow as full
    `file:line:column: path: message` lines. `.errors` holds one ScenarioError per problem (the same
    message at the same place counts once).
    """
    located = []
    seen: set[tuple] = set()
    for path, message, at_key in problems:
        mark = locate(root, path, key=at_key)
        line, column = mark if mark else (None, None)
        if mark is not None and (line, column, message) in seen:
            continue  # one mistake in a mapping that many for_each copies share
        seen.add((line, column, message))
        located.append(ScenarioError(message, file=file, line=line, column=column, path=format_path(path)))
    located.sort(key=lambda e: (e.line or 0, e.column or 0))
    first = located[0]
    if len(located) == 1:
        first.errors = located  # type: ignore[attr-defined]
        return first
    shown = located[:MAX_SHOWN_ERRORS]
    more = f"\n... and {len(located) - len(shown)} more" if len(located) > len(shown) else ""
    message = first.message + f"\n({len(located)} problems)\n" + "\n".join(str(e) for e in shown) + more
    error = ScenarioError(message, file=file, line=first.line, column=first.column, path=first.path)
    error.errors = located  # type: ignore[attr-defined]
    return error


# --------------------------------------------------------------------------------------------------
# entry points

def scenario_path(name_or_path: str | os.PathLike) -> Path:
    """A path to a scenario file: an existing path as is, or a bare name from simulator/scenarios/.

    "default", "qa-gaps" or "default.yaml" name a bundled scenario; anything with a directory part or
    that exists on disk is a path. ScenarioError when neither exists.
    """
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.is_file():
        return path
    bare = not (os.sep in text or (os.altsep and os.altsep in text))
    if bare:
        bundled = SCENARIO_DIR / (text if text.endswith((".yaml", ".yml")) else f"{text}.yaml")
        if bundled.exists():
            return bundled
        known = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
        raise ScenarioError(f"no scenario file or bundled scenario named {text!r} (bundled: {known})",
                            file=text)
    raise ScenarioError("no such scenario file", file=text)


def read_scenario_tree(path_or_name: str | os.PathLike, *, env: Mapping[str, str] | None = None
                       ) -> tuple[str, object]:
    """(file, expanded tree): the YAML read with marks and its for_each items expanded."""
    path = scenario_path(path_or_name)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read scenario file: {exc}", file=file) from None
    root = read_yaml(text, file=file, env=env)
    if root is None:
        raise ScenarioError("the scenario file is empty", file=file, line=1, column=1)
    if not isinstance(root, MarkedDict):
        line, column = getattr(root, "mark", (1, 1))
        raise ScenarioError("a scenario file must be a mapping (name:, data_servers:, ...)",
                            file=file, line=line, column=column)
    return file, expand(root, file=file)


def load_scenario(path_or_name: str | os.PathLike, *, env: Mapping[str, str] | None = None,
                  now: str | int | None = None) -> Scenario:
    """The validated Scenario of a YAML file or bundled scenario name; ScenarioError if it is wrong.

    Args:
        path_or_name: a path to a .yaml file, or a bundled name such as "default", "large", "qa-gaps".
        env: the variables for ${NAME} substitution (default: os.environ).
        now: pin the clock here (ticks, or PI/ISO time text) instead of the file's `clock.now`; the
            file's relative times ("*-2d") then count from it too. TimeParseError for bad text.
    """
    from .schema import Problems
    from .schema import build

    file, tree = read_scenario_tree(path_or_name, env=env)
    try:
        return build(t.cast("MarkedDict", tree), file=file, now=now)
    except Problems as exc:
        raise error_at(tree, file, exc.problems) from None


def validate_file(path: str | os.PathLike, *, env: Mapping[str, str] | None = None) -> str:
    """Load the scenario and summarise it in one line for `pi-sim validate` (ScenarioError if wrong).

    E.g. "reference-plant: 1 data server, 111 points, 1 asset server, 63 elements, 273 attributes,
    4 event frame templates, 0 event frames, 4 schedules, 0 faults".
    """
    scenario = load_scenario(path, env=env)
    databases = [db for server in scenario.asset_servers for db in server.databases]
    elements = attributes = 0
    stack = [element for db in databases for element in db.elements]
    while stack:
        element = stack.pop()
        elements += 1
        attributes += len(element.attributes)
        stack.extend(element.children)
    counts = (
        (len(scenario.data_servers), "data server"),
        (sum(len(server.points) for server in scenario.data_servers), "point"),
        (len(scenario.asset_servers), "asset server"),
        (elements, "element"),
        (attributes, "attribute"),
        (sum(len(db.event_frame_templates) for db in databases), "event frame template"),
        (sum(len(db.event_frames) for db in databases), "event frame"),
        (sum(len(db.schedules) for db in databases), "schedule"),
        (len(scenario.faults), "fault"),
    )
    return f"{scenario.name}: " + ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)
