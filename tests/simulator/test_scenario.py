"""Scenario files: the shipped ones load with the expected contents, the bad ones fail where they should.

Each `tests/scenarios/bad/*.yaml` starts with a line `# expect: <text>`; loading the file must raise
ScenarioError whose message contains "<file>:<text>", where the text begins with line:column and
the dotted path (a `\\n` in it stands for a newline). The files are loaded with an empty
environment, so `${NAME}` references without a default fail.
"""
from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

import pytest

from simulator.pi import states
from simulator.pi.errors import ScenarioError
from simulator.scenario import load_scenario
from simulator.scenario import scenario_path
from simulator.scenario import validate_file
from simulator.scenario.loader import SCENARIO_DIR
from simulator.scenario.loader import read_yaml
from simulator.scenario.model import TICKS_PER_SECOND
from simulator.scenario.fields import NAMESPACE

BAD_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "bad"
BAD_FILES = sorted(BAD_DIR.glob("*.yaml"))
SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))
HOUR = 3600 * TICKS_PER_SECOND
NOW = 17955648000000000  # 2026-11-25T00:00:00Z


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def all_elements(elements):
    for element in elements:
        yield element
        yield from all_elements(element.children)


# --------------------------------------------------------------------------------------------------
# shipped scenarios

@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates(path):
    summary = validate_file(path)
    assert summary.startswith(load_scenario(path).name + ": ")


def test_shipped_scenarios_are_all_there():
    expected = {"default", "large", "qa-gaps", "qa-subsecond", "qa-faults", "qa-digital", "qa-tiny", "living"}
    assert {p.stem for p in SHIPPED} >= expected


def test_default_points():
    scenario = load_scenario("default")
    assert scenario.clock.now is None  # the default scenario's clock moves; tests pin it
    assert load_scenario("default", now="2026-11-25T00:00:00Z").clock.now == NOW
    assert scenario.clock.timezone == "Australia/Sydney"
    assert scenario.seed == 20261125
    (server,) = scenario.data_servers
    assert server.name == "PISRV01"
    assert server.id == str(uuid.uuid5(NAMESPACE, "PISRV01"))
    points = server.points
    assert [p.id for p in points] == list(range(1, 112))
    analog = [p for p in points if p.point_type not in ("Digital", "String")]
    assert len(analog) == 96
    assert {p.engineering_units for p in analog} == {"degC", "kPa", "m3/h", "%", "kW", "rpm", "V", "A"}
    assert {p.point_type for p in analog} == {"Float32", "Float64", "Int32"}
    assert sum(p.point_type == "Float32" for p in analog) > 48
    assert len({p.name.rsplit(".", 1)[1] for p in analog}) == 8
    first = points[0]
    assert first.name == "SYD.U1.P01.FT"
    assert first.descriptor == "Sydney unit 1 Pump Flow"
    assert first.signal.kind == "daily" and first.signal.mean == 120 and first.signal.anomalies == 0.01
    assert first.events.spacing == 5 * TICKS_PER_SECOND and first.events.jitter == 0.4
    assert (first.quality.questionable, first.quality.substituted) == (0.04, 0.01)
    assert first.outages.state == states.IO_TIMEOUT
    digital = [p for p in points if p.point_type == "Digital"]
    assert len(digital) == 12 and {p.digital_set for p in digital} == {"UnitState"}
    strings = [p for p in points if p.point_type == "String"]
    assert [p.name for p in strings] == ["SYD.OPERATOR", "MEL.OPERATOR", "BNE.OPERATOR"]
    assert all(p.created is not None for p in strings)
    assert {p.name.split(".")[0] for p in points if p.gaps} == {"MEL"}
    (unit_state,) = scenario.digital_sets
    assert len(unit_state.states) == 12 and unit_state.states[0] == (0, "Stopped")


def test_default_asset_framework():
    scenario = load_scenario("default")
    (af,) = scenario.asset_servers
    (db,) = af.databases
    assert (af.name, db.name, db.default_data_server) == ("PIAF01", "ReferencePlant", "PISRV01")
    assert db.id == str(uuid.uuid5(NAMESPACE, "\\\\PIAF01\\REFERENCEPLANT"))
    assert {t.name for t in db.element_templates} >= {"Site", "Unit", "Pump", "Motor", "Tank", "Feeder"}
    sites = db.elements
    assert [e.name for e in sites] == ["SYD", "MEL", "BNE"]
    equipment = [e for site in sites for unit in site.children for e in unit.children]
    assert len(equipment) == 48
    assert len(list(all_elements(sites))) == 63
    pump = sites[1].children[2].children[0]
    assert (pump.name, pump.template) == ("MEL.U3.P01", "Pump")
    attributes = {a.name: a for a in pump.attributes}
    assert attributes["Flow"].pi_point == "\\\\PISRV01\\MEL.U3.P01.FT"
    assert attributes["Unit Status"].pi_point == "\\\\PISRV01\\MEL.U3.STATUS"  # %..\Element%
    assert attributes["Unit Status"].type == "EnumerationValue"
    assert attributes["Manufacturer"].value == "Acme Pumps & Drives"  # from the base template
    assert "Rotating Equipment" in pump.categories
    site = {a.name: a for a in sites[0].attributes}
    assert site["City"].value == "Sydney" and site["City"].template == "Site"
    assert site["Commissioned"].type == "DateTime"
    assert site["Operator"].pi_point == "\\\\PISRV01\\SYD.OPERATOR"
    tags = {p.name for p in scenario.data_servers[0].points}
    for element in all_elements(sites):
        for attribute in element.attributes:
            if attribute.pi_point:
                assert attribute.pi_point.split("\\")[-1] in tags


def test_default_event_frames():
    db = load_scenario("default").asset_servers[0].databases[0]
    assert [t.name for t in db.event_frame_templates] == ["BatchRun", "Maintenance", "Alarm", "Downtime"]
    counts = {s.template: s.count for s in db.schedules}
    assert counts == {"BatchRun": 20, "Maintenance": 8, "Alarm": 15, "Downtime": 7}
    assert sum(counts.values()) == 50
    batch = db.schedules[0]
    last_start = batch.start + (batch.count - 1) * batch.every
    assert last_start + batch.jitter < NOW < last_start + batch.min_duration  # the last batch is open
    assert batch.start > NOW - 31 * 24 * HOUR
    recipes = dict(batch.attributes)
    assert recipes["Product"].kind == "choice" and len(recipes["Product"].choices) == 4
    assert recipes["Operator"].kind == "faker" and recipes["Operator"].provider == "name"
    assert recipes["BatchID"].kind == "format" and recipes["BatchID"].value == "B26-{index:05d}"
    assert recipes["Target Volume"].kind == "number" and recipes["Target Volume"].decimals == 0
    assert batch.name == "BATCH-{index:05d}"
    assert (batch.min_duration, batch.max_duration) == (4 * HOUR, 10 * HOUR)


def test_tiny_has_one_of_each():
    scenario = load_scenario("qa-tiny")
    assert scenario.clock.now == NOW
    points = {p.name: p for p in scenario.data_servers[0].points}
    assert len(points) <= 10
    types = {p.point_type for p in points.values()}
    assert types >= {"Float32", "Float64", "Int32", "Digital", "String"}
    assert points["TINY.STEP"].step
    sub = points["TINY.SUBSECOND"]
    assert sub.events.subsecond and sub.events.duplicates > 0 and sub.events.spacing < TICKS_PER_SECOND
    gaps = points["TINY.GAP"].gaps
    assert [g.state for g in gaps] == [states.SHUTDOWN, states.IO_TIMEOUT]  # sorted by start
    db = scenario.asset_servers[0].databases[0]
    assert 2 <= len(list(all_elements(db.elements))) <= 3
    tank2 = db.elements[0].children[1]
    assert {a.name: a.value for a in tank2.attributes}["Capacity"] == 250.0
    assert {a.name: a.pi_point for a in tank2.attributes}["Pressure"] == "\\\\PISRV01\\TINY.FLOAT64"
    frames = db.event_frames
    assert len(frames) == 3 and [f.end is None for f in frames] == [False, False, True]
    assert frames[2].elements == ("Plant\\Tank1", "Plant\\Tank2")
    assert dict(frames[0].attributes) == {"Product": "Alpha", "Operator": "Ann"}


def test_qa_scenarios_contents():
    gaps = {p.name: p for p in load_scenario("qa-gaps").data_servers[0].points}
    assert len(gaps["GAPS.SHUTDOWN"].gaps) == 20
    assert {g.state for g in gaps["GAPS.EXPLICIT"].gaps} == {246, 254, 311, 238}
    assert gaps["GAPS.SYSTEM"].system_states.states == (255, 249, 238, 215)
    sparse = gaps["GAPS.SPARSE"].events
    assert sparse.keep == 0.2 and sparse.spacing == 60 * TICKS_PER_SECOND
    sub = {p.name: p for p in load_scenario("qa-subsecond").data_servers[0].points}
    assert sub["SUB.TICKS"].events.spacing == 1000
    assert sub["SUB.IRREGULAR"].events.spacing == 73_000_000
    digital = load_scenario("qa-digital")
    sets = {s.name: s.states for s in digital.digital_sets}
    assert sets["Valve"] == ((0, "Closed"), (1, "Open"), (2, "Travel"), (5, "Fault"))
    assert sets["OnOff"] == ((0, "Off"), (1, "On"))
    faults = load_scenario("qa-faults", env={})
    assert faults.auth.methods == ("basic",) and faults.auth.csrf
    assert faults.auth.users[0].password == "qa-secret"
    by_name = {f.name: f for f in faults.faults}
    assert by_name["throttle-429"].every == 7 and by_name["throttle-429"].retry_after == 2
    assert by_name["batch-502"].scope == "batch"
    assert by_name["plot-latency"].status is None and by_name["plot-latency"].delay.kind == "uniform"
    assert by_name["streamset-tail"].delay.cap == 2000
    assert by_name["first-points-500"].times == 3
    assert load_scenario("qa-faults", env={"PISIM_QA_PASSWORD": "s3cret"}).auth.users[0].password == "s3cret"


def test_large_loads():
    """Its load time is a figure of `make bench` (bench.setup_costs), not asserted here."""
    scenario = load_scenario("large")
    points = scenario.data_servers[0].points
    assert len(points) == 30_000
    assert len({p.name for p in points}) == 30_000
    assert points[-1].name == "A10.L0300.QT" and points[-1].id == 30_000
    assert points[0].signal is points[10].signal  # copies share their recipe


# --------------------------------------------------------------------------------------------------
# bad scenarios

def test_there_are_enough_bad_files():
    assert len(BAD_FILES) >= 15


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_fails_with_its_message(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <message>'"
    expected = first[len("# expect: "):].replace("\\n", "\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path), env={})
    message = str(caught.value)
    assert f"{path}:{expected}" in message
    assert caught.value.file == str(path)
    assert caught.value.line == int(expected.split(":")[0])


def test_many_problems_are_sorted_and_capped(tmp_path):
    points = "\n".join(f"      - {{name: T{i}, span: -1}}" for i in range(15))
    path = write(tmp_path, f"name: x\ndata_servers:\n  - name: S\n    points:\n{points}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.line == 5 and error.path == "data_servers[0].points[0].span"
    assert len(error.errors) == 15
    assert [e.line for e in error.errors] == list(range(5, 20))
    assert error.message.count(f"{path}:") == 10
    assert "... and 5 more" in error.message


def test_a_shared_mistake_is_reported_once(tmp_path):
    text = """
name: x
definitions:
  events: &events {spacing: 5s, jitter: 7}
data_servers:
  - name: S
    points:
      - for_each: {n: {range: [1, 500]}}
        name: "T{n}"
        events: *events
"""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    assert caught.value.line == 4 and caught.value.path == "data_servers[0].points[0].events.jitter"
    assert "must be between 0 and 1" in caught.value.message
    assert len(caught.value.errors) == 1 and "problems" not in caught.value.message


def test_unknown_bundled_name():
    with pytest.raises(ScenarioError, match="no scenario file or bundled scenario named 'nope'.*qa-tiny"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario("/no/such/file.yaml")


def test_scenario_path_resolution(tmp_path):
    assert scenario_path("default") == SCENARIO_DIR / "default.yaml"
    assert scenario_path("qa-tiny.yaml") == SCENARIO_DIR / "qa-tiny.yaml"
    path = write(tmp_path, "name: mine\n")
    assert scenario_path(path) == path
    assert load_scenario(str(path)).name == "mine"


def test_fuzzed_files_only_ever_raise_scenario_error(tmp_path):
    """Random damage to a valid file: whatever breaks, the loader answers with ScenarioError."""
    lines = (SCENARIO_DIR / "qa-tiny.yaml").read_text(encoding="utf-8").splitlines()
    rng = random.Random(20261125)
    junk = ["", "- x", "{", "]", ": :", "name: 1", "  - {a: b}", "*nope", "&a [*a]", "seed: [", "%Element%",
            "kind: sine", "\t", "'", "end: 1", "? [a]", "<<: 5", "x: ${NOPE}", "{plant}"]
    for attempt in range(150):
        damaged = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(damaged))
            action = rng.random()
            if action < 0.3:
                del damaged[i]
            elif action < 0.6:
                damaged.insert(i, rng.choice(junk))
            elif action < 0.8:
                damaged[i] = re.sub(r"\d+", str(rng.randint(-5, 99999)), damaged[i])
            else:
                damaged[i] = damaged[i][: rng.randrange(len(damaged[i]) + 1)]
        path = write(tmp_path, "\n".join(damaged), f"fuzz{attempt}.yaml")
        try:
            load_scenario(path, env={})
        except ScenarioError as error:
            assert str(error).startswith(str(path))


# --------------------------------------------------------------------------------------------------
# details

def test_yaml_scalars_follow_yaml_1_2(tmp_path):
    tree = read_yaml("a: On\nb: off\nc: yes\nd: 2026-11-25T00:00:00Z\ne: 010\nf: 1e3\ng: true\nh: ~\n"
                     "i: 1:30\n")
    assert tree == {"a": "On", "b": "off", "c": "yes", "d": "2026-11-25T00:00:00Z", "e": 10, "f": 1000.0,
                    "g": True, "h": None, "i": "1:30"}


def test_marks_of_keys_values_and_items():
    tree = read_yaml("top:\n  key: value\n  list:\n    - one\n    - {two: 2}\n")
    assert tree.mark == (1, 1)
    top = tree["top"]
    assert top.key_marks["key"] == (2, 3) and top.value_marks["key"] == (2, 8)
    assert top["list"].item_marks == [(4, 7), (5, 7)]
    assert top["list"][1].value_marks["two"] == (5, 13)


def test_anchors_aliases_and_merge_keys(tmp_path):
    text = """
name: merge
definitions:
  base: &base {point_type: Float64, engineering_units: kPa, events: {spacing: 2s}}
data_servers:
  - name: S
    points:
      - {<<: *base, name: A}
      - <<: *base
        name: B
        engineering_units: bar
"""
    a, b = load_scenario(write(tmp_path, text)).data_servers[0].points
    assert (a.point_type, a.engineering_units, a.events.spacing) == ("Float64", "kPa", 2 * TICKS_PER_SECOND)
    assert (b.point_type, b.engineering_units) == ("Float64", "bar")


def test_environment_substitution(tmp_path):
    text = 'name: "${SCENARIO_NAME:-fallback}"\ndescription: "cost $${NOT_A_VAR} ${WHO}"\n'
    path = write(tmp_path, text)
    scenario = load_scenario(path, env={"WHO": "qa"})
    assert scenario.name == "fallback" and scenario.description == "cost ${NOT_A_VAR} qa"
    assert load_scenario(path, env={"WHO": "x", "SCENARIO_NAME": "env"}).name == "env"
    with pytest.raises(ScenarioError, match=r":2:14: environment variable WHO is not set"):
        load_scenario(path, env={})


def test_point_ids_and_server_ids(tmp_path):
    text = """
name: ids
data_servers:
  - name: S
    id: 96F9A00E-4D80-471F-ABA9-EA89A1DB402C
    points:
      - {name: A}
      - {name: B, id: 2}
      - {name: C}
      - {name: D, id: 100}
      - {name: E}
"""
    (server,) = load_scenario(write(tmp_path, text)).data_servers
    assert server.id == "96f9a00e-4d80-471f-aba9-ea89a1db402c"
    assert [(p.name, p.id) for p in server.points] == [("A", 1), ("B", 2), ("C", 3), ("D", 100), ("E", 4)]


def test_states_resolve_by_name_or_code(tmp_path):
    text = """
name: states
data_servers:
  - name: S
    points:
      - name: A
        outages: {per_day: 1, state: "i/o timeout"}
        system_states: {rate: 0.1, states: [BadInput, 248, pt created]}
"""
    (point,) = load_scenario(write(tmp_path, text)).data_servers[0].points
    assert point.outages.state == 246
    assert point.system_states.states == (255, 248, 253)
    assert states.name_of(246) == "I/O Timeout" and states.code_of("SHUTDOWN") == 254


def test_relative_times_count_from_the_clock(tmp_path):
    text = """
name: relative
clock: {now: "2026-11-25T00:00:00Z", timezone: Australia/Sydney}
data_servers:
  - name: S
    points:
      - name: A
        created: "*-2d"
        gaps: [{start: "2026-11-24T10:00:00", end: "*-1h"}]
"""
    (point,) = load_scenario(write(tmp_path, text)).data_servers[0].points
    assert point.created == NOW - 48 * HOUR
    assert point.gaps[0].start == NOW - 25 * HOUR  # 10:00 in Sydney (UTC+11) is 23:00 UTC the day before
    assert point.gaps[0].end == NOW - HOUR


def test_element_attribute_overrides_and_bare_tags(tmp_path):
    text = r"""
name: af
data_servers:
  - name: S1
    points: [{name: P1.FT}, {name: P1.SP}]
  - name: S2
    points: [{name: OTHER}]
asset_servers:
  - name: AF
    databases:
      - name: DB
        default_data_server: s1
        element_templates:
          - {name: Base, attributes: [{name: Note, value: base}, {name: Flow, pi_point: '%Element%.FT'}]}
          - {name: Pump, base_template: base, attributes: [{name: Note, value: derived, units: x}]}
        elements:
          - name: P1
            template: pump
            attributes:
              - {name: Note, value: mine}
              - {name: Setpoint, pi_point: '\\%Server%\%Element%.SP'}
              - {name: Elsewhere, pi_point: '\\S2\other'}
              - {name: Self, value: "%Attribute% of %Database%"}
"""
    db = load_scenario(write(tmp_path, text)).asset_servers[0].databases[0]
    assert db.default_data_server == "S1"
    attributes = {a.name: a for a in db.elements[0].attributes}
    note = attributes["Note"]
    assert (note.value, note.units, note.template) == ("mine", "x", "Pump")
    assert attributes["Flow"].pi_point == "\\\\S1\\P1.FT"
    assert attributes["Setpoint"].pi_point == "\\\\S1\\P1.SP" and attributes["Setpoint"].template is None
    assert attributes["Elsewhere"].pi_point == "\\\\S2\\OTHER"
    assert attributes["Self"].value == "%Attribute% of %Database%"  # static values are not substituted
    assert db.elements[0].template == "Pump"


def test_template_attribute_with_missing_tag_points_at_the_element(tmp_path):
    text = """
name: af
data_servers:
  - name: S
    points: [{name: P1.FT}]
asset_servers:
  - name: AF
    databases:
      - name: DB
        element_templates: [{name: Pump, attributes: [{name: Flow, pi_point: '%Element%.FT'}]}]
        elements:
          - {name: P1, template: Pump}
          - {name: P2, template: Pump}
"""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    error = caught.value
    assert (error.line, error.path) == (13, "asset_servers[0].databases[0].elements[1].template")
    expected = "attribute 'Flow' of template 'Pump': PI point 'P2.FT' (from '%Element%.FT') not found"
    assert expected in error.message


def test_sibling_element_names_must_differ(tmp_path):
    text = """
name: af
asset_servers:
  - name: AF
    databases:
      - name: DB
        elements:
          - {name: A, elements: [{name: X}, {name: x}]}
          - {name: B, elements: [{name: X}]}
"""
    with pytest.raises(ScenarioError, match=r":8:52: asset_servers\[0\]\.databases\[0\]\.elements\[0\]"
                                            r"\.elements\[1\]\.name: element 'x' is already defined"):
        load_scenario(write(tmp_path, text))


def test_fault_defaults_and_delays(tmp_path):
    text = """
name: faults
faults:
  - {path: /a, rate: 0.5}
  - {name: slow, method: post, path: /b, every: 2, status: null, delay: {fixed: 15}}
"""
    first, slow = load_scenario(write(tmp_path, text)).faults
    assert (first.name, first.method, first.status, first.scope) == ("fault-1", "*", 503, "request")
    assert (slow.method, slow.status, slow.delay.kind, slow.delay.ms) == ("POST", None, "fixed", 15.0)


@pytest.mark.parametrize(("fault", "message"), [
    ("{path: /a, status: 503}", "give exactly one of rate"),
    ("{path: /a, rate: 0.5, status: 404}", "must be one of: 429, 500, 502, 503, 504"),
    ("{path: /a, rate: 0.5, status: null}", "only makes sense with a delay"),
    ("{path: /a, rate: 0.5, delay: {uniform: [5, 1]}}", "high 1 is below low 5"),
    ("{path: /a, rate: 0.5, delay: {lognormal: {median: 10, sigma: 1, cap: 5}}}",
     "cap must not be below median"),
    ("{path: /a, rate: 0.5, delay: {gamma: 3}}", "expected one of {fixed: ms}"),
    ("{path: /a, rate: 1.5}", "must be > 0 and <= 1"),
    ("{path: /a, every: 0}", "must be >= 1"),
])
def test_bad_faults(tmp_path, fault, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(write(tmp_path, f"name: f\nfaults:\n  - {fault}\n"))


@pytest.mark.parametrize(("auth", "message"), [
    ("{methods: [bearer]}", "bearer authentication needs at least one token"),
    ("{methods: [kerberos]}", "must be one of: anonymous, basic, bearer"),
    ("{methods: []}", "must not be empty"),
    ("{methods: [basic], users: [{username: a, password: b}, {username: A, password: c}]}", "same username"),
])
def test_bad_auth(tmp_path, auth, message):
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(write(tmp_path, f"name: a\nauth: {auth}\n"))


@pytest.mark.parametrize(("signal", "message"), [
    ("{kind: wobble}", "must be one of: daily, sine"),
    ("{kind: daily, minimum: 5, maximum: 1}", "minimum 5 is above maximum 1"),
    ("{kind: daily, period: 1mo}", "months and years have no fixed length"),
    ("{kind: daily, period: 0s}", "is zero"),
    ("{kind: sine, choices: [a]}", "does not apply to signal kind 'sine'"),
    ("{kind: string, choices: [a]}", "a Float32 point takes signal kind"),
    ("{kind: daily, noise: -1}", "must be >= 0"),
])
def test_bad_signals(tmp_path, signal, message):
    text = f"name: s\ndata_servers:\n  - name: S\n    points:\n      - {{name: A, signal: {signal}}}\n"
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(write(tmp_path, text))


def test_string_signal_with_unknown_faker_provider(tmp_path):
    text = ("name: s\ndata_servers:\n  - name: S\n    points:\n"
            "      - {name: A, point_type: String, signal: {kind: string, faker: no_such_provider}}\n")
    with pytest.raises(ScenarioError, match="'no_such_provider' is not a Faker provider"):
        load_scenario(write(tmp_path, text))


def test_digital_set_as_mapping_and_duplicates(tmp_path):
    text = "name: d\ndigital_sets:\n  - {name: V, states: {0: Closed, 3: Open}}\n"
    (valve,) = load_scenario(write(tmp_path, text)).digital_sets
    assert valve.states == ((0, "Closed"), (3, "Open"))
    duplicate = r":3:30: digital_sets\[0\]\.states\[1\]: state name 'open' is used twice"
    with pytest.raises(ScenarioError, match=duplicate):
        load_scenario(write(tmp_path, "name: d\ndigital_sets:\n  - {name: V, states: [Open, open]}\n"))
    with pytest.raises(ScenarioError, match="SYSTEM is PI's own set"):
        load_scenario(write(tmp_path, "name: d\ndigital_sets:\n  - {name: System, states: [A]}\n"))


def test_event_frame_attributes_must_be_template_attributes(tmp_path):
    text = """
name: ef
clock: {now: "2026-11-25T00:00:00Z"}
asset_servers:
  - name: AF
    databases:
      - name: DB
        event_frame_templates: [{name: Batch, attributes: [{name: Product}]}]
        event_frames:
          - {name: B1, template: Batch, start: "*-1d", end: "*-2d", attributes: {Prodcut: X}}
        schedules:
          - {template: Batch, start: "*-1d", every: 1h, duration: 2h, attributes: {product: {number: [2, 1]}}}
"""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    lines = [str(e) for e in caught.value.errors]
    assert any(":10:" in line and "event_frames[0].end: an event frame must end after it starts" in line
               for line in lines)
    assert any(":12:" in line and "schedules[0].attributes.product.number: expected [low, high]" in line
               for line in lines)


def test_schedule_defaults(tmp_path):
    text = """
name: ef
clock: {now: "2026-11-25T00:00:00Z"}
asset_servers:
  - name: AF
    databases:
      - name: DB
        elements: [{name: E}]
        event_frame_templates: [{name: Batch, attributes: [{name: Product}, {name: Lot}]}]
        schedules:
          - template: batch
            start: "*-1d"
            every: 1h
            duration: 30m
            elements: [/E/]
            attributes: {Product: A, lot: {format: "L{index}"}}
"""
    (schedule,) = load_scenario(write(tmp_path, text)).asset_servers[0].databases[0].schedules
    assert schedule.template == "Batch" and schedule.name == "{template}-{index:05d}"
    assert schedule.min_duration == schedule.max_duration == 30 * 60 * TICKS_PER_SECOND
    assert schedule.count is None and schedule.jitter == 0 and schedule.elements == ("E",)
    assert [(n, r.kind, r.value) for n, r in schedule.attributes] == [("Product", "value", "A"),
                                                                      ("Lot", "format", "L{index}")]
