"""The virtual archive without Flask: events are a pure function of (seed, point, time).

Each test states a property of simulator.archive and checks it value by value on the QA scenarios:
windows cut any way give the same events, cost follows window length, nothing after now, stable
duplicates, 7-digit timestamps, outages, Pt Created, quality shares, digital codes, string words.
"""
from __future__ import annotations

import dataclasses
import random
import re

import numpy as np
import pytest

from picommon import pitime
from simulator.archive import Archive
from simulator.archive import Boundary
from simulator.archive.events import EventSource
from simulator.archive.values import ANNOTATED
from simulator.archive.values import QUESTIONABLE
from simulator.archive.values import SUBSTITUTED
from simulator.scenario import load_scenario
from simulator.scenario.model import TICKS_PER_DAY
from simulator.scenario.model import TICKS_PER_SECOND

HOUR = 3600 * TICKS_PER_SECOND
MINUTE = 60 * TICKS_PER_SECOND
NOW = pitime.parse_time("2026-11-25T00:00:00Z", now=0)
DAY_START = NOW - TICKS_PER_DAY


def t(text: str) -> int:
    return pitime.parse_time(text, now=NOW)


@pytest.fixture(scope="module")
def scenarios():
    return {name: load_scenario(name) for name in ("qa-tiny", "qa-gaps", "qa-subsecond", "qa-digital")}


def find_point(scenario, name):
    return next(p for server in scenario.data_servers for p in server.points if p.name == name)


def archive_of(scenario, name, **changes):
    """The PointArchive of a point, optionally changed (dataclasses.replace) for one test."""
    point = find_point(scenario, name)
    if changes:
        point = dataclasses.replace(point, **changes)
    return Archive(scenario).of(point)


def same_events(a, b) -> None:
    np.testing.assert_array_equal(a.ticks, b.ticks)
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_array_equal(a.flags, b.flags)


# -- determinism across processes: tests/simulator/test_determinism.py ------------------------------

# -- a window does not depend on how it is cut ----------------------------------------------------------

CUT_POINTS = [("qa-tiny", "TINY.FLOAT64"), ("qa-tiny", "TINY.SUBSECOND"), ("qa-tiny", "TINY.GAP"),
              ("qa-gaps", "GAPS.OUTAGES"), ("qa-gaps", "GAPS.SYSTEM"), ("qa-gaps", "GAPS.CREATED"),
              ("qa-subsecond", "SUB.DUPS"), ("qa-digital", "DIG.VALVE01")]


@pytest.mark.parametrize(("scenario", "tag"), CUT_POINTS)
def test_any_split_of_a_window_concatenates_to_the_same_events(scenarios, scenario, tag):
    archive = archive_of(scenarios[scenario], tag)
    source = archive.source
    span = 2 * HOUR if "SUB" in tag else 2 * TICKS_PER_DAY
    a = t("2026-11-23T22:00:00Z") if "SUB" not in tag else t("2026-11-24T10:00:00Z")
    b = a + span
    whole = source.window(a, b, now=b)
    assert len(whole) > 100
    rng = random.Random(f"{scenario}/{tag}")
    for _ in range(3):
        # cut at random ticks, at event timestamps (duplicates included) and at slot edges
        cuts = {rng.randrange(a + 1, b) for _ in range(rng.randrange(1, 40))}
        cuts |= {int(x) for x in rng.sample(whole.ticks.tolist(), 10)}
        cuts |= {(a // source.spacing + rng.randrange(1, 50)) * source.spacing}
        edges = [a, *sorted(c for c in cuts if a < c <= b), b + 1]
        pieces = [source.window(lo, hi - 1, now=b) for lo, hi in zip(edges, edges[1:])]
        joined = type(whole).concat(pieces)
        same_events(joined, whole)
    # chunking inside the source does not matter either, ascending or descending
    for size, stop in ((1, a + 300 * source.spacing), (97, b), (1000, b)):
        part = source.window(a, stop, now=b)
        same_events(type(whole).concat(list(source.chunks(a, stop, now=b, chunk_slots=size))), part)
        backwards = type(whole).concat(list(source.chunks(a, stop, now=b, descending=True, chunk_slots=size)))
        same_events(backwards, part.reversed())


def test_recorded_pages_join_to_the_whole_window(scenarios):
    """maxCount pages restarted at the last timestamp (skipping what was seen there) give the window."""
    archive = archive_of(scenarios["qa-tiny"], "TINY.SUBSECOND")
    a, b = t("2026-11-24T06:00:00Z"), t("2026-11-24T06:10:00Z")
    whole = archive.recorded(a, b, NOW, max_count=10**9)
    got, start, seen_at_start = [], a, 0
    while True:
        page = archive.recorded(start, b, NOW, max_count=97)
        rows = list(zip(page.ticks.tolist(), page.value.tolist()))[seen_at_start:]
        got.extend(rows)
        if len(page) < 97:
            break
        start = int(page.ticks[-1])
        seen_at_start = int((page.ticks == start).sum())
    assert got == list(zip(whole.ticks.tolist(), whole.value.tolist()))


# -- cost is proportional to window length ----------------------------------------------------------


class SlotCounter:
    """Counts the slots EventSource generates (the unit of archive work)."""

    def __init__(self, monkeypatch) -> None:
        self.slots = 0
        original = EventSource._slots

        def counting(source, k_lo, k_hi, t_lo, t_hi):
            self.slots += k_hi - k_lo + 1
            return original(source, k_lo, k_hi, t_lo, t_hi)

        monkeypatch.setattr(EventSource, "_slots", counting)

    def measure(self, action) -> int:
        self.slots = 0
        action()
        return self.slots


@pytest.mark.parametrize("tag", ["TINY.FLOAT32", "TINY.FLOAT64", "TINY.SUBSECOND", "TINY.DIGITAL"])
def test_an_hour_costs_the_same_in_2026_and_2096(scenarios, monkeypatch, tag):
    counter = SlotCounter(monkeypatch)
    archive = archive_of(scenarios["qa-tiny"], tag, future=True)  # so that 2096 holds events
    costs = {}
    for year in (2026, 2096):
        a = t(f"{year}-06-01T10:00:00Z")
        b = a + HOUR
        costs[year] = (
            counter.measure(lambda: archive.recorded(a, b, NOW, max_count=10**9)),
            counter.measure(lambda: archive.recorded(a, b, NOW, boundary=Boundary.OUTSIDE, max_count=10**9)),
            counter.measure(lambda: archive.recorded(a, b, NOW, max_count=100)),
            counter.measure(lambda: archive.interpolated_at(np.arange(a, b, 10 * MINUTE), NOW)),
            counter.measure(lambda: archive.value_at(a + 1, NOW)),
            counter.measure(lambda: archive.plot(a, b, 10, NOW)),
        )
    expected = HOUR // archive.source.spacing
    recorded_2026 = costs[2026][0]
    assert expected <= recorded_2026 <= expected + 2
    for a_cost, b_cost in zip(costs[2026], costs[2096]):
        assert abs(a_cost - b_cost) <= 2 + a_cost // 100, costs
    # a read that stops at maxCount generates about maxCount events' worth of slots, not the window
    assert costs[2026][2] <= archive.source.slots_for(100) * 3
    # and a day costs 24 hours' worth, not more
    day = counter.measure(lambda: archive.recorded(DAY_START, NOW, NOW, max_count=10**9))
    assert abs(day - 24 * recorded_2026) <= 24 * 2


def test_outage_lookup_cost_follows_window_length(scenarios, monkeypatch):
    archive = archive_of(scenarios["qa-gaps"], "GAPS.OUTAGES", future=True)
    counter = SlotCounter(monkeypatch)
    near = counter.measure(lambda: archive.recorded(t("2026-06-01T00:00:00Z"), t("2026-06-01T01:00:00Z"), NOW))
    far = counter.measure(lambda: archive.recorded(t("2096-06-01T00:00:00Z"), t("2096-06-01T01:00:00Z"), NOW))
    assert near == far == HOUR // archive.source.spacing + 1


# -- nothing after now -----------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["TINY.FLOAT32", "TINY.FLOAT64", "TINY.SUBSECOND", "TINY.STRING", "TINY.GAP"])
def test_no_events_after_now(scenarios, tag):
    archive = archive_of(scenarios["qa-tiny"], tag)
    around = archive.recorded(NOW - HOUR, NOW + HOUR, NOW, max_count=10**9)
    assert len(around) > 0
    assert int(around.ticks.max()) <= NOW
    assert len(archive.recorded(NOW + 1, NOW + TICKS_PER_DAY, NOW)) == 0
    assert len(archive.recorded(NOW + 1, NOW + HOUR, NOW, boundary=Boundary.OUTSIDE)) == 1  # the one before
    assert int(archive.end(NOW).ticks[0]) == int(around.ticks.max())
    # interpolation holds the snapshot for 10 minutes, then says No Data
    later = archive.interpolated_at(np.array([NOW + 9 * MINUTE, NOW + 11 * MINUTE]), NOW)
    assert int(later.state[0]) != 248 and int(later.state[1]) == 248


def test_future_points_have_events_after_now(scenarios):
    archive = archive_of(scenarios["qa-tiny"], "TINY.FLOAT32", future=True)
    ahead = archive.recorded(NOW + 1, NOW + HOUR, NOW, max_count=10**9)
    assert len(ahead) == 60
    assert int(ahead.ticks.min()) > NOW
    assert int(archive.end(NOW).ticks[0]) > NOW + 365 * TICKS_PER_DAY  # the snapshot is the last event


# -- duplicates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "tag"), [("qa-tiny", "TINY.SUBSECOND"), ("qa-subsecond", "SUB.DUPS"),
                                               ("qa-subsecond", "SUB.WHOLE"), ("qa-subsecond", "SUB.STRING")])
def test_duplicates_keep_a_stable_order(scenarios, scenario, tag):
    archive = archive_of(scenarios[scenario], tag)
    a = t("2026-11-24T12:00:00Z")
    b = a + 5 * MINUTE
    events = archive.recorded(a, b, NOW, max_count=10**9)
    ticks = events.ticks
    dup_times = np.unique(ticks[1:][ticks[1:] == ticks[:-1]])
    assert len(dup_times) > 5, "the scenario should have duplicated timestamps here"
    assert (np.diff(ticks) >= 0).all()
    values = {}
    for when in dup_times[:20].tolist():
        mine = events.take(ticks == when)
        values[when] = mine.value.tolist()
        # the same rows, in the same order, from a window that starts or ends exactly there
        same_events(archive.recorded(when, when, NOW), mine)
        same_events(archive.recorded(when, b, NOW).take(slice(0, len(mine))), mine)
        tail = archive.recorded(a, when, NOW, max_count=10**9)
        same_events(tail.take(slice(len(tail) - len(mine), None)), mine)
        # descending reads give them reversed; the snapshot-style reads take the last of them
        same_events(archive.recorded(when, when - 1, NOW, max_count=len(mine)), mine.reversed())
        last = archive.at_or_before(when, NOW)
        assert float(last.value[0]) == mine.value.tolist()[-1]
    # and a second archive (a fresh process would do the same) agrees
    again = archive_of(scenarios[scenario], tag).recorded(a, b, NOW, max_count=10**9)
    same_events(again, events)


# -- timestamps with 7 fraction digits -------------------------------------------------------------


def test_subsecond_timestamps_round_trip_through_text(scenarios):
    archive = archive_of(scenarios["qa-tiny"], "TINY.SUBSECOND")
    events = archive.recorded(t("2026-11-24T12:00:00Z"), t("2026-11-24T12:01:00Z"), NOW, max_count=10**9)
    texts = pitime.format_times(events.ticks)
    assert texts == [pitime.format_time(x) for x in events.ticks.tolist()]
    pattern = re.compile(r"^2026-11-24T12:0[01]:\d\d(\.\d{1,7})?Z$")
    assert all(pattern.match(text) for text in texts)
    assert sum(len(text) == len("2026-11-24T12:00:00.1234567Z") for text in texts) > len(texts) // 2
    back = [pitime.parse_time(text, now=NOW) for text in texts]
    assert back == events.ticks.tolist()
    # a read that starts at a 7-digit timestamp starts exactly there
    seventh = next(x for x in events.ticks.tolist() if x % 10)
    start = pitime.parse_time(pitime.format_time(seventh), now=NOW)
    assert int(archive.recorded(start, start + MINUTE, NOW).ticks[0]) == seventh


def test_whole_second_points_have_whole_second_timestamps(scenarios):
    archive = archive_of(scenarios["qa-tiny"], "TINY.FLOAT64")  # jitter 0.5, subsecond false
    events = archive.recorded(DAY_START, NOW, NOW, max_count=10**9)
    assert (events.ticks % TICKS_PER_SECOND == 0).all()
    assert len(np.unique(events.ticks % (10 * TICKS_PER_SECOND))) > 3  # but jittered


# -- outages, gaps, Pt Created -----------------------------------------------------------------------


def outage_is_clean(archive, start: int, end: int, code: int) -> None:
    inside = archive.recorded(start, end - 1, NOW, max_count=10**9)
    assert inside.ticks.tolist() == [start]
    assert inside.state.tolist() == [code]
    after = archive.recorded(end, end + HOUR, NOW)
    assert int(after.ticks[0]) >= end and int(after.state[0]) == -1
    before = archive.before(start, NOW)
    assert int(before.ticks[0]) < start


def test_explicit_gaps_leave_a_state_at_start_and_nothing_until_end(scenarios):
    archive = archive_of(scenarios["qa-tiny"], "TINY.GAP")
    outage_is_clean(archive, t("2026-11-24T10:00:00Z"), t("2026-11-24T12:00:00Z"), 246)
    outage_is_clean(archive, t("2026-11-23T20:00:00Z"), t("2026-11-23T22:00:00Z"), 254)
    gaps = archive_of(scenarios["qa-gaps"], "GAPS.EXPLICIT")
    for start, end, code in [("02:00", "03:00", 246), ("06:00", "06:30", 254), ("12:00", "12:05", 311),
                             ("18:00", "20:00", 238)]:
        outage_is_clean(gaps, t(f"2026-11-24T{start}:00Z"), t(f"2026-11-24T{end}:00Z"), code)


def test_random_outages_leave_a_state_at_start_and_nothing_until_end(scenarios):
    archive = archive_of(scenarios["qa-gaps"], "GAPS.OUTAGES")
    a, b = NOW - 7 * TICKS_PER_DAY, NOW - TICKS_PER_DAY
    starts, ends, codes = archive.source.outages(a, b)
    assert 14 <= len(starts) <= 60  # about four a day
    reach = 0
    checked = 0
    for s, e, code in zip(starts.tolist(), ends.tolist(), codes.tolist()):
        assert 10 * MINUTE <= e - s <= 2 * HOUR
        overlapped = s < reach or any(s < x < e for x in starts.tolist())
        if not overlapped:
            outage_is_clean(archive, s, e, code)
            checked += 1
        reach = max(reach, e)
    assert checked >= 10
    # a read across a whole week never shows a good event inside an outage
    week = archive.recorded(a, b, NOW, max_count=10**9)
    index = np.searchsorted(starts, week.ticks, side="right") - 1
    inside = (index >= 0) & (week.ticks < np.maximum.accumulate(ends)[np.maximum(index, 0)])
    assert (week.state[inside] == 246).all()


def test_pt_created_at_creation_and_nothing_before(scenarios):
    archive = archive_of(scenarios["qa-gaps"], "GAPS.CREATED")
    created = t("2026-11-22T00:00:00Z")
    around = archive.recorded(created - HOUR, created + 5 * MINUTE, NOW, max_count=10**9)
    assert int(around.ticks[0]) == created and int(around.state[0]) == 253
    assert (around.state[1:] == -1).all() and len(around) > 5
    assert len(archive.recorded(created - TICKS_PER_DAY, created - 1, NOW)) == 0
    assert int(archive.interpolated_at(np.array([created - 1]), NOW).state[0]) == 248  # No Data
    assert int(archive.value_at(created, NOW).state[0]) == 253
    # the same with a creation time that is not on a slot boundary
    odd = created + 17 * TICKS_PER_SECOND + 1234567
    moved = archive_of(scenarios["qa-tiny"], "TINY.SUBSECOND", created=odd)
    first = moved.recorded(odd - MINUTE, odd + MINUTE, NOW, max_count=10**9)
    assert int(first.ticks[0]) == odd and int(first.state[0]) == 253 and int(first.ticks[1]) > odd


# -- value distributions ---------------------------------------------------------------------------


def test_quality_shares_match_the_scenario_over_a_week(scenarios):
    archive = archive_of(scenarios["qa-tiny"], "TINY.FLOAT64")
    quality = find_point(scenarios["qa-tiny"], "TINY.FLOAT64").quality
    week = archive.recorded(NOW - 7 * TICKS_PER_DAY, NOW, NOW, max_count=10**9)
    n = len(week)
    slots = 7 * TICKS_PER_DAY // archive.source.spacing
    assert abs(n / slots - 0.9) < 0.01  # keep: 0.9
    for flag, share in ((QUESTIONABLE, quality.questionable), (SUBSTITUTED, quality.substituted),
                        (ANNOTATED, quality.annotated)):
        observed = float(((week.flags & flag) != 0).mean())
        assert abs(observed - share) < 5 * np.sqrt(share * (1 - share) / n) + 1e-4, (flag, observed, share)
    assert ((week.flags & (week.flags - 1)) == 0).all()  # at most one flag per event


def test_system_state_shares_match_the_scenario(scenarios):
    archive = archive_of(scenarios["qa-gaps"], "GAPS.SYSTEM")
    week = archive.recorded(NOW - 7 * TICKS_PER_DAY, NOW, NOW, max_count=10**9)
    bad = week.state >= 0
    assert abs(float(bad.mean()) - 0.05) < 0.005
    assert set(week.state[bad].tolist()) == {255, 249, 238, 215}


def test_digital_points_take_only_their_sets_codes(scenarios):
    for scenario, tag in [("qa-tiny", "TINY.DIGITAL"), ("qa-digital", "DIG.VALVE01"), ("qa-digital", "DIG.ALARM"),
                          ("qa-gaps", "GAPS.DIGITAL")]:
        sc = scenarios[scenario]
        point = find_point(sc, tag)
        codes = {code for s in sc.digital_sets if s.name == point.digital_set for code, _ in s.states}
        week = archive_of(sc, tag).recorded(NOW - 7 * TICKS_PER_DAY, NOW, NOW, max_count=10**9)
        good = week.state < 0
        seen = set(week.value[good].astype(int).tolist())
        assert seen == codes, (tag, seen, codes)  # every code shows up in a week, and nothing else
        assert (week.value[good] == np.rint(week.value[good])).all()


def test_digital_states_hold_for_their_dwell(scenarios):
    archive = archive_of(scenarios["qa-digital"], "DIG.MODE")  # dwell 3h, an event every 10 min
    day = archive.recorded(DAY_START, NOW, NOW, max_count=10**9)
    windows = day.ticks // (3 * HOUR)
    for w in np.unique(windows).tolist():
        assert len(set(day.value[windows == w].tolist())) == 1


def test_string_points_take_only_their_vocabulary(scenarios):
    for scenario, tag in [("qa-tiny", "TINY.STRING"), ("qa-digital", "STR.BATCH"), ("qa-digital", "STR.NOTES"),
                          ("qa-subsecond", "SUB.STRING")]:
        sc = scenarios[scenario]
        point = find_point(sc, tag)
        archive = Archive(sc)
        vocabulary = archive.vocabulary(point)
        assert vocabulary == tuple(point.signal.choices)
        week = archive.of(point).recorded(NOW - 7 * TICKS_PER_DAY, NOW, NOW, max_count=10**9)
        seen = set(week.value.astype(int).tolist())
        assert seen == set(range(len(vocabulary))), (tag, seen)


def test_string_points_hold_their_word_for_the_dwell(scenarios):
    archive = archive_of(scenarios["qa-digital"], "STR.BATCH")  # dwell 4h, an event every 30 min
    day = archive.recorded(NOW - 3 * TICKS_PER_DAY, NOW, NOW, max_count=10**9)
    windows = day.ticks // (4 * HOUR)
    runs = [len(set(day.value[windows == w].tolist())) for w in np.unique(windows).tolist()]
    assert runs and max(runs) == 1


def test_faker_vocabulary_is_seeded_per_point(scenarios):
    sc = scenarios["qa-digital"]
    point = find_point(sc, "STR.OPERATOR")
    first, second = Archive(sc).vocabulary(point), Archive(sc).vocabulary(point)
    assert first == second and len(set(first)) > 10 and all(" " in name for name in first)


def test_integer_points_hold_whole_numbers_and_counters_reset(scenarios):
    archive = archive_of(scenarios["qa-tiny"], "TINY.INT32")  # rate 60/h, reset every day
    day = archive.recorded(DAY_START - HOUR, NOW, NOW, max_count=10**9)
    assert (day.value == np.rint(day.value)).all()
    at_midnight = archive.recorded(DAY_START, DAY_START, NOW)
    assert float(at_midnight.value[0]) == 0.0
    noon = archive.recorded(DAY_START + 12 * HOUR, DAY_START + 12 * HOUR, NOW)
    assert float(noon.value[0]) == 720.0


def test_float32_points_hold_float32_values(scenarios):
    day = archive_of(scenarios["qa-tiny"], "TINY.FLOAT32").recorded(DAY_START, NOW, NOW, max_count=10**9)
    np.testing.assert_array_equal(day.value.astype(np.float32).astype(np.float64), day.value)
    assert 14 < float(day.value.min()) < float(day.value.max()) < 26  # mean 20, amplitude 5, noise 0.2
