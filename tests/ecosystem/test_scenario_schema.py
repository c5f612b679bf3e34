"""The scenario JSON Schema: generated from the marshmallow schemas, current, and true to the bundled scenarios."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario.json_schema import scenario_json_schema
from simulator.scenario.loader import read_yaml

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "simulator" / "scenarios"
SCHEMA_FILE = BUNDLED / "scenario.schema.json"
SCENARIOS = sorted(BUNDLED.glob("*.yaml")) + sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))
HEADER = "# yaml-language-server: $schema=scenario.schema.json\n"


def tree(path: Path) -> object:
    """The file as an editor's YAML 1.2 parser sees it (Off stays a string; keys are text)."""
    return json.loads(json.dumps(read_yaml(path.read_text(), file=str(path)), default=str))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_committed_schema_is_current():
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == scenario_json_schema()
    assert result.output == SCHEMA_FILE.read_text(), "run: pi-sim schema > simulator/scenarios/scenario.schema.json"


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_scenario_points_editors_at_the_schema(path):
    assert path.read_text().startswith(HEADER)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_scenario_the_simulator_accepts_is_valid(path, validator):
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(tree(path))]
    assert errors == []


def _set(document: dict, path: tuple, value) -> dict:
    changed = copy.deepcopy(document)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("path, value, where", [
    (("data_servers", 0, "points", 0, "point_typ"), "Float32", "point_typ"),         # a misspelt key
    (("data_servers", 0, "points", 0, "point_type"), "Float99", "Float99"),          # not one of the types
    (("data_servers", 0, "points", 0, "events", "keep"), 1.5, "1.5"),                # a share above 1
    (("seed", ), "many", "many"),                                                    # not a number
    (("clock", "timezone"), "", "should be non-empty"),
    (("faults", ), [{"name": "x", "delay": {"sometimes": 3}}], "sometimes"),
])
def test_mistakes_an_editor_flags(validator, path, value, where):
    document = _set(tree(BUNDLED / "qa-tiny.yaml"), path, value)
    messages = " | ".join(leaf.message for e in validator.iter_errors(document) for leaf in _leaves(e))
    assert where in messages


def _leaves(error):
    if not error.context:
        yield error
    for child in error.context:
        yield from _leaves(child)


def test_for_each_templates_are_accepted(validator):
    document = tree(BUNDLED / "qa-tiny.yaml")
    document["data_servers"][0]["points"].append({
        "for_each": {"unit": {"range": [1, 3]}, "kind": [{"type": "Float32", "signal": {"kind": "daily"}}]},
        "name": "T.{unit}", "point_type": "{kind.type}", "signal": "{kind.signal}", "id": "{unit}"})
    assert list(validator.iter_errors(document)) == []


def test_validate_keeps_file_line_column_after_the_header(tmp_path):
    text = (BUNDLED / "qa-tiny.yaml").read_text().replace("point_type: Float64", "point_type: Float99", 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "Float99" in row)
    result = CliRunner().invoke(main, ["validate", str(broken)])
    assert result.exit_code == 2
    assert f"broken.yaml:{line}:" in result.output and "point_type" in result.output
