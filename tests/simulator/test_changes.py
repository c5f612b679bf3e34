"""An archive that changes after the fact (living.yaml's `changes:`): late arrival, edits, deletions
and buffered outages, each checked event by event against the unchanged archive, as of many times;
every read path answers what the archive held at now."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import orjson
import pytest

from picommon import pitime
from simulator.archive import Archive
from simulator.archive.values import NO_STATE
from simulator.archive.values import SUBSTITUTED
from simulator.scenario import load_scenario
from simulator.scenario.model import TICKS_PER_SECOND

from tests.conftest import PINNED
from tests.conftest import contract_app

NOW = pitime.parse_time(PINNED, now=0)
S = TICKS_PER_SECOND
MINUTE = 60 * S
HOUR = 60 * MINUTE
CHANGED = ("LIVE.FLOW", "LIVE.TEMP", "LIVE.COUNT", "LIVE.STATE", "LIVE.BATCH")
ABSENT, RAW, EDITED = "absent", "raw", "edited"


@pytest.fixture(scope="module")
def living():
    return load_scenario("living", now=PINNED)


@pytest.fixture(scope="module")
def archive(living):
    return Archive(living)


@pytest.fixture(scope="module")
def raw(living):
    """The same archive without its changes: what every event was when generated."""
    return Archive(replace(living, changes=()))


def point(scenario, tag):
    return next(p for p in scenario.data_servers[0].points if p.name == tag)


def read(arc, scenario, tag, start, end, as_of):
    return arc.of(point(scenario, tag)).recorded(start, end, as_of, max_count=10**9)


def state_of(arc, scenario, tag, t, value, as_of) -> str:
    """What the archive held at `as_of` for the event generated at t with `value`."""
    found = read(arc, scenario, tag, t, t, as_of)
    if not len(found):
        return ABSENT
    assert len(found) == 1
    if found.value[0] == value and found.flags[0] != SUBSTITUTED:
        return RAW
    assert found.flags[0] == SUBSTITUTED and found.state[0] == NO_STATE
    return EDITED


def test_a_point_without_changes_is_the_unchanged_archive(living, archive, raw):
    for as_of in (NOW - HOUR, NOW, NOW + HOUR):
        a = read(archive, living, "CONTROL.SINE", NOW - 2 * HOUR, as_of, as_of)
        b = read(raw, living, "CONTROL.SINE", NOW - 2 * HOUR, as_of, as_of)
        assert len(a) > 100 and np.array_equal(a.ticks, b.ticks) and np.array_equal(a.value, b.value)


@pytest.mark.parametrize("tag", CHANGED)
def test_every_event_goes_absent_then_raw_then_edited_then_gone_and_never_back(living, archive, raw, tag):
    """The life of a sample of events, watched every 10 s from their timestamp until nothing can
    change any more: each state may be skipped except "raw" before "edited" (an edit comes at
    least a minute after the value appeared), and no state comes back."""
    reach = archive.of(point(living, tag)).source.changes.reach
    events = read(raw, living, tag, NOW - 12 * HOUR, NOW, NOW)
    sample = events.take(slice(0, None, max(1, len(events) // 40)))
    order = {ABSENT: 0, RAW: 1, EDITED: 2}
    lives = []
    for t, value in zip(sample.ticks.tolist(), sample.value.tolist()):
        seen = [state_of(archive, living, tag, t, value, t + step * 10 * S) for step in range(reach // (10 * S) + 2)]
        life = [seen[0]] + [b for a, b in zip(seen, seen[1:]) if a != b]
        lives.append(tuple(life))
        if EDITED in life:
            assert RAW in life and life.index(RAW) < life.index(EDITED), (t, life)
        gone = [i for i, x in enumerate(life) if x == ABSENT and i > 0]
        assert len(gone) <= 1 and (not gone or gone[0] == len(life) - 1), (t, life)  # deleted: for good
        assert all(order[a] <= order[b] for a, b in zip(life, life[1:]) if b != ABSENT), (t, life)
    assert any(life != (RAW,) for life in lives) or tag == "LIVE.TEMP"


def test_late_values_appear_between_30s_and_5min_after_their_time(living, archive, raw):
    events = read(raw, living, "LIVE.FLOW", NOW - 6 * HOUR, NOW, NOW)
    late = []
    for t, value in zip(events.ticks.tolist(), events.value.tolist()):
        if state_of(archive, living, "LIVE.FLOW", t, value, t + 29 * S) == ABSENT:
            late.append((t, value))
    share = len(late) / len(events)
    assert 0.07 < share < 0.14, share  # 10% late (and a few deleted within a minute: none, after >= 2m)
    for t, value in late[:30]:
        seen = [state_of(archive, living, "LIVE.FLOW", t, value, t + s * S) for s in range(0, 301, 5)]
        first = seen.index(RAW) if RAW in seen else seen.index(EDITED)
        assert 30 <= first * 5 <= 300 and ABSENT not in seen[first:first + 12]


def test_edits_replace_values_with_other_good_values(living, archive, raw):
    for tag, fraction in (("LIVE.FLOW", 0.02), ("LIVE.COUNT", 0.05), ("LIVE.STATE", 0.05)):
        now_events = read(archive, living, tag, NOW - 2 * 24 * HOUR, NOW - HOUR, NOW)
        raw_events = read(raw, living, tag, NOW - 2 * 24 * HOUR, NOW - HOUR, NOW)
        where = np.searchsorted(raw_events.ticks, now_events.ticks)
        assert np.array_equal(raw_events.ticks[where], now_events.ticks)  # nothing new, nothing moved
        before = raw_events.take(where)
        edited = now_events.flags == SUBSTITUTED
        assert np.array_equal(edited, now_events.value != before.value)
        share = edited.mean()
        assert fraction * 0.5 < share < fraction * 1.6, (tag, share)
        assert (now_events.state[edited] == NO_STATE).all()
        if tag == "LIVE.COUNT":
            assert np.array_equal(now_events.value[edited], np.rint(now_events.value[edited]))
            assert (np.abs(now_events.value[edited] - before.value[edited]) <= 3).all()
        if tag == "LIVE.STATE":
            assert set(now_events.value[edited].tolist()) <= {0.0, 1.0, 2.0, 3.0}


def test_deletions_remove_a_share_for_good(living, archive, raw):
    for tag, fraction in (("LIVE.FLOW", 0.01), ("LIVE.STATE", 0.03)):
        window = (NOW - 4 * 24 * HOUR, NOW - 2 * HOUR)
        now_events = read(archive, living, tag, *window, NOW)
        later = read(archive, living, tag, *window, NOW + 30 * 24 * HOUR)
        raw_events = read(raw, living, tag, *window, NOW)
        assert np.array_equal(now_events.ticks, later.ticks)  # settled: nothing comes back
        share = 1 - len(now_events) / len(raw_events)
        assert fraction * 0.4 < share < fraction * 1.8, (tag, share)


def test_a_buffered_outage_backfills_all_at_once(living, archive, raw):
    changes = archive.of(point(living, "LIVE.TEMP")).source.changes
    starts, ends, backfills = changes.windows(NOW - 3 * 24 * HOUR, NOW - HOUR)
    assert 4 <= len(starts) <= 25
    for s, e, b in zip(starts.tolist(), ends.tolist(), backfills.tolist()):
        assert MINUTE <= b - e <= 5 * MINUTE and 5 * MINUTE <= e - s <= 20 * MINUTE
        held = read(raw, living, "LIVE.TEMP", s, e - 1, NOW)
        assert len(held) >= 9
        just_before = read(archive, living, "LIVE.TEMP", s, e - 1, b - 1)
        at_backfill = read(archive, living, "LIVE.TEMP", s, e - 1, b)
        assert len(just_before) == 0
        assert np.array_equal(at_backfill.ticks, held.ticks) and np.array_equal(at_backfill.value, held.value)
        # the values before the window were there all along
        earlier = read(archive, living, "LIVE.TEMP", s - 10 * MINUTE, s - 1, s)
        assert len(earlier) == len(read(raw, living, "LIVE.TEMP", s - 10 * MINUTE, s - 1, s)) > 0


def test_the_same_as_of_gives_the_same_answer_in_another_process_of_the_archive(living, archive):
    other = Archive(load_scenario("living", now=PINNED))
    for tag in CHANGED:
        for as_of in (NOW - 7 * MINUTE, NOW):
            a = read(archive, living, tag, NOW - 6 * HOUR, as_of, as_of)
            b = read(other, living, tag, NOW - 6 * HOUR, as_of, as_of)
            assert np.array_equal(a.ticks, b.ticks) and np.array_equal(a.value, b.value)
            assert np.array_equal(a.flags, b.flags) and np.array_equal(a.state, b.state)


def test_every_read_path_answers_what_the_archive_held_at_now(living, archive):
    """Served as of a time in the middle of changes: recorded and streamsets equal the archive's
    rows; an edited value is what interpolation and value give at its time; summaries count the
    rows the archive held."""
    as_of = NOW - 3 * MINUTE
    app = contract_app(living, now=pitime.format_time(as_of))
    client = app.test_client()
    sim = app.extensions["pisim"]
    entry = sim.catalog.data_servers[0].by_name["live.flow"]
    w = entry.web_id()
    start, end = pitime.format_time(as_of - 2 * HOUR), pitime.format_time(as_of)
    expected = read(archive, living, "LIVE.FLOW", as_of - 2 * HOUR, as_of, as_of)
    window = {"startTime": start, "endTime": end, "maxCount": 100000}
    got = orjson.loads(client.get(f"/piwebapi/streams/{w}/recorded", query_string=window).get_data())["Items"]
    assert [i["Timestamp"] for i in got] == pitime.format_times(expected.ticks)
    assert [i["Substituted"] for i in got] == (expected.flags == SUBSTITUTED).tolist()
    many = orjson.loads(client.get("/piwebapi/streamsets/recorded", query_string={"webId": w, **window}).get_data())
    assert many["Items"][0]["Items"] == got
    edited = [i for i in got if i["Substituted"]]
    assert edited
    for item in edited[:5]:
        value = orjson.loads(client.get(f"/piwebapi/streams/{w}/value", query_string={"time": item["Timestamp"]})
                             .get_data())
        assert value["Value"] == item["Value"] and value["Substituted"]
    summary = orjson.loads(client.get(f"/piwebapi/streams/{w}/summary", query_string={
        "startTime": start, "endTime": end, "summaryType": "Count", "calculationBasis": "EventWeighted"}).get_data())
    assert summary["Items"][0]["Value"]["Value"] == int((expected.state == NO_STATE).sum())
    end_value = orjson.loads(client.get(f"/piwebapi/streams/{w}/end").get_data())
    assert end_value["Timestamp"] == pitime.format_time(int(expected.ticks[-1]))


def test_values_as_of_prints_what_the_archive_held_then_as_ground_truth_and_the_server_say():
    from click.testing import CliRunner

    from simulator.cli import main
    from simulator.testing import GroundTruth

    truth = GroundTruth("living", now=PINNED)
    start, end, as_of = "2026-11-24T23:00:00Z", "2026-11-25T00:00:00Z", "2026-11-24T23:58:00Z"
    result = CliRunner().invoke(main, ["values", "LIVE.FLOW", start, end, "-s", "living", "--as-of", as_of,
                                       "--now", PINNED])
    assert result.exit_code == 0, result.output
    printed = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert printed == truth.items("LIVE.FLOW", start, end, as_of=as_of)
    assert printed != truth.items("LIVE.FLOW", start, end)  # two more minutes: late values, edits
    assert max(row["Timestamp"] for row in printed) <= as_of
    served = contract_app("living", now=as_of).test_client().get(
        f"/piwebapi/streams/{truth.stream('LIVE.FLOW').source.web_id()}/recorded",
        query_string={"startTime": start, "endTime": end, "maxCount": 100000})
    assert orjson.loads(served.get_data())["Items"] == printed
    for args, words in ((["values", "LIVE.FLOW", start, "-s", "living", "--start", start], "not both"),
                        (["values", "NOPE", "-s", "living"], "no PI point named 'NOPE'"),
                        (["values", "LIVE.FLOW", "-s", "living", "--as-of", "soon"], "'soon' is not valid")):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and words in result.output, result.output
