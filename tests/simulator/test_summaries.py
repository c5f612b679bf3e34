"""Summaries, interpolated and plot values, checked against plain Python over the recorded events.

The brute force below follows the definitions in simulator/archive/summaries.py's docstring, one
loop per definition, and its own interpolation between neighbouring events. The simulator's answers
come through the routes (the contract checks every response).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import pytest

from picommon import pitime
from simulator.scenario.model import TICKS_PER_DAY
from simulator.scenario.model import TICKS_PER_SECOND

from tests.conftest import contract_app

NOW = pitime.parse_time("2026-11-25T00:00:00Z", now=0)
HOLD = 10 * 60 * TICKS_PER_SECOND
NO_DATA = 248
REL = 1e-9


@pytest.fixture(scope="module")
def app(tiny_scenario):
    """One app for the module (its tests only read); `client` still checks every response."""
    return contract_app(tiny_scenario)


def t(text: str) -> int:
    return pitime.parse_time(text, now=NOW)


@dataclass(frozen=True)
class Event:
    t: int
    value: float
    state: int  # -1 for a good value
    questionable: bool

    @property
    def good(self) -> bool:
        return self.state < 0


@dataclass(frozen=True)
class Point:
    """What the brute force knows of a point: its events around a window and whether it steps."""

    events: list[Event]
    stepped: bool
    ticks: list[int]  # the events' times, for bisect

    def prev(self, x: int) -> Event | None:
        """The last event at or before x (the last of several at the same time)."""
        i = bisect.bisect_right(self.ticks, x)
        return self.events[i - 1] if i else None

    def next(self, x: int) -> Event | None:
        """The first event after x."""
        i = bisect.bisect_right(self.ticks, x)
        return self.events[i] if i < len(self.events) else None

    def interp(self, x: int) -> Event:
        """The value at x: linear between two good neighbours, else the previous value (or state)."""
        p = self.prev(x)
        if p is None or x > NOW + HOLD:
            return Event(x, 0.0, NO_DATA, False)
        if not p.good:
            return Event(x, 0.0, p.state, False)
        if p.t == x or self.stepped:
            return Event(x, p.value, -1, p.questionable)
        n = self.next(x)
        if n is None or not n.good:
            return Event(x, p.value, -1, p.questionable)
        value = p.value + (n.value - p.value) * (x - p.t) / (n.t - p.t)
        return Event(x, value, -1, p.questionable or n.questionable)


def load(sim, tag: str, a: int, b: int) -> Point:
    entry = sim.catalog.data_servers[0].by_name[tag.lower()]
    archive = sim.archive.of(entry.point)
    margin = 3 * 3600 * TICKS_PER_SECOND  # wider than any gap of qa-tiny (2 h)
    values = archive.recorded(a - margin, b + margin, NOW, max_count=10**9)
    events = [Event(int(x), float(v), int(s), bool(f & 1))
              for x, v, s, f in zip(values.ticks, values.value, values.state, values.flags)]
    return Point(events, archive.stepped, [e.t for e in events])


# -- the brute force ---------------------------------------------------------------------------------


def time_weighted(point: Point, a: int, b: int, last: bool) -> dict[str, tuple[float | None, int]]:
    """{type: (value or None for No Data, timestamp)} over [a, b]."""
    points = [point.interp(a)] + [e for e in point.events if a < e.t < b] + [point.interp(b)]
    integral = square = 0.0
    good_time = 0
    for p0, p1 in zip(points, points[1:]):
        d = p1.t - p0.t
        if not p0.good:
            continue  # bad time
        good_time += d
        if point.stepped or not p1.good:
            integral += p0.value * d
            square += p0.value * p0.value * d
        else:
            integral += (p0.value + p1.value) / 2 * d
            square += (p0.value ** 2 + p0.value * p1.value + p1.value ** 2) / 3 * d
    good = [p for p in points if p.good]
    out: dict[str, tuple[float | None, int]] = {}
    counted = [e for e in point.events if a <= e.t and (e.t <= b if last else e.t < b)]
    out["Count"] = (float(sum(e.good for e in counted)), a)
    out["PercentGood"] = (100.0 * good_time / (b - a), a)
    if not good:
        for kind in ("Total", "Average", "Minimum", "Maximum", "Range", "StdDev", "PopulationStdDev"):
            out[kind] = (None, a)
        return out
    low = min(good, key=lambda p: p.value)  # min() keeps the first of equal values: the earliest
    high = max(good, key=lambda p: p.value)
    out["Minimum"] = (low.value, low.t)
    out["Maximum"] = (high.value, high.t)
    out["Range"] = (high.value - low.value, a)
    out["Total"] = (integral / TICKS_PER_DAY, a)
    if good_time == 0:
        out["Average"] = (low.value if low.value == high.value else None, a)
        out["StdDev"] = out["PopulationStdDev"] = (0.0, a)
        return out
    mean = integral / good_time
    out["Average"] = (mean, a)
    deviation = math.sqrt(max(square / good_time - mean * mean, 0.0))
    out["StdDev"] = out["PopulationStdDev"] = (deviation, a)
    return out


def event_weighted(point: Point, a: int, b: int, last: bool) -> dict[str, tuple[float | None, int]]:
    counted = [e for e in point.events if a <= e.t and (e.t <= b if last else e.t < b)]
    good = [e for e in counted if e.good]
    out: dict[str, tuple[float | None, int]] = {
        "Count": (float(len(good)), a),
        "PercentGood": (100.0 * len(good) / len(counted) if counted else 0.0, a),
    }
    if not good:
        for kind in ("Total", "Average", "Minimum", "Maximum", "Range", "StdDev", "PopulationStdDev"):
            out[kind] = (None, a)
        return out
    values = [e.value for e in good]
    n = len(values)
    mean = sum(values) / n
    squares = sum((v - mean) ** 2 for v in values)
    low = min(good, key=lambda e: e.value)
    high = max(good, key=lambda e: e.value)
    out.update({"Total": (sum(values), a), "Average": (mean, a), "Minimum": (low.value, low.t),
                "Maximum": (high.value, high.t), "Range": (high.value - low.value, a),
                "StdDev": (math.sqrt(squares / (n - 1)) if n > 1 else 0.0, a),
                "PopulationStdDev": (math.sqrt(squares / n), a)})
    return out


ALL = ("Total", "Average", "Minimum", "Maximum", "Range", "StdDev", "PopulationStdDev", "Count", "PercentGood")


def expected_summaries(point: Point, a: int, b: int, duration: int | None, basis: str, time_type: str = "Auto"):
    edges = [a]
    if duration:
        edges += list(range(a + duration, b, duration))
    edges.append(b)
    out = []
    for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
        last = i == len(edges) - 2
        results = (time_weighted if basis == "TimeWeighted" else event_weighted)(point, lo, hi, last)
        for kind in ALL:
            value, stamp = results[kind]
            if time_type == "EarliestTime":
                stamp = lo
            elif time_type == "MostRecentTime":
                stamp = hi
            out.append((kind, value, stamp))
    return out


def check_summaries(body: dict, expected: list) -> None:
    assert len(body["Items"]) == len(expected)
    for item, (kind, value, stamp) in zip(body["Items"], expected):
        got = item["Value"]
        assert item["Type"] == kind
        assert got["Timestamp"] == pitime.format_time(stamp), (kind, got, stamp)
        if value is None:
            assert got["Good"] is False and got["Value"] == {"Name": "No Data", "Value": 248, "IsSystem": True}, kind
        else:
            assert got["Good"] is True, (kind, got)
            assert got["Value"] == pytest.approx(value, rel=REL, abs=1e-9), (kind, got, value, stamp)


# -- summaries ---------------------------------------------------------------------------------------

WINDOWS = [
    ("TINY.GAP", "2026-11-24T08:00:00Z", "2026-11-24T14:00:00Z"),       # across the 10:00-12:00 outage
    ("TINY.GAP", "2026-11-24T10:30:00Z", "2026-11-24T11:30:00Z"),       # inside it: no good data at all
    ("TINY.GAP", "2026-11-23T19:00:00Z", "2026-11-23T23:00:00Z"),       # across the Shutdown
    ("TINY.STEP", "2026-11-24T00:00:00Z", "2026-11-24T06:00:00Z"),      # stepped square wave
    ("TINY.INT32", "2026-11-23T20:00:00Z", "2026-11-24T04:00:00Z"),     # stepped counter across its reset
    ("TINY.FLOAT64", "2026-11-24T12:00:03Z", "2026-11-24T12:47:00Z"),   # jitter, keep and flags
    ("TINY.FLOAT32", "2026-11-24T23:00:00Z", "2026-11-25T00:20:00Z"),   # past now: held, then No Data
]


@pytest.mark.parametrize(("tag", "start", "end"), WINDOWS)
@pytest.mark.parametrize("basis", ["TimeWeighted", "EventWeighted"])
@pytest.mark.parametrize("duration", [None, "1h", "17m"])
def test_summaries_match_the_brute_force(client, sim, ids, tag, start, end, basis, duration):
    a, b = t(start), t(end)
    point = load(sim, tag, a, b)
    query = f"startTime={start}&endTime={end}&summaryType=All&calculationBasis={basis}"
    if duration:
        query += f"&summaryDuration={duration}"
    response = client.get(f"/piwebapi/streams/{ids[tag]}/summary?{query}")
    assert response.status_code == 200, response.get_json()
    span = None if duration is None else pitime.parse_interval(duration).approx_ticks
    check_summaries(response.get_json(), expected_summaries(point, a, b, span, basis))


@pytest.mark.parametrize("time_type", ["EarliestTime", "MostRecentTime", "Auto"])
def test_summary_time_types_stamp_as_documented(client, sim, ids, time_type):
    tag, start, end = WINDOWS[0]
    a, b = t(start), t(end)
    point = load(sim, tag, a, b)
    response = client.get(f"/piwebapi/streams/{ids[tag]}/summary?startTime={start}&endTime={end}"
                          f"&summaryType=All&summaryDuration=2h&timeType={time_type}")
    expected = expected_summaries(point, a, b, 2 * 3600 * TICKS_PER_SECOND, "TimeWeighted", time_type)
    check_summaries(response.get_json(), expected)


def test_summary_types_are_returned_in_the_order_asked(client, ids):
    url = (f"/piwebapi/streams/{ids['TINY.STEP']}/summary?startTime=2026-11-24T00:00:00Z"
           "&endTime=2026-11-24T06:00:00Z&summaryType=Maximum&summarytype=count&SummaryType=Minimum")
    body = client.get(url).get_json()
    assert [item["Type"] for item in body["Items"]] == ["Maximum", "Count", "Minimum"]
    # 37 events: 00:00..06:00 every 10 minutes, both ends
    assert [item["Value"]["Value"] for item in body["Items"]] == [60.0, 37.0, 40.0]


def test_default_summary_is_the_total_over_the_last_day(client, sim, ids):
    point = load(sim, "TINY.STEP", NOW - TICKS_PER_DAY, NOW)
    body = client.get(f"/piwebapi/streams/{ids['TINY.STEP']}/summary").get_json()
    [(kind, value, stamp)] = [x for x in expected_summaries(point, NOW - TICKS_PER_DAY, NOW, None, "TimeWeighted")
                              if x[0] == "Total"]
    assert [item["Type"] for item in body["Items"]] == ["Total"]
    assert body["Items"][0]["Value"]["Value"] == pytest.approx(value, rel=REL)
    assert body["Items"][0]["Value"]["Value"] == pytest.approx(50.0, rel=0.01)  # square wave 40/60: a day of ~50


def test_non_numeric_streams_summarise_count_and_percent_good_only(client, sim, ids):
    start, end = "2026-11-24T00:00:00Z", "2026-11-24T12:00:00Z"
    point = load(sim, "TINY.DIGITAL", t(start), t(end))
    body = client.get(f"/piwebapi/streams/{ids['TINY.DIGITAL']}/summary?startTime={start}&endTime={end}"
                      "&summaryType=Count&summaryType=PercentGood&summaryType=Average&calculationBasis=EventWeighted"
                      ).get_json()
    count = sum(1 for e in point.events if t(start) <= e.t <= t(end))
    assert [i["Value"]["Value"] for i in body["Items"][:2]] == [float(count), 100.0]
    assert body["Items"][2]["Value"]["Good"] is False


# -- interpolated ------------------------------------------------------------------------------------

INTERPOLATED = [
    ("TINY.FLOAT64", "2026-11-24T12:00:00Z", "2026-11-24T13:00:00Z", "37s"),
    ("TINY.FLOAT32", "2026-11-24T22:00:00Z", "2026-11-25T00:30:00Z", "7m"),      # past now too
    ("TINY.GAP", "2026-11-24T09:00:00Z", "2026-11-24T13:00:00Z", "5m"),
    ("TINY.STEP", "2026-11-24T00:00:00Z", "2026-11-24T06:00:00Z", "13m"),
    ("TINY.SUBSECOND", "2026-11-24T12:00:00Z", "2026-11-24T12:00:30Z", "0.3s"),
]


@pytest.mark.parametrize(("tag", "start", "end", "interval"), INTERPOLATED)
def test_interpolated_values_are_linear_between_neighbours(client, sim, ids, tag, start, end, interval):
    a, b = t(start), t(end)
    point = load(sim, tag, a, b)
    step = pitime.parse_interval(interval).approx_ticks
    body = client.get(f"/piwebapi/streams/{ids[tag]}/interpolated?startTime={start}&endTime={end}"
                      f"&interval={interval}").get_json()
    times = list(range(a, b + 1, step))
    assert [item["Timestamp"] for item in body["Items"]] == [pitime.format_time(x) for x in times]
    float32 = tag in ("TINY.FLOAT32", "TINY.STEP", "TINY.GAP")
    for item, x in zip(body["Items"], times):
        want = point.interp(x)
        if not want.good:
            assert item["Good"] is False and item["Value"]["Value"] == want.state, (item, want)
            continue
        assert item["Good"] is True
        if float32:
            assert item["Value"] == pytest.approx(float(np.float32(want.value)), rel=1e-6), (item, want)
        else:
            assert item["Value"] == pytest.approx(want.value, rel=1e-12), (item, want)
        assert item["Questionable"] is want.questionable


def test_interpolated_by_hand(client, sim, ids):
    """One value worked out by hand from its two neighbours."""
    point = load(sim, "TINY.FLOAT64", t("2026-11-24T12:00:00Z"), t("2026-11-24T12:01:00Z"))
    x = t("2026-11-24T12:00:31.25Z")
    before = max((e for e in point.events if e.t <= x), key=lambda e: e.t)
    after = min((e for e in point.events if e.t > x), key=lambda e: e.t)
    assert before.good and after.good and before.t < x < after.t
    fraction = (x - before.t) / (after.t - before.t)
    body = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT64']}/interpolatedattimes"
                      "?time=2026-11-24T12:00:31.25Z").get_json()
    assert body["Items"][0]["Value"] == pytest.approx(before.value * (1 - fraction) + after.value * fraction,
                                                      rel=1e-12)
    value = client.get(f"/piwebapi/streams/{ids['TINY.FLOAT64']}/value?time=2026-11-24T12:00:31.25Z").get_json()
    assert value["Value"] == body["Items"][0]["Value"] and value["Timestamp"] == "2026-11-24T12:00:31.25Z"


# -- plot --------------------------------------------------------------------------------------------

PLOTS = [("TINY.FLOAT64", "2026-11-24T00:00:00Z", "2026-11-24T12:00:00Z", 24),
         ("TINY.GAP", "2026-11-24T08:00:00Z", "2026-11-24T14:00:00Z", 7),
         ("TINY.GAP", "2026-11-24T09:00:00Z", "2026-11-24T13:00:00Z", 2),        # an event at the end
         ("TINY.FLOAT32", "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z", 5),
         ("TINY.SUBSECOND", "2026-11-24T12:00:00Z", "2026-11-24T12:10:00Z", 13)]


@pytest.mark.parametrize(("tag", "start", "end", "intervals"), PLOTS)
def test_plot_keeps_at_most_five_values_per_interval_with_min_and_max(client, sim, ids, tag, start, end,
                                                                     intervals):
    a, b = t(start), t(end)
    point = load(sim, tag, a, b)
    body = client.get(f"/piwebapi/streams/{ids[tag]}/plot?startTime={start}&endTime={end}"
                      f"&intervals={intervals}").get_json()
    width = -(-(b - a) // intervals)
    recorded = [e for e in point.events if a <= e.t <= b]
    stamps = {pitime.format_time(e.t): e.t for e in recorded}
    plotted = []
    for item in body["Items"]:
        assert item["Timestamp"] in stamps
        when = stamps[item["Timestamp"]]
        value = item["Value"]["Value"] if isinstance(item["Value"], dict) else item["Value"]
        plotted.append((when, value, item["Good"]))
    assert [p[0] for p in plotted] == sorted(p[0] for p in plotted)
    for i in range(intervals):
        lo, hi = a + i * width, min(b, a + (i + 1) * width)
        inside = [e for e in recorded if lo <= e.t < hi or (i == intervals - 1 and e.t == b)]
        mine = [p for p in plotted if lo <= p[0] < hi or (i == intervals - 1 and p[0] == b)]
        assert len(mine) <= 5, (i, mine)
        if not inside:
            assert not mine
            continue
        good = [e for e in inside if e.good]
        must = [inside[0], inside[-1]]
        if good:
            must += [min(good, key=lambda e: e.value), max(good, key=lambda e: e.value)]
        for e in must:
            assert any(_same(e, p) for p in mine), (i, e, mine)
        # and nothing else: every plotted value is first, last, a minimum, a maximum or a bad value
        extremes = {must[2].value, must[3].value} if good else set()
        allowed = [e for e in inside if e in must[:2] or not e.good or e.value in extremes]
        for p in mine:
            assert any(_same(e, p) for e in allowed), (i, p, "is neither first, last, min, max nor bad")
        if len(good) < len(inside):
            assert any(not p[2] for p in mine), (i, "the interval's exceptional (bad) value is missing")


def _same(event: Event, plotted: tuple) -> bool:
    when, value, good = plotted
    if when != event.t or good != event.good:
        return False
    return value == event.state if not good else value == pytest.approx(event.value, rel=1e-6)


def test_plot_of_a_flat_run_is_its_first_and_last(client, ids):
    body = client.get(f"/piwebapi/streams/{ids['TINY.STEP']}/plot?startTime=2026-11-24T00:05:00Z"
                      "&endTime=2026-11-24T00:55:00Z&intervals=1").get_json()
    stamps = [item["Timestamp"] for item in body["Items"]]
    assert stamps[0] == "2026-11-24T00:10:00Z" and stamps[-1] == "2026-11-24T00:50:00Z"
    assert len(stamps) <= 4 and len({item["Value"] for item in body["Items"]}) == 1


def test_static_attributes_summarise_their_constant_value(client, sim):
    tank = sim.catalog.by_path("\\\\PIAF01\\TinyDB\\Plant\\Tank2")
    capacity = next(a for a in tank.attributes if a.name == "Capacity")  # 250.0, stamped 1970-01-01
    body = client.get(f"/piwebapi/streams/{capacity.web_id()}/summary?startTime=2026-11-24T00:00:00Z"
                      "&endTime=2026-11-24T12:00:00Z&summaryType=All&summaryDuration=6h").get_json()
    values = [(i["Type"], i["Value"]["Timestamp"], i["Value"]["Value"]) for i in body["Items"]]
    for start in ("2026-11-24T00:00:00Z", "2026-11-24T06:00:00Z"):
        assert [(kind, value) for kind, stamp, value in values if stamp == start] == [
            ("Total", 62.5), ("Average", 250.0), ("Minimum", 250.0), ("Maximum", 250.0), ("Range", 0.0),
            ("StdDev", 0.0), ("PopulationStdDev", 0.0), ("Count", 0.0), ("PercentGood", 100.0)]
    assert body["Items"][0]["Value"]["UnitsAbbreviation"] == "m3"
    city = next(a for a in sim.catalog.by_path("\\\\PIAF01\\TinyDB\\Plant").attributes if a.name == "City")
    text = client.get(f"/piwebapi/streams/{city.web_id()}/summary?summaryType=Count&summaryType=Average").get_json()
    assert text["Items"][0]["Value"]["Value"] == 0.0 and text["Items"][1]["Value"]["Good"] is False
    # an event frame's static attribute has its one event at the frame's start
    frame = sim.catalog.event_frames(sim.catalog.asset_servers[0].databases[0]).explicit[0]
    product = next(a for a in frame.attributes if a.name == "Product")
    counted = client.get(f"/piwebapi/streams/{product.web_id()}/summary?summaryType=Count"
                         "&calculationBasis=EventWeighted").get_json()
    assert counted["Items"][0]["Value"]["Value"] == 1.0
    assert counted["Items"][0]["Value"]["Timestamp"] == "2026-11-24T01:00:00Z"  # the frame's range by default
