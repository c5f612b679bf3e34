"""PI's bad values inside a 200 answer: each becomes a row with its error text and quality; a
per-stream error fails the run unless it is a real "not found"; the rest of the group lands."""
from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import ConnectorConfig
from connector.paging import parse_ns
from connector.errors import ConnectorError
from connector.runner import extract
from connector.sink import DeltaSink
from connector.state import Checkpoints
from simulator.mock.admin import AdminClient
from simulator.testing import SimulatorProcess
from tests.connector.groundtruth import expected_rows
from tests.connector.groundtruth import simulator_for
from tests.connector.groundtruth import table_rows
from tests.connector.stubbing import stream_failure
from tests.connector.stubbing import stub_answers
from tests.connector.stubbing import web_id_of
from tests.connector.test_convert import BAD_FORMS

pytestmark = pytest.mark.e2e

START, END = "2026-11-24T11:30:00Z", "2026-11-24T13:00:00Z"  # across the end of TINY.GAP's outage
COLUMNS = ["tag", "timestamp_ns", "ordinal", "value", "string_value", "digital_name", "digital_code", "is_system",
           "good", "questionable", "substituted", "annotated", "units", "errors"]

#: PI's forms of a bad or unusual value and the row each must give (shared with the unit tests)
BAD = BAD_FORMS


def config(url, lake, tags=("TINY.*",)):
    return ConnectorConfig.from_dict({
        "source": {"url": url + "/piwebapi"}, "destination": {"uri": str(lake)},
        "tags": [{"name_filter": t} for t in tags], "recorded": {"start": START, "end": END, "max_count": 97},
        "af": {"enabled": False}, "event_frames": {"enabled": False},
    })


def rows(sink, table="recorded_values"):
    data = sink.read(table)
    return sorted(tuple(r) for r in zip(*(data.column(c).to_pylist() for c in COLUMNS)))


def test_bad_values_land_as_rows_with_their_error_and_the_group_is_kept(sim_url, tmp_path):
    extract(config(sim_url, tmp_path / "clean"))
    clean = DeltaSink(str(tmp_path / "clean"))
    target = web_id_of(clean, "TINY.FLOAT64")
    changed: dict[str, dict] = {}  # timestamp text -> the bad value put there

    def edit(body):
        for stream in body["Items"]:
            if stream["WebId"] == target:
                for item, (bad, _) in zip(stream["Items"][1::7], BAD * 100):
                    changed[item["Timestamp"]] = bad
                    item.pop("Value")
                    item.update(bad)
        return body

    stub_answers(sim_url, "/streamsets/recorded", edit)
    lake = DeltaSink(str(tmp_path / "lake"))
    report = extract(config(sim_url, tmp_path / "lake"))
    assert report.status == "succeeded" and changed
    expected_by_form = {repr(bad): row for bad, row in BAD}
    truth = []
    by_time = {}
    for stamp, bad in changed.items():
        by_time[parse_ns(stamp)] = expected_by_form[repr(bad)]
    for row in rows(clean):
        if row[0] == "TINY.FLOAT64" and row[1] in by_time:
            value, string, name, code, system, good, errors = by_time[row[1]]
            row = (*row[:3], value, string, name, code, system, good, *row[9:12],
                   "" if system or (not good and value is None and string is None) else row[12], errors)
        truth.append(row)
    assert rows(lake) == sorted(truth)
    assert len([r for r in truth if r[0] == "TINY.FLOAT64"]) == len([r for r in rows(clean) if r[0] == "TINY.FLOAT64"])


@pytest.mark.parametrize("status, message, skipped", [
    (400, "Parameter 'maxCount' is invalid.", False),
    (500, "Timeout expired.", False),
    (404, "The specified point was not found.", True),
    (400, "PI Point not found '\\\\PISRV01\\TINY.STEP'.", True),
])
def test_a_per_stream_error_fails_the_run_unless_the_point_is_not_found(sim_url, tmp_path, status, message, skipped):
    extract(config(sim_url, tmp_path / "clean"))
    clean = DeltaSink(str(tmp_path / "clean"))
    target = web_id_of(clean, "TINY.STEP")
    stub_answers(sim_url, "/streamsets/recorded", stream_failure(target, status, [message]))
    lake = DeltaSink(str(tmp_path / "lake"))
    if skipped:
        report = extract(config(sim_url, tmp_path / "lake"))
        assert report.status == "succeeded" and report.tables["recorded_values"].skipped == 1
        assert [r for r in rows(lake)] == [r for r in rows(clean) if r[0] != "TINY.STEP"]
        assert target not in Checkpoints(lake).load("recorded_values")
        return
    with pytest.raises(ConnectorError, match=message.split(" ")[0]):
        extract(config(sim_url, tmp_path / "lake"))
    assert target not in Checkpoints(lake).load("recorded_values")
    log = lake.read("run_log").to_pylist()
    assert [r["event"] for r in log if r["level"] == "error"] == ["run_failed"]
    AdminClient(sim_url).reset()
    extract(config(sim_url, tmp_path / "lake"))
    assert rows(lake) == rows(clean)


BAD_SCENARIO = str(Path(__file__).resolve().parents[1] / "scenarios" / "bad-values.yaml")
BAD_TAGS = ["BAD.ERR1", "BAD.ERR2", "BAD.ARRAY", "GOOD.PLAIN"]


def test_a_scenario_of_bad_values_lands_value_by_value(tmp_path):
    """The simulator's own bad values (error objects, error lists, a TimedValue's Errors, arrays) against
    its ground truth, errors column included; BAD.STREAM (failing in every stream-set read) not asked for."""
    with SimulatorProcess(BAD_SCENARIO) as server:
        report = extract(ConnectorConfig.from_dict({
            "source": {"url": server.url + "/piwebapi"}, "destination": {"uri": str(tmp_path)},
            "tags": [{"name_filter": "BAD.ERR*"}, {"name_filter": "BAD.ARRAY"}, {"name_filter": "GOOD.*"}],
            "recorded": {"start": "2026-11-24T18:00:00Z", "end": "2026-11-25T00:00:00Z", "max_count": 500},
            "af": {"enabled": False}, "event_frames": {"enabled": False}}))
    assert report.status == "succeeded"
    sim = simulator_for(BAD_SCENARIO)
    truth = expected_rows(sim, parse_ns("2026-11-24T18:00:00Z"), parse_ns("2026-11-25T00:00:00Z"), BAD_TAGS,
                          errors=True)
    table = table_rows(DeltaSink(str(tmp_path)), errors=True)
    assert table == truth
    assert {r[0] for r in truth} == set(BAD_TAGS)
    assert sum(r[-1] is not None for r in truth) > 100  # errors did come
    assert sum(r[0] == "BAD.ARRAY" and r[4].startswith("[") for r in truth) == 360
