"""for_each expansion on marked YAML trees (no schema involved)."""
from __future__ import annotations

import pytest
from picommon.markedyaml import MarkedDict
from picommon.markedyaml import MarkedList

from simulator.pi.errors import ScenarioError
from simulator.scenario.expand import expand
from simulator.scenario.loader import read_yaml


def run(text: str):
    return expand(read_yaml(text, file="t.yaml"), file="t.yaml")


def fails(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        run(text)
    return caught.value


def test_cartesian_product_first_variable_outermost():
    tree = run("""
items:
  - for_each: {a: [x, y], b: {range: [1, 3]}}
    name: "{a}{b}"
""")
    assert [item["name"] for item in tree["items"]] == ["x1", "x2", "x3", "y1", "y2", "y3"]


def test_three_by_four_by_four_gives_48_elements():
    tree = run("""
elements:
  - for_each: {plant: [SYD, MEL, BNE]}
    name: "{plant}"
    elements:
      - for_each: {unit: {range: [1, 4]}}
        name: "{plant}.U{unit}"
        elements:
          - for_each: {equipment: [P01, M01, T01, F01]}
            name: "{plant}.U{unit}.{equipment}"
""")
    plants = tree["elements"]
    leaves = [e for p in plants for u in p["elements"] for e in u["elements"]]
    assert len(plants) == 3 and len(leaves) == 48
    assert leaves[0]["name"] == "SYD.U1.P01" and leaves[-1]["name"] == "BNE.U4.F01"


def test_ranges_with_step():
    tree = run("""
a: [{for_each: {i: {range: [0, 10, 5]}}, v: "{i}"}]
b: [{for_each: {i: {range: [3, 1, -1]}}, v: "{i}"}]
""")
    assert [x["v"] for x in tree["a"]] == [0, 5, 10]
    assert [x["v"] for x in tree["b"]] == [3, 2, 1]


@pytest.mark.parametrize(("spec", "message"), [
    ("{range: [4, 1]}", "range [4, 1] with step 1 is empty"),
    ("{range: [1, 4, 0]}", "range step must not be 0"),
    ("{range: [1, x]}", "range must be [first, last] or [first, last, step] of integers"),
    ("{range: [1, 2], step: 1}", "a range takes only 'range: [first, last, step]'"),
    ("5", "must be a list, {range: [first, last]} or a reference to a list"),
])
def test_bad_ranges(spec, message):
    error = fails(f"a:\n  - for_each: {{i: {spec}}}\n    v: x\n")
    assert error.line == 2 and message in error.message


def test_format_specs_and_single_references_keep_types():
    tree = run("""
rows: &rows
  - {code: FT, signal: {kind: daily, mean: 80}, scale: 1.5}
points:
  - for_each: {i: {range: [7, 7]}, row: *rows}
    name: "T{i:05d}.{row.code}"
    id: "{i}"
    signal: "{row.signal}"
    scale: "{row.scale}"
    text: "{row.scale}x"
    conversion: "{row.code!r}"
""")
    (point,) = tree["points"]
    assert point["name"] == "T00007.FT"
    assert point["id"] == 7
    assert point["signal"] == {"kind": "daily", "mean": 80}
    assert point["signal"] is tree["rows"][0]["signal"]
    assert point["scale"] == 1.5 and point["text"] == "1.5x"
    assert point["conversion"] == "'FT'"


def test_nested_items_see_parent_variables_and_earlier_siblings():
    tree = run("""
equipment: &equipment
  - {code: P01, sensors: [FT, PT]}
  - {code: M01, sensors: [ST]}
points:
  - for_each: {plant: [SYD], eq: *equipment, sensor: "{eq.sensors}"}
    name: "{plant}.{eq.code}.{sensor}"
""")
    assert [p["name"] for p in tree["points"]] == ["SYD.P01.FT", "SYD.P01.PT", "SYD.M01.ST"]


def test_expanded_items_keep_the_template_marks():
    tree = run("""
points:
  - name: plain
  - for_each: {n: [1, 2, 3]}
    name: "T{n}"
    events: {spacing: 5s}
""")
    points = tree["points"]
    assert isinstance(points, MarkedList) and len(points) == 4
    assert points.item_marks == [(3, 5), (4, 5), (4, 5), (4, 5)]
    assert all(isinstance(p, MarkedDict) for p in points)
    assert points[2].value_marks["name"] == (5, 11)
    assert "for_each" not in points[1]
    assert points[1]["events"] is points[3]["events"]  # unchanged subtrees are shared


def test_equal_renderings_are_shared():
    tree = run("""
points:
  - for_each: {n: {range: [1, 4]}, speed: [5s, 10s]}
    name: "T{n}.{speed}"
    events: {spacing: "{speed}", jitter: 0.5}
""")
    points = tree["points"]
    assert points[0]["events"] is points[2]["events"]
    assert points[0]["events"] is not points[1]["events"]
    assert points[1]["events"] == {"spacing": "10s", "jitter": 0.5}


def test_unknown_variable_names_it_and_the_known_ones():
    error = fails("""
points:
  - for_each: {plant: [A], unit: [1]}
    name: ok
    descriptor: "{plnat} unit"
""")
    assert (error.line, error.column, error.path) == (5, 17, "points[0].descriptor")
    assert "unknown variable 'plnat'" in error.message and "known variables: plant, unit" in error.message


@pytest.mark.parametrize(("text", "message"), [
    ('"{row.missing}"', "row has no key 'missing' (keys: code)"),
    ('"{n.code}"', "n is 1, not a mapping"),
    ('"{row[0]}"', "no [index] or attribute access"),
    ('"{row.code.__class__}"', "row.code is 'FT', not a mapping"),
    ('"{}"', "positional {} fields are not allowed"),
    ('"{0}"', "positional {} fields are not allowed"),
    ('"{n:zz}"', "cannot format n = 1 with ':zz'"),
    ('"{n"', "bad format string"),
])
def test_bad_references(text, message):
    error = fails(f"a:\n  - for_each: {{n: [1], row: [{{code: FT}}]}}\n    v: {text}\n")
    assert error.line == 3 and message in error.message


def test_literal_braces_and_strings_outside_for_each():
    tree = run("""
outside: "{not formatted}"
items:
  - plain: "{kept}"
  - for_each: {n: [1]}
    v: "{{n}} is {n}"
""")
    assert tree["outside"] == "{not formatted}"
    assert tree["items"][0]["plain"] == "{kept}"
    assert tree["items"][1]["v"] == "{n} is 1"


def test_keys_are_formatted_too():
    tree = run("""
frames:
  - for_each: {p: [Alpha]}
    attributes: {"{p} Product": "{p}"}
""")
    assert tree["frames"][0]["attributes"] == {"Alpha Product": "Alpha"}
    assert tree["frames"][0]["attributes"].key_marks["Alpha Product"] == (4, 18)


def test_schedule_names_keep_the_archive_variables():
    tree = run("""
schedules:
  - for_each: {t: [Batch]}
    template: "{t}"
    name: "{t}-{index:05d} {{x}}"
    description: "{element}"
    attributes: {Lot: {format: "{t}/{index}"}}
points:
  - for_each: {t: [A]}
    name: "{t}"
""")
    (schedule,) = tree["schedules"]
    assert schedule["template"] == "Batch"
    assert schedule["name"] == "Batch-{index:05d} {{x}}"
    assert schedule["description"] == "{element}"
    assert schedule["attributes"]["Lot"]["format"] == "Batch/{index}"
    error = fails("points:\n  - for_each: {t: [A]}\n    name: \"{index}\"\n")
    assert "only filled in for event frame schedules" in error.message


def test_definitions_are_not_expanded():
    tree = run("""
definitions:
  x: [{for_each: {n: [1, 2]}, v: "{n}"}]
""")
    assert len(tree["definitions"]["x"]) == 1


def test_recursive_alias_is_an_error():
    error = fails("a: &a [*a]\n")
    assert "recursive" in error.message


def test_for_each_must_be_a_mapping_of_identifiers():
    assert "for_each must be a mapping" in fails("a:\n  - for_each: [1, 2]\n").message
    assert "must be an identifier" in fails("a:\n  - for_each: {1x: [1]}\n").message


def test_expansion_makes_30000_points():
    rows = "".join(f"  - {{code: S{i}, units: u{i}, signal: {{kind: daily, mean: {i}}}}}\n"
                   for i in range(10))
    text = f"""
rows: &rows
{rows}
points:
  - for_each: {{area: {{range: [1, 10]}}, loop: {{range: [1, 300]}}, row: *rows}}
    name: "A{{area:02d}}.L{{loop:04d}}.{{row.code}}"
    descriptor: "{{row.code}} of loop {{loop}} in area {{area}}"
    engineering_units: "{{row.units}}"
    signal: "{{row.signal}}"
    events: {{spacing: 10s}}
"""
    root = read_yaml(text, file="t.yaml")
    tree = expand(root, file="t.yaml")  # its time is inside bench.setup_costs' large-scenario load
    assert len(tree["points"]) == 30_000
    assert tree["points"][-1]["name"] == "A10.L0300.S9"
