"""End to end: af_elements and af_attributes against the simulator's AF tree (qa-tiny and default),
compared object by object with the scenario's catalog, and a second run that changes nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import ConnectorConfig
from connector.runner import extract
from connector.sink import DeltaSink
from simulator.testing import SimulatorProcess

from tests.connector.groundtruth import simulator_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

AUDIT = ("ingested_at", "run_id")


@pytest.fixture(scope="module")
def default_url():
    with SimulatorProcess("default", env={"PISIM_NOW": "2026-11-25T00:00:00Z"}) as sim:
        yield sim.url


def af_config(url: str, lake, **af) -> ConnectorConfig:
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi", "retry": {"attempts": 4, "backoff": 0.01, "max_backoff": 0.1}},
        "destination": {"uri": str(lake)},
        "recorded": {"enabled": False},
        "af": {"enabled": True, **af},
        "event_frames": {"enabled": False},
    })


def rows(sink: DeltaSink, table: str) -> dict[str, dict]:
    """The table's rows by WebID, without the audit columns."""
    out = {}
    for row in sink.read(table).to_pylist():
        for column in AUDIT:
            row.pop(column)
        assert row["web_id"] not in out, f"{table}: {row['web_id']} twice"
        out[row["web_id"]] = row
    return out


def expected_tree(scenario: str):
    """(element rows, attribute rows) by WebID, from the scenario's catalog (no HTTP)."""
    catalog = simulator_for(scenario).catalog
    elements, attributes = {}, {}
    for server in catalog.asset_servers:
        for db in server.databases:
            for e in db.elements:
                web_id = e.web_id("IDOnly")
                elements[web_id] = {
                    "web_id": web_id, "id": e.id, "database": db.name, "name": e.name,
                    "description": e.element.description, "path": e.path,
                    "parent_web_id": e.parent.web_id("IDOnly") if e.parent else None,
                    "parent_path": e.parent.path if e.parent else None,
                    "depth": e.depth - 1,  # the catalog counts roots as 1, the table as 0
                    "template": e.element.template or None, "categories": list(e.element.categories),
                    "has_children": bool(e.children), "removed_at": None,
                }
                for a in e.attributes:
                    if a.attribute.is_hidden or a.attribute.is_excluded:
                        continue
                    attributes[a.web_id("IDOnly")] = {
                        "web_id": a.web_id("IDOnly"), "id": a.id, "element_web_id": web_id, "element_path": e.path,
                        "name": a.name, "description": a.attribute.description, "path": a.path,
                        "units": a.attribute.units,
                        "data_reference": "PI Point" if a.point is not None else None,
                        "point_path": a.point.path if a.point is not None else None,
                        "is_static": a.point is None,
                        "categories": list(a.attribute.categories),
                    }
    return elements, attributes


def check_tree(sink: DeltaSink, scenario: str) -> tuple[dict, dict]:
    want_elements, want_attributes = expected_tree(scenario)
    got_elements, got_attributes = rows(sink, "af_elements"), rows(sink, "af_attributes")
    assert sorted(got_elements) == sorted(want_elements)
    for web_id, want in want_elements.items():
        assert got_elements[web_id] == want, want["path"]
    assert sorted(got_attributes) == sorted(want_attributes)
    for web_id, want in want_attributes.items():
        got = got_attributes[web_id]
        assert {k: got[k] for k in want} == want, want["path"]
        assert got["config_string"] == want["point_path"]
    # the parent links make one tree: every parent is an element of the table, depth = parent's + 1
    for row in got_elements.values():
        if row["parent_web_id"] is None:
            assert row["depth"] == 0
        else:
            parent = got_elements[row["parent_web_id"]]
            assert row["depth"] == parent["depth"] + 1 and row["path"].startswith(parent["path"] + "\\")
            assert parent["has_children"] is True
    return got_elements, got_attributes


def test_qa_tiny_tree(sim_url, tmp_path):
    report = extract(af_config(sim_url, tmp_path))
    assert report.tables["af_elements"].rows == 3 and report.tables["af_attributes"].rows == 10
    sink = DeltaSink(str(tmp_path))
    elements, attributes = check_tree(sink, "qa-tiny")
    by_path = {r["path"]: r for r in attributes.values()}
    temperature = by_path["\\\\PIAF01\\TinyDB\\Plant\\Tank1|Temperature"]
    assert (temperature["data_reference"], temperature["point_path"], temperature["units"], temperature["is_static"]) \
        == ("PI Point", "\\\\PISRV01\\TINY.FLOAT32", "degC", False)
    # '\\%Server%\TINY.FLOAT64' in the template resolves against the default data server
    assert by_path["\\\\PIAF01\\TinyDB\\Plant\\Tank2|Pressure"]["point_path"] == "\\\\PISRV01\\TINY.FLOAT64"
    city = by_path["\\\\PIAF01\\TinyDB\\Plant|City"]
    assert (city["data_reference"], city["point_path"], city["is_static"], city["type"]) == (None, None, True, "String")
    assert by_path["\\\\PIAF01\\TinyDB\\Plant|Batch"]["type"] == "String"  # a String point's type
    tanks = [e for e in elements.values() if e["template"] == "Tank"]
    assert sorted(e["name"] for e in tanks) == ["Tank1", "Tank2"]
    assert all(e["categories"] == ["Tank"] and e["depth"] == 1 and not e["has_children"] for e in tanks)


def test_default_tree(default_url, tmp_path):
    extract(af_config(default_url, tmp_path))
    elements, attributes = check_tree(DeltaSink(str(tmp_path)), "default")
    assert len(elements) == 63 and len(attributes) == 273
    assert {e["depth"] for e in elements.values()} == {0, 1, 2}
    pump = next(e for e in elements.values() if e["path"].endswith("\\SYD\\SYD.U1\\SYD.U1.P01"))
    assert pump["template"] == "Pump"
    assert pump["categories"] == ["Rotating Equipment"]
    assert pump["parent_path"].endswith("\\SYD\\SYD.U1") and pump["depth"] == 2
    flow = next(a for a in attributes.values() if a["path"].endswith("SYD.U1.P01|Flow"))
    assert (flow["point_path"], flow["units"]) == ("\\\\PISRV01\\SYD.U1.P01.FT", "m3/h")
    # %..\Element% resolves to the parent unit
    status = next(a for a in attributes.values() if a["path"].endswith("SYD.U1.P01|Unit Status"))
    assert status["point_path"] == "\\\\PISRV01\\SYD.U1.STATUS"
    manufacturer = next(a for a in attributes.values() if a["path"].endswith("SYD.U1.P01|Manufacturer"))
    assert manufacturer["is_static"] is True and manufacturer["data_reference"] is None


def test_a_second_run_changes_nothing(default_url, tmp_path):
    config = af_config(default_url, tmp_path)
    extract(config)
    sink = DeltaSink(str(tmp_path))
    first = rows(sink, "af_elements"), rows(sink, "af_attributes")
    versions = sink.version("af_elements"), sink.version("af_attributes")
    extract(config)
    assert (rows(sink, "af_elements"), rows(sink, "af_attributes")) == first
    assert sink.count("af_elements") == 63 and sink.count("af_attributes") == 273
    # the second run MERGEd (a new commit that matched every row), it did not append
    history = sink.history("af_elements", 1)[0]
    assert history["operation"] == "MERGE" and history["version"] == versions[0] + 1
    assert int(history["operationMetrics"]["num_target_rows_inserted"]) == 0
    assert int(history["operationMetrics"]["num_target_rows_updated"]) == 63


def test_only_the_configured_database(default_url, tmp_path):
    extract(af_config(default_url, tmp_path, databases=["\\\\PIAF01\\ReferencePlant"]))
    sink = DeltaSink(str(tmp_path))
    assert sink.count("af_elements") == 63
    assert {r["database"] for r in rows(sink, "af_elements").values()} == {"ReferencePlant"}


def shrunk_qa_tiny(folder) -> str:
    """qa-tiny without the element Tank2 and the attribute Plant|City (frames point at Tank1 instead)."""
    text = (ROOT / "simulator" / "scenarios" / "qa-tiny.yaml").read_text(encoding="utf-8")
    for old, new in (("              - {name: City, value: Sydney}\n", ""),
                     ("              - name: Tank2\n                template: Tank\n                attributes:\n"
                      "                  - {name: Capacity, value: 250.0}\n", ""),
                     ("'Plant\\Tank1', 'Plant\\Tank2'", "'Plant\\Tank1'"),
                     ("'Plant\\Tank2'", "'Plant\\Tank1'")):
        assert old in text, old
        text = text.replace(old, new)
    assert "Tank2" not in text and "City" not in text
    path = folder / "qa-tiny-shrunk.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_what_is_gone_from_af_is_marked_removed_and_unmarked_when_back(sim_url, tmp_path):
    lake = tmp_path / "lake"
    extract(af_config(sim_url, lake))
    sink = DeltaSink(str(lake))
    with SimulatorProcess(shrunk_qa_tiny(tmp_path)) as shrunk:
        extract(af_config(shrunk.url, lake))
        elements, attributes = rows(sink, "af_elements"), rows(sink, "af_attributes")
        extract(af_config(shrunk.url, lake))  # a second run keeps the first removal time
        assert (rows(sink, "af_elements"), rows(sink, "af_attributes")) == (elements, attributes)
    tank2 = "\\\\PIAF01\\TinyDB\\Plant\\Tank2"
    assert len(elements) == 3 and len(attributes) == 10  # nothing deleted: gone rows keep what was read
    assert [r["path"] for r in elements.values() if r["removed_at"]] == [tank2]
    assert sorted(r["path"] for r in attributes.values() if r["removed_at"]) == sorted(
        [f"{tank2}|{name}" for name in ("Temperature", "Pressure", "State", "Capacity")]
        + ["\\\\PIAF01\\TinyDB\\Plant|City"])
    assert len({r["removed_at"] for r in attributes.values() if r["removed_at"]}) == 1
    log = [e for e in sink.read("run_log").to_pylist() if e["event"] == "af_removed"]
    assert sorted((e["table_name"], e["rows"]) for e in log) == [("af_attributes", 5), ("af_elements", 1)]

    extract(af_config(sim_url, lake))  # back in AF: back to null
    check_tree(sink, "qa-tiny")
