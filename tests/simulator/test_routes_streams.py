"""/piwebapi/streams/{webId}/...: paging recorded values exactly, boundary types, direction, single
values, selectedFields, case-insensitivity and the 400/404/405 answers, value by value against the
virtual archive. `client` checks every response against the contract."""
from __future__ import annotations

import numpy as np
import pytest

from picommon import pitime
from simulator.archive import Boundary
from simulator.scenario.model import TICKS_PER_DAY
from simulator.scenario.model import TICKS_PER_SECOND

from tests.conftest import contract_app

NOW = pitime.parse_time("2026-11-25T00:00:00Z", now=0)
HOUR = 3600 * TICKS_PER_SECOND
DAY_START = NOW - TICKS_PER_DAY


@pytest.fixture(scope="module")
def app(tiny_scenario):
    """One app for the module (its tests only read); `client` still checks every response."""
    return contract_app(tiny_scenario)


def t(text: str) -> int:
    return pitime.parse_time(text, now=NOW)


def archive(sim, tag):
    return sim.archive.of(sim.catalog.data_servers[0].by_name[tag.lower()].point)


def expected(sim, tag, values) -> list[tuple]:
    """(Timestamp, Value, Good, Questionable, Substituted, Annotated) of archive rows, as PI writes them."""
    entry = sim.catalog.data_servers[0].by_name[tag.lower()]
    point = entry.point
    digital = {code: name for s in sim.scenario.digital_sets if s.name == point.digital_set for code, name in s.states}
    vocabulary = sim.archive.vocabulary(point) if point.point_type == "String" else ()
    from simulator.pi.states import SYSTEM

    rows = []
    for x, v, s, f in zip(values.ticks.tolist(), values.value.tolist(), values.state.tolist(), values.flags.tolist()):
        if s >= 0:
            value = {"Name": SYSTEM[s], "Value": s, "IsSystem": True}
        elif point.point_type == "Digital":
            value = {"Name": digital[int(v)], "Value": int(v), "IsSystem": False}
        elif point.point_type == "String":
            value = vocabulary[int(v)]
        elif point.point_type in ("Int16", "Int32"):
            value = int(v)
        elif point.point_type == "Float32":
            value = float(np.float32(v))
        else:
            value = v
        rows.append((pitime.format_time(x), value, s < 0, bool(f & 1) and s < 0, bool(f & 2) and s < 0,
                     bool(f & 4) and s < 0))
    return rows


def observed(items: list[dict], float32: bool = False) -> list[tuple]:
    """The same tuples from response items (float32: compare as PI's Single, as printed)."""
    rows = []
    for item in items:
        value = item["Value"]
        if float32 and isinstance(value, float):
            value = float(np.float32(value))
        rows.append((item["Timestamp"], value, item["Good"], item["Questionable"], item["Substituted"],
                     item["Annotated"]))
    return rows


def page_through(client, web_id: str, start: str, end: str, max_count: int = 1000) -> tuple[list[dict], int]:
    """Read [start, end] as a client must: restart each page at its last timestamp and skip the
    events already seen at that timestamp. Returns the items and the number of requests."""
    items: list[dict] = []
    seen_at_start = 0
    requests = 0
    while True:
        response = client.get(f"/piwebapi/streams/{web_id}/recorded",
                              query_string={"startTime": start, "endTime": end, "maxCount": max_count})
        requests += 1
        assert response.status_code == 200, response.get_json()
        page = response.get_json()["Items"]
        items.extend(page[seen_at_start:])
        if len(page) < max_count:
            return items, requests
        start = page[-1]["Timestamp"]
        seen_at_start = sum(1 for item in page if item["Timestamp"] == start)
        assert seen_at_start < max_count, "a whole page shares one timestamp"


# -- paging a whole day --------------------------------------------------------------------------------


def test_paging_a_day_of_the_densest_whole_second_tag_yields_every_event_once(client, sim, ids):
    items, requests = page_through(client, ids["TINY.FLOAT64"], "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
    window = archive(sim, "TINY.FLOAT64").recorded(DAY_START, NOW, NOW, max_count=10**9)
    assert len(window) > 7500 and requests == len(window) // 1000 + 1
    assert observed(items) == expected(sim, "TINY.FLOAT64", window)
    assert sum(item["Questionable"] for item in items) > 100  # flags do come through


def test_paging_a_day_of_the_subsecond_tag_with_duplicates(app, sim, ids):
    # 400+ pages: served by a plain test client (the first pages went through the contract check above)
    plain = app.test_client_class.__mro__[1]
    client = plain(app)
    items, requests = page_through(client, ids["TINY.SUBSECOND"], "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
    window = archive(sim, "TINY.SUBSECOND").recorded(DAY_START, NOW, NOW, max_count=10**9)
    assert len(window) > 400_000 and requests > 400
    duplicated = int((np.diff(window.ticks) == 0).sum())
    assert duplicated > 50_000
    assert observed(items) == expected(sim, "TINY.SUBSECOND", window)


def test_pages_restart_inside_a_run_of_duplicates(client, sim, ids):
    """A page boundary that falls between two events at the same time loses and repeats nothing."""
    source = archive(sim, "TINY.SUBSECOND")
    window = source.recorded(t("2026-11-24T12:00:00Z"), t("2026-11-24T12:00:10Z"), NOW, max_count=10**9)
    split = next(i for i in range(1, len(window)) if window.ticks[i] == window.ticks[i - 1])
    items, _ = page_through(client, ids["TINY.SUBSECOND"], "2026-11-24T12:00:00Z", "2026-11-24T12:00:10Z",
                            max_count=split)
    assert observed(items) == expected(sim, "TINY.SUBSECOND", window)


def test_a_seven_digit_timestamp_is_an_exact_start(client, sim, ids):
    window = archive(sim, "TINY.SUBSECOND").recorded(t("2026-11-24T12:00:00Z"), t("2026-11-24T12:00:05Z"), NOW)
    seventh = next(x for x in window.ticks.tolist() if x % 10)
    text = pitime.format_time(seventh)
    assert len(text.split(".")[1]) == 8  # 7 digits and Z
    body = client.get(f"/piwebapi/streams/{ids['TINY.SUBSECOND']}/recorded?startTime={text}&maxCount=3").get_json()
    assert body["Items"][0]["Timestamp"] == text


# -- direction and boundaries --------------------------------------------------------------------------


def test_end_before_start_returns_descending_values(client, sim, ids):
    url = f"/piwebapi/streams/{ids['TINY.FLOAT64']}/recorded"
    forward = client.get(url + "?startTime=2026-11-24T12:00:00Z&endTime=2026-11-24T13:00:00Z").get_json()["Items"]
    backward = client.get(url + "?startTime=2026-11-24T13:00:00Z&endTime=2026-11-24T12:00:00Z").get_json()["Items"]
    assert len(forward) > 300 and backward == forward[::-1]
    # maxCount takes the values nearest the start time, i.e. the latest ones
    last = client.get(url + "?startTime=2026-11-24T13:00:00Z&endTime=2026-11-24T12:00:00Z&maxCount=5").get_json()
    assert last["Items"] == forward[::-1][:5]


def test_descending_duplicates_come_in_reverse_archive_order(client, sim, ids):
    url = f"/piwebapi/streams/{ids['TINY.SUBSECOND']}/recorded"
    forward = client.get(url + "?startTime=2026-11-24T12:00:00Z&endTime=2026-11-24T12:00:20Z").get_json()["Items"]
    backward = client.get(url + "?startTime=2026-11-24T12:00:20Z&endTime=2026-11-24T12:00:00Z").get_json()["Items"]
    assert backward == forward[::-1]


@pytest.mark.parametrize(("tag", "float32"), [("TINY.FLOAT64", False), ("TINY.GAP", True), ("TINY.STEP", True)])
def test_boundary_types(client, sim, ids, tag, float32):
    source = archive(sim, tag)
    start, end = "2026-11-24T09:59:43.5Z", "2026-11-24T12:07:11.5Z"  # no whole-second event lies on them
    a, b = t(start), t(end)
    url = f"/piwebapi/streams/{ids[tag]}/recorded?startTime={start}&endTime={end}&maxCount=100000"
    inside = client.get(url).get_json()["Items"]
    window = source.recorded(a, b, NOW, max_count=10**9)
    assert observed(inside, float32) == expected(sim, tag, window)
    assert a <= t(inside[0]["Timestamp"]) and t(inside[-1]["Timestamp"]) <= b
    outside = client.get(url + "&boundaryType=Outside").get_json()["Items"]
    before, after = source.before(a, NOW), source.after(b, NOW)
    assert outside[1:-1] == inside
    assert observed(outside[:1], float32) == expected(sim, tag, before)
    assert observed(outside[-1:], float32) == expected(sim, tag, after)
    interpolated = client.get(url + "&boundaryType=interpolated").get_json()["Items"]
    assert interpolated[1:-1] == inside
    assert [interpolated[0]["Timestamp"], interpolated[-1]["Timestamp"]] == [start, end]
    edge = client.get(f"/piwebapi/streams/{ids[tag]}/interpolatedattimes?time={start}&time={end}").get_json()
    assert [interpolated[0], interpolated[-1]] == edge["Items"]


def test_boundaries_on_an_event_add_nothing(client, sim, ids):
    source = archive(sim, "TINY.FLOAT32")  # an event every minute on the minute
    url = (f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded?startTime=2026-11-24T12:00:00Z"
           "&endTime=2026-11-24T12:10:00Z")
    inside = client.get(url).get_json()["Items"]
    assert len(inside) == 11
    assert client.get(url + "&boundaryType=Outside").get_json()["Items"] == inside
    assert client.get(url + "&boundaryType=Interpolated").get_json()["Items"] == inside
    assert source.recorded(t("2026-11-24T12:00:00Z"), t("2026-11-24T12:00:00Z"), NOW).ticks.tolist() == [
        t("2026-11-24T12:00:00Z")]


def test_outside_boundaries_in_descending_order(client, ids):
    url = f"/piwebapi/streams/{ids['TINY.FLOAT64']}/recorded"
    forward = client.get(url + "?startTime=2026-11-24T12:00:05Z&endTime=2026-11-24T12:05:05Z"
                               "&boundaryType=Outside").get_json()["Items"]
    backward = client.get(url + "?startTime=2026-11-24T12:05:05Z&endTime=2026-11-24T12:00:05Z"
                                "&boundaryType=Outside").get_json()["Items"]
    assert backward == forward[::-1]


def test_recorded_defaults_are_the_last_day_inside_at_most_1000(client, sim, ids):
    body = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded").get_json()
    window = archive(sim, "TINY.FLOAT32").recorded(DAY_START, NOW, NOW, max_count=1000)
    assert len(body["Items"]) == 1000
    assert observed(body["Items"], True) == expected(sim, "TINY.FLOAT32", window)
    assert body["UnitsAbbreviation"] == "degC" and body["Links"] == {}


def test_an_empty_range_is_a_200_with_no_items(client, ids):
    body = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded?startTime=*%2B1h&endTime=*%2B2h").get_json()
    assert body["Items"] == []


def test_filter_expression_and_filtered_values(client, sim, ids):
    url = (f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded?startTime=2026-11-24T00:00:00Z"
           "&endTime=2026-11-24T06:00:00Z&maxCount=100000")
    everything = client.get(url).get_json()["Items"]
    kept = client.get(url + "&filterExpression='.' > 22").get_json()["Items"]
    assert kept == [item for item in everything if item["Value"] > 22] and 0 < len(kept) < len(everything)
    marked = client.get(url + "&filterExpression='.' > 22&includeFilteredValues=true").get_json()["Items"]
    filtered = [item for item in marked if isinstance(item["Value"], dict)]
    assert [item for item in marked if not isinstance(item["Value"], dict)] == kept
    assert filtered and all(item["Value"]["Name"] == "Filtered" and item["Value"]["Value"] == 244 for item in filtered)
    # one mark per run of rejected values, at the run's first time
    values = {item["Timestamp"]: item["Value"] for item in everything}
    stamps = [item["Timestamp"] for item in everything]
    runs = [s for i, s in enumerate(stamps) if values[s] <= 22 and (i == 0 or values[stamps[i - 1]] > 22)]
    assert [item["Timestamp"] for item in filtered] == runs


# -- single values -------------------------------------------------------------------------------------


def test_value_end_and_recorded_at_time(client, sim, ids):
    source = archive(sim, "TINY.FLOAT64")
    last = source.end(NOW)
    [snapshot] = expected(sim, "TINY.FLOAT64", last)
    for url in (f"/piwebapi/streams/{ids['TINY.FLOAT64']}/value", f"/piwebapi/streams/{ids['TINY.FLOAT64']}/end"):
        body = client.get(url).get_json()
        assert observed([body]) == [snapshot]
    when = "2026-11-24T12:00:05Z"
    at = source.at_or_before(t(when), NOW)
    after = source.after(t(when), NOW)
    for mode, rows in (("Auto", at), ("AtOrBefore", at), ("Before", source.before(t(when), NOW)),
                       ("AtOrAfter", source.at_or_after(t(when), NOW)), ("after", after)):
        body = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT64']}/recordedattime?time={when}"
                          f"&retrievalMode={mode}").get_json()
        assert observed([body]) == expected(sim, "TINY.FLOAT64", rows), mode
    exact = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT64']}/recordedattime?time={when}&retrievalMode=Exact")
    assert exact.get_json()["Value"] == {"Name": "No Data", "Value": 248, "IsSystem": True}


def test_snapshot_of_a_point_in_an_outage_is_the_state(client, ids):
    body = client.get(f"/piwebapi/streams/{ids['TINY.GAP']}/value?time=2026-11-24T11:00:00Z").get_json()
    assert body["Value"] == {"Name": "I/O Timeout", "Value": 246, "IsSystem": True} and body["Good"] is False
    assert body["UnitsAbbreviation"] == ""


def test_digital_and_string_values(client, sim, ids):
    for tag in ("TINY.DIGITAL", "TINY.STRING", "TINY.INT32"):
        body = client.get(f"/piwebapi/streams/{ids[tag]}/recorded?startTime=2026-11-24T00:00:00Z"
                          "&endTime=2026-11-24T03:00:00Z").get_json()
        window = archive(sim, tag).recorded(t("2026-11-24T00:00:00Z"), t("2026-11-24T03:00:00Z"), NOW)
        assert observed(body["Items"]) == expected(sim, tag, window)
    states = {item["Value"]["Name"] for item in client.get(
        f"/piwebapi/streams/{ids['TINY.DIGITAL']}/recorded?startTime=*-3d").get_json()["Items"]}
    assert states == {"Off", "On", "Fault"}


def test_interpolated_at_times_in_the_order_asked(client, ids):
    url = f"/piwebapi/streams/{ids['TINY.STEP']}/interpolatedattimes"
    body = client.get(url + "?time=2026-11-24T01:05:00Z&time=2026-11-24T00:05:00Z&sortOrder=Descending").get_json()
    assert [i["Timestamp"] for i in body["Items"]] == ["2026-11-24T01:05:00Z", "2026-11-24T00:05:00Z"]
    # a stepped point holds the previous value: the 01:00 and 00:00 events
    held = client.get(f"/piwebapi/streams/{ids['TINY.STEP']}/recorded?startTime=2026-11-24T00:00:00Z"
                      "&endTime=2026-11-24T01:00:00Z").get_json()["Items"]
    assert [i["Value"] for i in body["Items"]] == [held[-1]["Value"], held[0]["Value"]]


def test_interpolated_with_sync_time(client, ids):
    url = (f"/piwebapi/streams/{ids['TINY.FLOAT32']}/interpolated?startTime=2026-11-24T00:07:00Z"
           "&endTime=2026-11-24T01:00:00Z&interval=15m&syncTime=2026-11-24T00:00:00Z")
    stamps = [i["Timestamp"] for i in client.get(url).get_json()["Items"]]
    assert stamps == ["2026-11-24T00:15:00Z", "2026-11-24T00:30:00Z", "2026-11-24T00:45:00Z", "2026-11-24T01:00:00Z"]
    outside = [i["Timestamp"] for i in client.get(url + "&syncTimeBoundaryType=Outside").get_json()["Items"]]
    assert outside == ["2026-11-24T00:00:00Z", *stamps]


def test_attribute_streams_read_the_point_with_the_attributes_units(client, sim):
    element = sim.catalog.by_path("\\\\PIAF01\\TinyDB\\Plant\\Tank1")
    pressure = next(a for a in element.attributes if a.name == "Pressure")
    capacity = next(a for a in element.attributes if a.name == "Capacity")
    point_id = pressure.point.web_id()
    by_attribute = client.get(f"/piwebapi/streams/{pressure.web_id()}/recorded?startTime=*-1h").get_json()
    by_point = client.get(f"/piwebapi/streams/{point_id}/recorded?startTime=*-1h").get_json()
    assert by_attribute == by_point and by_attribute["UnitsAbbreviation"] == "kPa"
    static = client.get(f"/piwebapi/streams/{capacity.web_id()}/value").get_json()
    assert static["Value"] == 100.0 and static["Good"] is True and static["UnitsAbbreviation"] == "m3"
    other = next(a for a in sim.catalog.by_path("\\\\PIAF01\\TinyDB\\Plant\\Tank2").attributes if a.name == "Capacity")
    assert client.get(f"/piwebapi/streams/{other.web_id()}/end").get_json()["Value"] == 250.0


# -- selectedFields, case-insensitivity -------------------------------------------------------------------


def test_selected_fields_trim_exactly(client, ids):
    url = f"/piwebapi/streams/{ids['TINY.FLOAT64']}/recorded?startTime=*-10m"
    full = client.get(url).get_json()
    trimmed = client.get(url + "&selectedFields=Items.Timestamp;Items.Value").get_json()
    assert trimmed == {"Items": [{"Timestamp": i["Timestamp"], "Value": i["Value"]} for i in full["Items"]]}
    links = client.get(url + "&selectedFields=links;items.good").get_json()
    assert links == {"Links": {}, "Items": [{"Good": i["Good"]} for i in full["Items"]]}
    value = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT64']}/value?selectedFields=Timestamp;Value").get_json()
    assert set(value) == {"Timestamp", "Value"}
    summary = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT64']}/summary?summaryType=Average&summaryType=Count"
                         "&selectedFields=Items.Value.Timestamp;Items.Value.Value").get_json()
    assert [set(i) for i in summary["Items"]] == [{"Value"}, {"Value"}]
    assert [set(i["Value"]) for i in summary["Items"]] == [{"Timestamp", "Value"}] * 2
    assert client.get(url + "&selectedFields=Nothing.Here").get_json() == {}


def test_parameter_names_values_and_paths_are_case_insensitive(client, ids):
    web_id = ids["TINY.FLOAT64"]
    canonical = client.get(f"/piwebapi/streams/{web_id}/recorded?startTime=*-1h&endTime=*&boundaryType=Outside"
                           "&maxCount=50").get_json()
    for url in (f"/piwebapi/streams/{web_id}/recorded?STARTTIME=*-1h&endtime=*&BoundaryType=outside&MAXCOUNT=50",
                f"/PIWebAPI/Streams/{web_id}/Recorded?starttime=*-1H&boundarytype=OUTSIDE&maxcount=50",
                f"/piwebapi/STREAMS/{web_id}/RECORDED/?startTime=*-1h&boundaryType=Outside&maxCount=50"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_json())
        assert response.get_json() == canonical, url


# -- errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "parameter"), [
    ("startTime=not-a-time", "startTime"), ("endTime=2026-13-45", "endTime"), ("maxCount=ten", "maxCount"),
    ("maxCount=0", "maxCount"), ("maxCount=-5", "maxCount"), ("boundaryType=Sideways", "boundaryType"),
    ("maxCount=150001", "maxCount"), ("timeZone=Mars/Olympus", "timeZone"),
    ("filterExpression=rm -rf", "filterExpression"),
    ("includeFilteredValues=perhaps", "includeFilteredValues"),
])
def test_recorded_rejects_bad_parameters_naming_them(client, ids, query, parameter):
    response = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded?{query}")
    assert response.status_code == 400
    [message] = response.get_json()["Errors"]
    assert parameter in message


@pytest.mark.parametrize(("read", "query", "parameter"), [
    ("interpolated", "interval=fortnightly", "interval"), ("interpolated", "interval=0s", "interval"),
    ("interpolated", "interval=-1h", "interval"), ("interpolated", "startTime=*-30d&interval=1s", "interval"),
    ("interpolated", "syncTime=yesterday-ish", "syncTime"),
    ("interpolated", "syncTimeBoundaryType=Between", "syncTimeBoundaryType"),
    ("plot", "intervals=0", "intervals"), ("plot", "intervals=1e3", "intervals"),
    ("summary", "summaryType=Median", "summaryType"), ("summary", "calculationBasis=Guess", "calculationBasis"),
    ("summary", "summaryDuration=0h", "summaryDuration"), ("summary", "timeType=Soon", "timeType"),
    ("summary", "startTime=*-100d&summaryDuration=1s&summaryType=All", "summaryDuration"),
    ("value", "time=half past ten", "time"), ("recordedattime", "", "time"),
    ("recordedattime", "time=*&retrievalMode=Nearest", "retrievalMode"), ("interpolatedattimes", "", "time"),
    ("interpolatedattimes", "time=*&sortOrder=Sideways", "sortOrder"),
])
def test_other_reads_reject_bad_parameters_naming_them(client, ids, read, query, parameter):
    response = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/{read}?{query}")
    assert response.status_code == 400, response.get_json()
    assert parameter in response.get_json()["Errors"][0]


def test_max_returned_items_per_call_message(client, ids):
    response = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded?maxCount=150001")
    assert response.get_json() == {"Errors": ["Parameter 'maxCount' is greater than the maximum allowed (150000)."]}
    assert client.get(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/recorded?maxCount=150000").status_code == 200


@pytest.mark.parametrize("web_id", ["nonsense", "F1DP", "F1DPAAAA", "Z1DPeuVCnmmhcVaUr-TVmGEnkAAQAAAA",
                                    "F1XXeuVCnmmhcVaUr-TVmGEnkAAQAAAAUElTUlYwMVxUSU5ZLkZMT0FUMzI"])
def test_malformed_web_ids_are_400(client, web_id):
    response = client.get(f"/piwebapi/streams/{web_id}/recorded")
    assert response.status_code == 400
    assert "WebID" in response.get_json()["Errors"][0]


def test_well_formed_unknown_web_ids_are_404(client, sim):
    from simulator.pi import webid

    server = sim.catalog.data_servers[0]
    for unknown in (webid.point(server.id, 999, server.name, "NO.SUCH.TAG"),
                    webid.point("00000000-0000-0000-0000-000000000001", 1, "ELSEWHERE", "TINY.FLOAT32"),
                    webid.point(server.id, 999, server.name, "NO.SUCH.TAG", web_id_type="PathOnly")):
        response = client.get(f"/piwebapi/streams/{unknown}/value")
        assert response.status_code == 404, unknown
        assert unknown in response.get_json()["Errors"][0]


def test_web_ids_of_other_objects_are_400(client, sim):
    server = sim.catalog.data_servers[0]
    response = client.get(f"/piwebapi/streams/{server.web_id()}/recorded")
    assert response.status_code == 400 and "point or attribute" in response.get_json()["Errors"][0]


def test_any_web_id_form_reads_the_same_stream(client, sim):
    entry = sim.catalog.data_servers[0].by_name["tiny.float32"]
    bodies = [client.get(f"/piwebapi/streams/{entry.web_id(kind)}/recorded?startTime=*-10m").get_json()
              for kind in ("Full", "IDOnly", "PathOnly")]
    assert bodies[0] == bodies[1] == bodies[2] and len(bodies[0]["Items"]) == 11


def test_wrong_method_is_405_with_allow(client, ids):
    for method, read in (("post", "end"), ("put", "recorded"), ("delete", "recorded"), ("patch", "recorded")):
        response = getattr(client, method)(f"/piwebapi/streams/{ids['TINY.FLOAT32']}/{read}",  # POST recorded writes
                                           headers={"X-Requested-With": "test"})
        assert response.status_code == 405, method
        assert "GET" in response.headers["Allow"]
        assert response.get_json()["Errors"]


def test_unknown_paths_are_pi_404s(client):
    response = client.get("/piwebapi/streams/F1DPAAAA/nonesuch")
    assert response.status_code == 404 and response.get_json()["Errors"]


def test_boundary_enum_values(sim):
    assert (Boundary.INSIDE, Boundary.OUTSIDE, Boundary.INTERPOLATED) == ("Inside", "Outside", "Interpolated")
