"""Tests for picommon.pitime: PI time strings, intervals, zones and timestamp formatting."""
from __future__ import annotations

import datetime as dt
import sys
import time
import zoneinfo
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the package is not installed in the venv; run from a checkout
    sys.path.insert(0, str(REPO))

from picommon import pitime  # noqa: E402
from picommon.pitime import MAX_TICKS  # noqa: E402
from picommon.pitime import TICKS_PER_DAY  # noqa: E402
from picommon.pitime import TICKS_PER_SECOND  # noqa: E402
from picommon.pitime import Interval  # noqa: E402
from picommon.pitime import TimeParseError  # noqa: E402
from picommon.pitime import format_time  # noqa: E402
from picommon.pitime import format_times  # noqa: E402
from picommon.pitime import format_times_prefixed  # noqa: E402
from picommon.pitime import from_ticks  # noqa: E402
from picommon.pitime import interval_times  # noqa: E402
from picommon.pitime import parse_duration  # noqa: E402
from picommon.pitime import parse_interval  # noqa: E402
from picommon.pitime import parse_time  # noqa: E402
from picommon.pitime import resolve_timezone  # noqa: E402
from picommon.pitime import to_ticks  # noqa: E402

SYD = zoneinfo.ZoneInfo("Australia/Sydney")
HOUR = 3_600 * TICKS_PER_SECOND
MINUTE = 60 * TICKS_PER_SECOND


def iso(text: str) -> int:
    """Ticks of an ISO string with an explicit offset (whole microseconds only)."""
    return to_ticks(dt.datetime.fromisoformat(text))


# Wednesday 2026-11-25 03:04:05 UTC = 14:04:05 AEDT (+11:00) in Sydney.
NOW = iso("2026-11-25T03:04:05+00:00")


# --------------------------------------------------------------------------------------------------
# ticks <-> datetime

def test_to_ticks_from_ticks():
    assert to_ticks(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) == 0
    assert to_ticks(dt.datetime(1970, 1, 1, 0, 0, 1, 5)) == TICKS_PER_SECOND + 50  # naive = UTC
    assert to_ticks(dt.datetime(2026, 11, 25, 14, 4, 5, tzinfo=SYD)) == NOW
    assert from_ticks(NOW + 19) == dt.datetime(2026, 11, 25, 3, 4, 5, 1, tzinfo=dt.timezone.utc)
    assert from_ticks(NOW).tzinfo is not None
    assert abs(pitime.now_ticks() - time.time_ns() // 100) < 10 * TICKS_PER_SECOND


# --------------------------------------------------------------------------------------------------
# time zones

@pytest.mark.parametrize(("name", "key"), [
    ("UTC", "UTC"), ("utc", "UTC"), ("Australia/Sydney", "Australia/Sydney"),
    ("australia/sydney", "Australia/Sydney"), ("  America/New_York ", "America/New_York"),
    ("AUS Eastern Standard Time", "Australia/Sydney"), ("aus eastern standard time", "Australia/Sydney"),
    ("E. Australia Standard Time", "Australia/Brisbane"), ("GMT Standard Time", "Europe/London"),
    ("Eastern Standard Time", "America/New_York"), ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"), ("Pacific Standard Time", "America/Los_Angeles"),
    ("W. Europe Standard Time", "Europe/Berlin"), ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"), ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"), ("India Standard Time", "Asia/Kolkata"),
    ("Singapore Standard Time", "Asia/Singapore"), ("SA Pacific Standard Time", "America/Bogota"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("South Africa Standard Time", "Africa/Johannesburg"), ("Arab Standard Time", "Asia/Riyadh"),
    ("Egypt Standard Time", "Africa/Cairo"),
])
def test_resolve_timezone(name, key):
    assert resolve_timezone(name).key == key


def test_resolve_timezone_default_and_table():
    assert resolve_timezone(None).key == "UTC"
    assert resolve_timezone("", default="Australia/Sydney").key == "Australia/Sydney"
    assert 30 <= len(pitime.WINDOWS_TIME_ZONES) <= 80
    for windows_id in pitime.WINDOWS_TIME_ZONES:
        assert isinstance(resolve_timezone(windows_id), zoneinfo.ZoneInfo)


@pytest.mark.parametrize("name", ["Mars/Olympus", "Australia", "../etc/passwd", "EST Standard"])
def test_resolve_timezone_unknown(name):
    with pytest.raises(TimeParseError, match="unknown time zone") as info:
        resolve_timezone(name)
    assert repr(name) in str(info.value)


# --------------------------------------------------------------------------------------------------
# intervals

@pytest.mark.parametrize(("text", "ticks", "months"), [
    ("1h", HOUR, 0), ("10m", 10 * MINUTE, 0), ("30s", 30 * TICKS_PER_SECOND, 0),
    ("0.5s", TICKS_PER_SECOND // 2, 0), ("1.5h", 3 * HOUR // 2, 0), ("2d", 2 * TICKS_PER_DAY, 0),
    ("1w", 7 * TICKS_PER_DAY, 0), ("1mo", 0, 1), ("1y", 0, 12), ("-1h", -HOUR, 0),
    ("+15m", 15 * MINUTE, 0), ("1 hour", HOUR, 0), ("2 days", 2 * TICKS_PER_DAY, 0),
    ("3 months", 0, 3), ("1H", HOUR, 0), (" 5 Min ", 5 * MINUTE, 0), ("250ms", 2_500_000, 0),
    ("1 sec", TICKS_PER_SECOND, 0), ("2 seconds", 2 * TICKS_PER_SECOND, 0), ("3 mins", 3 * MINUTE, 0),
    ("2 hr", 2 * HOUR, 0), ("2 hours", 2 * HOUR, 0), ("1 day", TICKS_PER_DAY, 0),
    ("2 wk", 14 * TICKS_PER_DAY, 0), ("1 week", 7 * TICKS_PER_DAY, 0), ("1 month", 0, 1),
    ("2 yr", 0, 24), ("1 year", 0, 12), ("0.5y", 0, 6), ("86410s", 86_410 * TICKS_PER_SECOND, 0),
    (".25h", HOUR // 4, 0), ("- 2 d", -2 * TICKS_PER_DAY, 0), ("0.0000001s", 1, 0),
    ("01:30:00", 3 * HOUR // 2, 0), ("1.02:00:00.5", 26 * HOUR + 5_000_000, 0), ("-00:05", -5 * MINUTE, 0),
])
def test_parse_interval(text, ticks, months):
    interval = parse_interval(text)
    assert (interval.ticks, interval.months) == (ticks, months)
    assert interval == Interval(ticks, months)


@pytest.mark.parametrize("text, ticks", [
    ("5s", 5 * TICKS_PER_SECOND), ("1.5d", 36 * 3600 * TICKS_PER_SECOND), ("250ms", TICKS_PER_SECOND // 4),
    ("01:30:00", 5400 * TICKS_PER_SECOND), ("2 weeks", 14 * TICKS_PER_DAY),
])
def test_parse_duration(text, ticks):
    assert parse_duration(text) == ticks


@pytest.mark.parametrize("text, message", [
    ("1mo", "months and years have no fixed length"), ("1y", "months and years have no fixed length"),
    ("-1h", "must not be negative"), ("0s", "is zero"), ("1h30m", "is not valid"),
    ("99999y", "no fixed length"), ("5000000d", "longer than the years PI can store"),
])
def test_parse_duration_rejects(text, message):
    with pytest.raises(TimeParseError, match=message):
        parse_duration(text)
    assert parse_duration("0s", allow_zero=True) == 0


def test_interval_properties():
    assert parse_interval("-1h").negative
    assert parse_interval("-1mo").negative
    assert not parse_interval("1h").negative
    assert parse_interval("2d").calendar_days == 2
    assert parse_interval("1w").calendar_days == 7
    assert parse_interval("1.5d").calendar_days == 0
    assert parse_interval("0s", allow_zero=True).zero
    assert -parse_interval("1h") == parse_interval("-1h")
    assert parse_interval("1mo").approx_ticks == pytest.approx(30.436875 * TICKS_PER_DAY)


@pytest.mark.parametrize("text", ["", " ", "h", "1", "1x", "1.5mo", "0.1y", "1h2m", "abc", "1 h h", "--1h",
                                  "1e3s", "0s", "0.0h", "00:00:00", "1:2:3", "1,5h"])
def test_parse_interval_errors(text):
    with pytest.raises(TimeParseError) as info:
        parse_interval(text)
    assert repr(text) in str(info.value)


def test_parse_interval_not_a_string():
    with pytest.raises(TimeParseError):
        parse_interval(5)  # type: ignore[arg-type]


def test_interval_add_fixed_and_months():
    start = iso("2026-01-31T10:00:00+00:00") + 1_234_567
    assert parse_interval("1h").add(start, 3) == start + 3 * HOUR
    month = parse_interval("1mo")
    assert month.add(start) == iso("2026-02-28T10:00:00+00:00") + 1_234_567
    assert month.add(start, 2) == iso("2026-03-31T10:00:00+00:00") + 1_234_567
    assert month.add(start, -2) == iso("2025-11-30T10:00:00+00:00") + 1_234_567
    assert parse_interval("1y").add(iso("2024-02-29T00:00:00+00:00")) == iso("2025-02-28T00:00:00+00:00")


def test_interval_add_keeps_local_wall_clock_across_dst():
    # Sydney: AEST (+10) until 2026-10-04 02:00, then AEDT (+11).
    september = iso("2026-09-15T09:00:00+10:00")
    assert parse_interval("1mo").add(september, tz=SYD) == iso("2026-10-15T09:00:00+11:00")
    windows = "AUS Eastern Standard Time"
    assert parse_interval("1mo").add(september, tz=windows) == iso("2026-10-15T09:00:00+11:00")
    assert parse_interval("1mo").add(september) == iso("2026-10-15T09:00:00+10:00")  # UTC calendar
    midnight = iso("2026-10-04T00:00:00+10:00")
    assert parse_interval("1d").add(midnight, tz=SYD) == iso("2026-10-05T00:00:00+11:00")
    assert parse_interval("1d").add(midnight) == midnight + TICKS_PER_DAY
    assert parse_interval("24h").add(midnight, tz=SYD) == midnight + TICKS_PER_DAY
    assert parse_interval("1.5d").add(midnight, tz=SYD) == midnight + 36 * HOUR


def test_interval_add_out_of_range():
    with pytest.raises(TimeParseError):
        parse_interval("1y").add(MAX_TICKS, 10)


# --------------------------------------------------------------------------------------------------
# interval_times

def _iso_list(times):
    return [format_time(x) for x in times.tolist()]


def test_interval_times_forward_and_ends():
    start = iso("2026-11-25T00:00:00+00:00")
    times = interval_times(start, start + 3 * HOUR, parse_interval("1h"))
    assert times.dtype == np.int64
    assert times.tolist() == [start, start + HOUR, start + 2 * HOUR, start + 3 * HOUR]
    assert interval_times(start, start + 150 * MINUTE, parse_interval("1h")).tolist() == [
        start, start + HOUR, start + 2 * HOUR]
    assert interval_times(start, start, parse_interval("1h")).tolist() == [start]


def test_interval_times_backwards_and_negative():
    start = iso("2026-11-25T00:00:00+00:00")
    end = start + 150 * MINUTE
    # end < start with a positive interval: step backwards from start
    assert interval_times(end, start, parse_interval("1h")).tolist() == [end, end - HOUR, end - 2 * HOUR]
    # a negative interval counts from the end; still ordered start -> end
    assert interval_times(start, end, parse_interval("-1h")).tolist() == [end - 2 * HOUR, end - HOUR, end]
    backwards = interval_times(end, start, parse_interval("-1h"))
    assert backwards.tolist() == [start + 2 * HOUR, start + HOUR, start]


def test_interval_times_calendar():
    start = iso("2026-01-31T00:00:00+00:00")
    months = interval_times(start, iso("2026-06-30T00:00:00+00:00"), parse_interval("1mo"))
    assert _iso_list(months) == ["2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z",
                                 "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z", "2026-06-30T00:00:00Z"]
    local = interval_times(iso("2026-10-03T00:00:00+10:00"), iso("2026-10-05T00:00:00+11:00"),
                           parse_interval("1d"), SYD)
    assert local.tolist() == [iso("2026-10-03T00:00:00+10:00"), iso("2026-10-04T00:00:00+10:00"),
                              iso("2026-10-05T00:00:00+11:00")]
    fixed = interval_times(iso("2026-10-03T00:00:00+10:00"), iso("2026-10-05T00:00:00+11:00"),
                           parse_interval("24h"), SYD)
    assert len(fixed) == 2


def test_interval_times_limits():
    with pytest.raises(ValueError, match="zero"):
        interval_times(0, 10, Interval(0))
    with pytest.raises(ValueError, match="limit of 10"):
        interval_times(0, TICKS_PER_DAY, parse_interval("1h"), max_count=10)
    with pytest.raises(ValueError, match="limit of 3"):
        interval_times(0, 400 * TICKS_PER_DAY, parse_interval("1mo"), max_count=3)
    assert len(interval_times(0, 10 * HOUR, parse_interval("1h"), max_count=11)) == 11


# --------------------------------------------------------------------------------------------------
# parse_time

@pytest.mark.parametrize(("text", "expected_utc", "expected_sydney"), [
    (None, "2026-11-25T03:04:05+00:00", "2026-11-25T03:04:05+00:00"),
    ("", "2026-11-25T03:04:05+00:00", "2026-11-25T03:04:05+00:00"),
    ("*", "2026-11-25T03:04:05+00:00", "2026-11-25T03:04:05+00:00"),
    ("*-1h", "2026-11-25T02:04:05+00:00", "2026-11-25T02:04:05+00:00"),
    ("*+30m", "2026-11-25T03:34:05+00:00", "2026-11-25T03:34:05+00:00"),
    ("*-1d+2h", "2026-11-24T05:04:05+00:00", "2026-11-24T05:04:05+00:00"),
    ("*-1mo", "2026-10-25T03:04:05+00:00", "2026-10-25T03:04:05+00:00"),
    ("t", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("today", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("y", "2026-11-24T00:00:00+00:00", "2026-11-24T00:00:00+11:00"),
    ("yesterday", "2026-11-24T00:00:00+00:00", "2026-11-24T00:00:00+11:00"),
    ("t+8h", "2026-11-25T08:00:00+00:00", "2026-11-25T08:00:00+11:00"),
    ("y-8h", "2026-11-23T16:00:00+00:00", "2026-11-23T16:00:00+11:00"),
    ("t-1y", "2025-11-25T00:00:00+00:00", "2025-11-25T00:00:00+11:00"),
    ("wed", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("mon", "2026-11-23T00:00:00+00:00", "2026-11-23T00:00:00+11:00"),
    ("monday", "2026-11-23T00:00:00+00:00", "2026-11-23T00:00:00+11:00"),
    ("thu", "2026-11-19T00:00:00+00:00", "2026-11-19T00:00:00+11:00"),
    ("thurs", "2026-11-19T00:00:00+00:00", "2026-11-19T00:00:00+11:00"),
    ("sunday", "2026-11-22T00:00:00+00:00", "2026-11-22T00:00:00+11:00"),
    ("mon+14.5h", "2026-11-23T14:30:00+00:00", "2026-11-23T14:30:00+11:00"),
    ("sat-1m", "2026-11-20T23:59:00+00:00", "2026-11-20T23:59:00+11:00"),
    ("jan", "2026-01-25T00:00:00+00:00", "2026-01-25T00:00:00+11:00"),
    ("february", "2026-02-25T00:00:00+00:00", "2026-02-25T00:00:00+11:00"),
    ("june", "2026-06-25T00:00:00+00:00", "2026-06-25T00:00:00+10:00"),
    ("sept+1d", "2026-09-26T00:00:00+00:00", "2026-09-26T00:00:00+10:00"),
    ("25", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("1", "2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00+11:00"),
    ("05+12h", "2026-11-05T12:00:00+00:00", "2026-11-05T12:00:00+11:00"),
    ("2026", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+11:00"),
    ("2025+1mo", "2025-02-01T00:00:00+00:00", "2025-02-01T00:00:00+11:00"),
    ("2026-11-25", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("2026-11-25T13:05", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("2026-11-25T13:05:00", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("2026-11-25T13:05:00Z", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+00:00"),
    ("2026-11-25t13:05:00z", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+00:00"),
    ("2026-11-25T13:05:00+10:00", "2026-11-25T13:05:00+10:00", "2026-11-25T13:05:00+10:00"),
    ("2026-11-25T13:05:00-0530", "2026-11-25T13:05:00-05:30", "2026-11-25T13:05:00-05:30"),
    ("2026-11-25T13:05:00+02", "2026-11-25T13:05:00+02:00", "2026-11-25T13:05:00+02:00"),
    ("2026-11-25 13:05:00", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("2026/11/25 13:05:00", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("11/25/2026 13:05", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("11/25/2026 1:05:00 PM", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("11/25/2026 12:05 am", "2026-11-25T00:05:00+00:00", "2026-11-25T00:05:00+11:00"),
    ("11/25/2026 12:05 PM", "2026-11-25T12:05:00+00:00", "2026-11-25T12:05:00+11:00"),
    ("11/25/26", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("25-Nov-26 13:05:00", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("01-Apr-20 09:05:00", "2020-04-01T09:05:00+00:00", "2020-04-01T09:05:00+11:00"),
    ("25-Nov-2026", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("25 November 2026 13:05", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("Wed, 25 Nov 2026 13:05:00 GMT", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+00:00"),
    ("Nov 25, 2026 13:05", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("November 25 2026", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("1 nov", "2026-11-01T00:00:00+00:00", "2026-11-01T00:00:00+11:00"),
    ("13:05", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("13:05:30", "2026-11-25T13:05:30+00:00", "2026-11-25T13:05:30+11:00"),
    ("1:05 PM", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("13:05Z", "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+00:00"),
    ("25-Nov-26 13:05:00 -1h", "2026-11-25T12:05:00+00:00", "2026-11-25T12:05:00+11:00"),
    ("2026-11-25T00:00:00Z+90m", "2026-11-25T01:30:00+00:00", "2026-11-25T01:30:00+00:00"),
    ("'*-1d'", "2026-11-24T03:04:05+00:00", "2026-11-24T03:04:05+00:00"),
    ('"2026-11-25 13:05"', "2026-11-25T13:05:00+00:00", "2026-11-25T13:05:00+11:00"),
    ("  T + 8 H ", "2026-11-25T08:00:00+00:00", "2026-11-25T08:00:00+11:00"),
    ("TODAY", "2026-11-25T00:00:00+00:00", "2026-11-25T00:00:00+11:00"),
    ("Yesterday-1 day", "2026-11-23T00:00:00+00:00", "2026-11-23T00:00:00+11:00"),
    ("1970", "1970-01-01T00:00:00+00:00", None),
])
def test_parse_time_forms(text, expected_utc, expected_sydney):
    assert parse_time(text, now=NOW, tz="UTC") == iso(expected_utc)
    if expected_sydney is not None:
        assert parse_time(text, now=NOW, tz=SYD) == iso(expected_sydney)


def test_parse_time_zone_by_name():
    assert parse_time("t", now=NOW, tz="AUS Eastern Standard Time") == iso("2026-11-25T00:00:00+11:00")
    assert parse_time("t", now=NOW, tz="australia/sydney") == iso("2026-11-25T00:00:00+11:00")
    assert parse_time("t", now=NOW) == iso("2026-11-25T00:00:00+00:00")
    with pytest.raises(TimeParseError, match="Nowhere"):
        parse_time("t", now=NOW, tz="Nowhere/Land")


def test_parse_time_fractions_keep_100ns():
    base = iso("2026-11-25T00:00:00+00:00")
    assert parse_time("2026-11-25T00:00:00.1234567Z", now=NOW) == base + 1_234_567
    assert parse_time("2026-11-25T00:00:00.5Z", now=NOW) == base + 5_000_000
    assert parse_time("2026-11-25T00:00:00,25Z", now=NOW) == base + 2_500_000
    assert parse_time("2026-11-25T00:00:00.0000001Z", now=NOW) == base + 1
    assert parse_time("2026-11-25T00:00:00.123456789Z", now=NOW) == base + 1_234_567  # truncated
    assert parse_time("2026-11-25 00:00:00:250", now=NOW) == base + 2_500_000  # SQL style
    assert parse_time("2022-02-18T15:10:08.8757629Z", now=NOW) == iso("2022-02-18T15:10:08+00:00") + 8_757_629


def test_parse_time_bare_offsets():
    start = iso("2026-01-01T00:00:00+00:00")
    assert parse_time("+1h", now=NOW, relative_to=start) == start + HOUR
    assert parse_time("-30m", now=NOW, relative_to=start) == start - 30 * MINUTE
    assert parse_time("+1h", now=NOW) == NOW + HOUR
    assert parse_time("-30m", now=NOW) == NOW - 30 * MINUTE
    assert parse_time("*", now=NOW, relative_to=start) == NOW
    assert parse_time("", now=NOW, relative_to=start) == NOW
    assert parse_time("t+1h", now=NOW, relative_to=start) == iso("2026-11-25T01:00:00+00:00")


def test_parse_time_dst_edges_sydney():
    # 2026-10-04 02:00 AEST -> 03:00 AEDT: 02:30 does not exist and moves forward by the gap.
    assert parse_time("2026-10-04 02:30", now=NOW, tz=SYD) == iso("2026-10-04T03:30:00+11:00")
    # 2026-04-05 03:00 AEDT -> 02:00 AEST: 02:30 happens twice; the first one is taken.
    assert parse_time("2026-04-05 02:30", now=NOW, tz=SYD) == iso("2026-04-05T02:30:00+11:00")
    # On the day the clocks go forward: local midnights, and calendar days of 23 h.
    now = iso("2026-10-04T23:00:00+11:00")
    assert parse_time("t", now=now, tz=SYD) == iso("2026-10-04T00:00:00+10:00")
    assert parse_time("y", now=now, tz=SYD) == iso("2026-10-03T00:00:00+10:00")
    assert parse_time("t+1d", now=now, tz=SYD) == iso("2026-10-05T00:00:00+11:00")
    assert parse_time("t+24h", now=now, tz=SYD) == iso("2026-10-05T01:00:00+11:00")
    assert parse_time("*-1d", now=now, tz=SYD) == iso("2026-10-03T23:00:00+10:00")
    assert parse_time("sun", now=now, tz=SYD) == iso("2026-10-04T00:00:00+10:00")
    # UTC midnight vs local midnight: at 2026-11-24T20:00Z it is already the 25th in Sydney.
    evening = iso("2026-11-24T20:00:00+00:00")
    assert parse_time("t", now=evening, tz=SYD) == iso("2026-11-25T00:00:00+11:00")
    assert parse_time("t", now=evening, tz="UTC") == iso("2026-11-24T00:00:00+00:00")


def test_parse_time_month_name_clamps_day():
    now = iso("2026-03-31T12:00:00+00:00")
    assert parse_time("feb", now=now) == iso("2026-02-28T00:00:00+00:00")


def test_parse_time_open_end():
    assert parse_time("9999-12-31T23:59:59Z", now=NOW) == MAX_TICKS - 9_999_999
    assert format_time(parse_time("9999-12-31T23:59:59Z", now=NOW)) == "9999-12-31T23:59:59Z"


@pytest.mark.parametrize("text", [
    "foo", "now", "*-1", "*-1x", "*+", "t+", "+", "1969", "0", "32", "100", "12345", "2026-13-01",
    "2026-02-30",
    "25:00", "13:60", "13:05 pm", "0:05 am", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+01:00",
    "11/25/1949", "*+8000y", "*-100y", "mon tue", "1 hour", "t t", "2026-11-25T13:05:00+15:00",
    "2026-11-25T13:05:00+10:60", "25-Foo-2026", "Foo, 25 Nov", "**", "'t", "t'", "2026-11-25T", "ABC+1h",
])
def test_parse_time_errors(text):
    with pytest.raises(TimeParseError) as info:
        parse_time(text, now=NOW)
    assert repr(text) in str(info.value)


def test_parse_time_refuses_huge_input_before_any_regex_work():
    """Hostile input is refused by its length (so no regex ever backtracks over it), not timed."""
    for text in ("+1a" * 1_300 + "!", "*-" + "1" * 4_000, " " * 10_000):
        with pytest.raises(TimeParseError, match="characters long"):
            parse_time(text, now=NOW)
        with pytest.raises(TimeParseError, match="characters long"):
            parse_interval(text)
    longest = "*-" + "1" * 254  # 256 characters: still parsed (and refused for its size, not its length)
    with pytest.raises(TimeParseError) as info:
        parse_time(longest, now=NOW)
    assert "characters long" not in str(info.value)


def test_parse_time_error_hint_and_day_of_month():
    with pytest.raises(TimeParseError, match="expected a PI time such as"):
        parse_time("banana", now=NOW)
    with pytest.raises(TimeParseError, match="day 31 does not exist in 2026-11"):
        parse_time("31", now=NOW)
    with pytest.raises(TimeParseError, match="1970..9999"):
        parse_time("1969", now=NOW)
    with pytest.raises(TimeParseError):
        parse_time(17, now=NOW)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# format_time / format_times

@pytest.mark.parametrize(("ticks", "text"), [
    (0, "1970-01-01T00:00:00Z"),
    (NOW, "2026-11-25T03:04:05Z"),
    (iso("2022-02-18T15:10:08+00:00") + 8_757_629, "2022-02-18T15:10:08.8757629Z"),
    (iso("2014-07-22T15:00:00+00:00") + 5_000_000, "2014-07-22T15:00:00.5Z"),
    (iso("2014-07-22T15:00:00+00:00") + 1, "2014-07-22T15:00:00.0000001Z"),
    (iso("2014-07-22T15:00:00+00:00") + 1_230_000, "2014-07-22T15:00:00.123Z"),
    (MAX_TICKS - 9_999_999, "9999-12-31T23:59:59Z"),
    (MAX_TICKS, "9999-12-31T23:59:59.9999999Z"),
    (-TICKS_PER_SECOND, "1969-12-31T23:59:59Z"),
    (np.int64(NOW), "2026-11-25T03:04:05Z"),
])
def test_format_time(ticks, text):
    assert format_time(ticks) == text


def test_format_time_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        format_time(MAX_TICKS + 1)
    with pytest.raises(ValueError, match="outside"):
        format_times(np.array([0, MAX_TICKS + 1]))


def test_round_trip_random_ticks():
    rng = np.random.default_rng(20261125)
    values = rng.integers(0, MAX_TICKS, 3_000).tolist() + [0, MAX_TICKS, NOW, NOW + 1]
    for value in values:
        assert parse_time(format_time(value), now=NOW, tz=SYD) == value


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_TICKS))
def test_round_trip_property(value):
    text = format_time(value)
    assert parse_time(text, now=NOW) == value
    assert format_times([value]) == [text]


def _cases():
    rng = np.random.default_rng(7)
    month = rng.integers(iso("2026-01-01T00:00:00+00:00"), iso("2026-02-01T00:00:00+00:00"), 20_000)
    wide = rng.integers(0, MAX_TICKS, 20_000)
    mixed = month.copy()
    mixed[::3] = mixed[::3] // TICKS_PER_SECOND * TICKS_PER_SECOND
    mixed[1::3] = mixed[1::3] // 1_000 * 1_000
    return {
        "whole-seconds": np.sort(month // TICKS_PER_SECOND * TICKS_PER_SECOND),
        "milliseconds": month // 10_000 * 10_000,
        "seven-digits": month,
        "mixed": mixed,
        "wide-range": wide,
        "wide-range-whole": wide // TICKS_PER_SECOND * TICKS_PER_SECOND,
        "single": np.array([NOW + 5_000_000]),
        "last-three-zero": np.array([NOW + 1_000, NOW + 120_000, NOW + 9_000_000, NOW]),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_format_times_matches_format_time(name):
    values = _cases()[name]
    expected = [format_time(x) for x in values.tolist()]
    assert format_times(values) == expected
    prefix, suffix = '{"Timestamp":"', '","Value":'
    assert format_times_prefixed(values, prefix, suffix) == [prefix + x + suffix for x in expected]


def test_format_times_inputs():
    assert format_times(np.array([], dtype=np.int64)) == []
    assert format_times([]) == []
    assert format_times([0, NOW]) == ["1970-01-01T00:00:00Z", "2026-11-25T03:04:05Z"]
    assert format_times(np.array([[0], [NOW]])) == ["1970-01-01T00:00:00Z", "2026-11-25T03:04:05Z"]
    assert format_times_prefixed([NOW + 1], "«", "»") == ["«2026-11-25T03:04:05.0000001Z»"]
    assert all(type(x) is str for x in format_times(np.array([NOW, NOW + 1])))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=MAX_TICKS), max_size=40), st.text(max_size=5),
       st.text(max_size=5).filter(lambda s: not s.endswith("\x00")))
def test_format_times_property(values, prefix, suffix):
    assert format_times_prefixed(values, prefix, suffix) == [prefix + format_time(x) + suffix for x in values]


@pytest.mark.parametrize("text, expected", [
    ("2022-02-18T15:10:08.8757629Z", 1_645_197_008_875_762_900),  # PI's 7 fraction digits, exactly
    ("2026-11-24T06:00:00Z", 1_795_500_000_000_000_000),
    ("2026-11-24T06:00:00.5Z", 1_795_500_000_500_000_000),
    ("2026-11-24T06:00:00.123456789Z", 1_795_500_000_123_456_789),  # nanoseconds kept on the fast path
    ("2026-11-24T16:00:00+10:00", 1_795_500_000_000_000_000),  # offsets honoured (the old connector parser
    ("2026-11-24T00:30:00-05:30", 1_795_500_000_000_000_000),  # read these as UTC wall times)
    ("2026-11-24T06:00:00", 1_795_500_000_000_000_000),  # no offset: UTC, as PI writes for timeZone=UTC
])
def test_wire_timestamps_are_one_instant_whatever_their_form(text, expected):
    from picommon.pitime import timestamp
    from picommon.pitime import timestamp_ns

    assert timestamp_ns(text) == expected
    assert parse_time(text, now=NOW) == expected // 100  # the fast path and the full parser agree
    assert timestamp(text) == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=expected // 1000)


# --------------------------------------------------------------------------------------------------
# nanoseconds <-> datetimes

@pytest.mark.parametrize(("ns", "expected"), [
    (0, dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)),
    (1_764_547_205_123_456_700, dt.datetime(2025, 12, 1, 0, 0, 5, 123456, tzinfo=dt.timezone.utc)),
    (-1, dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)),  # floored, not towards 0
    (-500_000_000, dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.timezone.utc)),
])
def test_from_ns_floors_to_microseconds(ns, expected):
    assert pitime.from_ns(ns) == expected


@given(st.integers(min_value=-10**18, max_value=2 * 10**18))
def test_to_ns_inverts_from_ns_to_the_microsecond(ns):
    assert pitime.to_ns(pitime.from_ns(ns)) == ns // 1000 * 1000


def test_to_ns_is_exact_before_the_epoch_and_across_zones():
    half_second_before = dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.timezone.utc)
    assert pitime.to_ns(half_second_before) == -500_000_000  # int(timestamp()) would give +500 ms
    sydney = dt.datetime(2026, 12, 7, 14, 0, tzinfo=zoneinfo.ZoneInfo("Australia/Sydney"))
    assert pitime.to_ns(sydney) == pitime.timestamp_ns("2026-12-07T03:00:00Z")


def test_to_ns_refuses_a_naive_datetime():
    with pytest.raises(TypeError):
        pitime.to_ns(dt.datetime(2026, 12, 7))  # never the machine's local time, silently
