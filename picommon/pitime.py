"""PI time strings, intervals and time zones to ticks (100 ns since the Unix epoch), and back."""
from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import time
import typing as t
import zoneinfo
from dataclasses import dataclass
from dataclasses import field
from fractions import Fraction

import numpy as np

if t.TYPE_CHECKING:
    from collections.abc import Iterable

# Same values as simulator.scenario.model; not imported from there because the scenario loader
# imports this module (an import cycle through simulator.scenario.__init__).
TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
MIN_YEAR = 1970
MAX_YEAR = 9999
#: 9999-12-31T23:59:59.9999999Z, the last instant PI can store.
MAX_TICKS = (dt.date(MAX_YEAR, 12, 31).toordinal() - dt.date(1970, 1, 1).toordinal() + 1) * TICKS_PER_DAY - 1

_UTC = zoneinfo.ZoneInfo("UTC")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_MICROSECOND = dt.timedelta(microseconds=1)

_HINT = ("expected a PI time such as '*', '*-1h', 't', 'y+8h', 'mon', 'jan', '25', '2026', "
         "'2026-11-25T13:05:00Z', '2026-11-25 13:05:00', '11/25/2026 1:05 PM', '25-Nov-26 13:05:00', "
         "'Nov 25, 2026' or '13:05', optionally followed by offsets like '+1h' or '-30m'")


class TimeParseError(ValueError):
    """A time string, interval or time zone name that PI would not accept."""


# --------------------------------------------------------------------------------------------------
# time zones

#: Common Windows time zone ids (lower case) -> IANA ids (CLDR windowsZones, territory "001").
WINDOWS_TIME_ZONES: dict[str, str] = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest",
    "central european standard time": "Europe/Warsaw",
    "romance standard time": "Europe/Paris",
    "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kiev",
    "gtb standard time": "Europe/Bucharest",
    "russian standard time": "Europe/Moscow",
    "turkey standard time": "Europe/Istanbul",
    "israel standard time": "Asia/Jerusalem",
    "egypt standard time": "Africa/Cairo",
    "south africa standard time": "Africa/Johannesburg",
    "w. central africa standard time": "Africa/Lagos",
    "e. africa standard time": "Africa/Nairobi",
    "morocco standard time": "Africa/Casablanca",
    "arab standard time": "Asia/Riyadh",
    "arabic standard time": "Asia/Baghdad",
    "arabian standard time": "Asia/Dubai",
    "iran standard time": "Asia/Tehran",
    "pakistan standard time": "Asia/Karachi",
    "india standard time": "Asia/Kolkata",
    "nepal standard time": "Asia/Kathmandu",
    "bangladesh standard time": "Asia/Dhaka",
    "se asia standard time": "Asia/Bangkok",
    "singapore standard time": "Asia/Singapore",
    "china standard time": "Asia/Shanghai",
    "taipei standard time": "Asia/Taipei",
    "w. australia standard time": "Australia/Perth",
    "tokyo standard time": "Asia/Tokyo",
    "korea standard time": "Asia/Seoul",
    "cen. australia standard time": "Australia/Adelaide",
    "aus central standard time": "Australia/Darwin",
    "e. australia standard time": "Australia/Brisbane",
    "aus eastern standard time": "Australia/Sydney",
    "tasmania standard time": "Australia/Hobart",
    "new zealand standard time": "Pacific/Auckland",
    "hawaiian standard time": "Pacific/Honolulu",
    "alaskan standard time": "America/Anchorage",
    "pacific standard time": "America/Los_Angeles",
    "us mountain standard time": "America/Phoenix",
    "mountain standard time": "America/Denver",
    "central standard time": "America/Chicago",
    "canada central standard time": "America/Regina",
    "central america standard time": "America/Guatemala",
    "central standard time (mexico)": "America/Mexico_City",
    "eastern standard time": "America/New_York",
    "us eastern standard time": "America/Indianapolis",
    "sa pacific standard time": "America/Bogota",
    "atlantic standard time": "America/Halifax",
    "venezuela standard time": "America/Caracas",
    "sa western standard time": "America/La_Paz",
    "pacific sa standard time": "America/Santiago",
    "newfoundland standard time": "America/St_Johns",
    "e. south america standard time": "America/Sao_Paulo",
    "argentina standard time": "America/Buenos_Aires",
}


@functools.lru_cache(maxsize=1)
def _iana_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@functools.lru_cache(maxsize=256)
def _resolve(key: str) -> zoneinfo.ZoneInfo:
    lower = key.lower()
    iana = WINDOWS_TIME_ZONES.get(lower) or _iana_by_lower_name().get(lower)
    if iana is None:
        msg = (f"unknown time zone {key!r}: expected an IANA id such as 'Australia/Sydney' or "
               f"a Windows id such as 'AUS Eastern Standard Time'")
        raise TimeParseError(msg)
    return zoneinfo.ZoneInfo(iana)


def resolve_timezone(name: str | None, default: str = "UTC") -> zoneinfo.ZoneInfo:
    """The time zone named by an IANA or a common Windows id, case-insensitively.

    Args:
        name: e.g. "Australia/Sydney", "UTC", "AUS Eastern Standard Time"; None or blank means `default`.
        default: the zone used when `name` is missing.

    Returns:
        The `ZoneInfo`.

    Raises:
        TimeParseError: the name is not a known time zone.
    """
    key = (name or "").strip() or default
    return _resolve(key)


def _zone(tz: zoneinfo.ZoneInfo | dt.tzinfo | str | None) -> dt.tzinfo:
    if tz is None:
        return _UTC
    if isinstance(tz, str):
        return resolve_timezone(tz)
    return tz


# --------------------------------------------------------------------------------------------------
# ticks <-> datetime

def to_ticks(value: dt.datetime) -> int:
    """Ticks of a datetime; a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def from_ticks(ticks: int) -> dt.datetime:
    """A UTC-aware datetime for `ticks` (sub-microsecond ticks are truncated)."""
    return _EPOCH + dt.timedelta(microseconds=int(ticks) // 10)


def now_ticks() -> int:
    """The current wall-clock time in ticks."""
    return time.time_ns() // 100


def _wall_clock(ticks: int, zone: dt.tzinfo) -> tuple[dt.datetime, int]:
    """Naive local wall-clock datetime (whole seconds) of `ticks` in `zone`, and the leftover ticks."""
    seconds, rest = divmod(int(ticks), TICKS_PER_SECOND)
    try:
        aware = (_EPOCH + dt.timedelta(seconds=seconds)).astimezone(zone)
    except OverflowError as exc:
        msg = f"time {ticks!r} ticks is outside the years {MIN_YEAR}..{MAX_YEAR}"
        raise TimeParseError(msg) from exc
    return aware.replace(tzinfo=None), rest


def _local_ticks(wall: dt.datetime, zone: dt.tzinfo) -> int:
    """Ticks of a naive local wall-clock time in `zone`.

    An ambiguous time (clocks going back) is its first occurrence; a time that does not exist (clocks
    going forward) moves forward by the gap, as zoneinfo does with fold=0.
    """
    try:
        return to_ticks(wall.replace(tzinfo=zone))
    except OverflowError as exc:
        msg = f"local time {wall.isoformat()} is outside the years {MIN_YEAR}..{MAX_YEAR}"
        raise TimeParseError(msg) from exc


# --------------------------------------------------------------------------------------------------
# intervals (AFTimeSpan)

def _add_months(wall: dt.datetime, months: int) -> dt.datetime:
    index = wall.year * 12 + (wall.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= MAX_YEAR:
        msg = f"adding {months} months to {wall.isoformat()} leaves the years {MIN_YEAR}..{MAX_YEAR}"
        raise TimeParseError(msg)
    day = min(wall.day, calendar.monthrange(year, month0 + 1)[1])
    return wall.replace(year=year, month=month0 + 1, day=day)


@dataclass(frozen=True)
class Interval:
    """A PI interval (AFTimeSpan): fixed ticks plus calendar months.

    Attributes:
        ticks: the fixed part in ticks (days and weeks count 24 h each here).
        months: calendar months (a year is 12), added on the local calendar keeping the wall clock.
        calendar_days: how many whole days of `ticks` are calendar days. When `add` gets a time zone
            with daylight saving, these are added on the local calendar (so "1d" from local midnight
            lands on the next local midnight even across a DST change), as AF does. Not part of
            equality: `parse_interval("1d") == Interval(TICKS_PER_DAY)`.
    """

    ticks: int
    months: int = 0
    calendar_days: int = field(default=0, compare=False)

    @property
    def negative(self) -> bool:
        """True for a backwards interval such as "-1h"."""
        return self.ticks < 0 or self.months < 0

    @property
    def zero(self) -> bool:
        """True when the interval has no length."""
        return self.ticks == 0 and self.months == 0

    @property
    def approx_ticks(self) -> int:
        """Nominal length in ticks, a month counted as 1/12 of 365.2425 days (for estimates only)."""
        return self.ticks + self.months * (TICKS_PER_DAY * 3_652_425 // 120_000)

    def __neg__(self) -> Interval:
        return Interval(-self.ticks, -self.months, -self.calendar_days)

    def add(self, ticks: int, n: int = 1, tz: zoneinfo.ZoneInfo | dt.tzinfo | str | None = None) -> int:
        """`ticks` plus `n` times this interval.

        Args:
            ticks: the time to start from.
            n: how many intervals to add (negative to subtract).
            tz: the zone whose calendar months and days follow (default UTC).

        Returns:
            The resulting time in ticks. Months keep the local wall-clock time and clamp the day to
            the month's end (Jan 31 + 1 month = Feb 28/29).

        Raises:
            TimeParseError: the result is outside the years PI supports.
        """
        if not self.months and not self.calendar_days:
            return int(ticks) + n * self.ticks
        zone = _zone(tz)
        if not self.months and (zone is _UTC or zone is dt.timezone.utc):
            return int(ticks) + n * self.ticks
        wall, rest = _wall_clock(ticks, zone)
        if self.months:
            wall = _add_months(wall, n * self.months)
        if self.calendar_days:
            try:
                wall = wall + dt.timedelta(days=n * self.calendar_days)
            except OverflowError as exc:
                msg = f"adding {n * self.calendar_days} days to {wall.isoformat()} leaves the supported years"
                raise TimeParseError(msg) from exc
        fixed = self.ticks - self.calendar_days * TICKS_PER_DAY
        return _local_ticks(wall, zone) + rest + n * fixed


_UNIT_NAMES = (
    (("ms", "msec", "msecs", "millisecond", "milliseconds"), "ticks", 10_000),
    (("s", "sec", "secs", "second", "seconds"), "ticks", TICKS_PER_SECOND),
    (("m", "min", "mins", "minute", "minutes"), "ticks", 60 * TICKS_PER_SECOND),
    (("h", "hr", "hrs", "hour", "hours"), "ticks", 3_600 * TICKS_PER_SECOND),
    (("d", "day", "days"), "days", 1),
    (("w", "wk", "wks", "week", "weeks"), "days", 7),
    (("mo", "mon", "mons", "month", "months"), "months", 1),
    (("y", "yr", "yrs", "year", "years"), "months", 12),
)
#: unit word -> (kind, size): "ticks" (size in ticks), "days" (size in days) or "months".
_UNITS: dict[str, tuple[str, int]] = {
    name: (kind, size) for names, kind, size in _UNIT_NAMES for name in names
}

_INTERVAL_RE = re.compile(r"\s*(?P<sign>[+-])?\s*(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-z]+)\s*")
_TIMESPAN_RE = re.compile(
    r"\s*(?P<sign>[+-])?(?:(?P<d>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,7}))?)?\s*")


def parse_interval(text: str, *, allow_zero: bool = False) -> Interval:
    """Parse a PI interval such as "1h", "-15m", "0.5s", "2 days", "1mo", "1y" or "01:30:00".

    Units (case-insensitive, singular or plural): ms, s/sec/second, m/min/minute, h/hr/hour,
    d/day, w/wk/week, mo/month, y/yr/year. Months and years must be whole. A .NET TimeSpan
    "[d.]hh:mm[:ss[.fffffff]]" is accepted too.

    Args:
        text: the interval string.
        allow_zero: accept a zero-length interval ("0s").

    Returns:
        The `Interval`.

    Raises:
        TimeParseError: the string is malformed, or zero while `allow_zero` is false.
    """
    if not isinstance(text, str):
        msg = f"interval {text!r} must be a string such as '1h'"
        raise TimeParseError(msg)
    if len(text) > _MAX_TIME_LENGTH:
        msg = f"interval {text[:40]!r}... is {len(text)} characters long: expected e.g. '1h'"
        raise TimeParseError(msg)
    lowered = text.lower()
    match = _INTERVAL_RE.fullmatch(lowered)
    if match is not None:
        unit = _UNITS.get(match["unit"])
        if unit is None:
            msg = (f"interval {text!r} has an unknown unit {match['unit']!r}: expected one of ms, s, m, h, "
                   f"d, w, mo, y (or sec, min, hour, day, week, month, year)")
            raise TimeParseError(msg)
        kind, size = unit
        number = Fraction(match["num"])
        if match["sign"] == "-":
            number = -number
        if kind == "months":
            months = number * size
            if months.denominator != 1:
                msg = f"interval {text!r}: months and years must be whole numbers"
                raise TimeParseError(msg)
            interval = Interval(0, int(months))
        elif kind == "days":
            days = number * size
            ticks = round(days * TICKS_PER_DAY)
            interval = Interval(ticks, 0, int(days) if days.denominator == 1 else 0)
        else:
            interval = Interval(round(number * size))
    else:
        match = _TIMESPAN_RE.fullmatch(lowered)
        if match is None:
            msg = (f"interval {text!r} is not valid: expected a number and a unit such as '1h', '10m', "
                   f"'0.5s', '2d', '1w', '1mo', '1y' or '-1h'")
            raise TimeParseError(msg)
        seconds = (int(match["d"] or 0) * 86_400 + int(match["h"]) * 3_600 + int(match["m"]) * 60
                   + int(match["s"] or 0))
        ticks = seconds * TICKS_PER_SECOND + int((match["f"] or "").ljust(7, "0"))
        interval = Interval(-ticks if match["sign"] == "-" else ticks)
    if interval.zero and not allow_zero:
        msg = f"interval {text!r} is zero: expected a non-zero length such as '1h'"
        raise TimeParseError(msg)
    return interval


def parse_duration(text: str, *, allow_zero: bool = False) -> int:
    """Parse a fixed-length, forward duration ("5s", "10m", "1.5d", "2w", "0.5s", "01:30:00") to ticks.

    The same grammar as `parse_interval`, without what has no fixed length or runs backwards:
    what a scenario's spacing or a connector's window needs.

    Raises:
        TimeParseError: malformed; months or years; negative; zero unless `allow_zero`; longer than
            the years PI can store.
    """
    interval = parse_interval(text, allow_zero=allow_zero)
    if interval.months:
        msg = f"duration {text!r}: months and years have no fixed length; use days ('30d')"
        raise TimeParseError(msg)
    if interval.ticks < 0:
        msg = f"duration {text!r} must not be negative"
        raise TimeParseError(msg)
    if interval.ticks > MAX_TICKS:
        msg = f"duration {text!r} is longer than the years PI can store"
        raise TimeParseError(msg)
    return interval.ticks


def interval_times(start: int, end: int, interval: Interval, tz: zoneinfo.ZoneInfo | str | None = None,
                   *, max_count: int | None = None) -> np.ndarray:
    """The grid of times from `start` to `end` every `interval`, as AF GetIntervalTimes lays it out.

    A positive interval counts from `start`, a negative one from `end` (backwards). Times are
    returned in the order start -> end (descending when end < start). Both ends are included when
    they fall on the grid.

    Args:
        start: first time (ticks).
        end: last time (ticks).
        interval: a non-zero interval.
        tz: the zone for calendar months and days (default UTC).
        max_count: raise instead of building more than this many times.

    Returns:
        A numpy int64 array.

    Raises:
        ValueError: zero interval, or more than `max_count` times.
    """
    if interval.zero:
        msg = f"interval {interval!r} is zero"
        raise ValueError(msg)
    start, end = int(start), int(end)
    step = -interval if interval.negative else interval
    anchor, target = (end, start) if interval.negative else (start, end)
    direction = 1 if target >= anchor else -1
    zone = _zone(tz)
    fixed = not step.months and (not step.calendar_days or zone is _UTC or zone is dt.timezone.utc)
    if fixed:
        count = abs(target - anchor) // step.ticks + 1
        _check_count(count, max_count)
        times = anchor + direction * step.ticks * np.arange(count, dtype=np.int64)
    else:
        found: list[int] = []
        k = 0
        while True:
            value = step.add(anchor, direction * k, zone)
            if (value - target) * direction > 0:
                break
            found.append(value)
            k += 1
            _check_count(k, max_count)
        times = np.array(found, dtype=np.int64)
    return times[::-1].copy() if interval.negative else times


def _check_count(count: int, max_count: int | None) -> None:
    if max_count is not None and count > max_count:
        msg = f"{count} interval times exceed the limit of {max_count}"
        raise ValueError(msg)


# --------------------------------------------------------------------------------------------------
# parsing times

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_TIME = (r"(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:[.,:](?P<frac>\d{1,9}))?)?"
         r"(?:\s*(?P<ampm>am|pm|a\.m\.|p\.m\.))?")
_ZONE = r"(?:\s*(?P<tz>z|utc|gmt|[+-]\d{2}(?::?\d{2})?))?"
_WEEKDAY_PREFIX = r"(?:(?P<wd>[a-z]{3,9})\.?,?\s+)?"
_ABSOLUTE_RES = tuple(re.compile(pattern) for pattern in (
    # 2026-11-25T13:05:00.1234567Z, 2026-11-25 13:05, 2026/11/25, 2026-11-25
    rf"(?P<y>\d{{4}})[-/](?P<mo>\d{{1,2}})[-/](?P<d>\d{{1,2}})(?:(?:t|\s+){_TIME})?{_ZONE}",
    # 11/25/2026 1:05:00 PM, 11/25/26
    rf"(?P<mo>\d{{1,2}})/(?P<d>\d{{1,2}})/(?P<y>\d{{4}}|\d{{2}})(?:\s+{_TIME})?{_ZONE}",
    # 25-Nov-26 13:05:00, 25-Nov-2026, 25 November 2026, Wed, 25 Nov 2026 13:05:00 GMT
    rf"{_WEEKDAY_PREFIX}(?P<d>\d{{1,2}})[-\s]+(?P<mon>[a-z]{{3,9}})\.?(?:[-\s]+(?P<y>\d{{4}}|\d{{2}}))?"
    rf"(?:\s+{_TIME})?{_ZONE}",
    # Nov 25, 2026 13:05, November 25 2026
    rf"{_WEEKDAY_PREFIX}(?P<mon>[a-z]{{3,9}})\.?\s+(?P<d>\d{{1,2}})(?:,?\s+(?P<y>\d{{4}}))?"
    rf"(?:,?\s+{_TIME})?{_ZONE}",
    # 13:05, 13:05:30.5, 1:05 pm (today)
    rf"{_TIME}{_ZONE}",
))
_OFFSET = r"[+-]\s*(?:\d+(?:\.\d*)?|\.\d+)\s*[a-z]+"
_OFFSETS_TAIL_RE = re.compile(rf"(?:\s*{_OFFSET})+\s*$")
_OFFSET_RE = re.compile(_OFFSET)
_QUOTES = ("'", '"')
_MAX_TIME_LENGTH = 256  # far longer than any PI time; bounds the regex work on hostile input


def _name_index(word: str, names: tuple[str, ...]) -> int | None:
    """Index of the full name `word` abbreviates (at least 3 letters), or None."""
    if len(word) < 3:
        return None
    for index, name in enumerate(names):
        if name.startswith(word):
            return index
    return None


def _year(text: str, original: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    if not MIN_YEAR <= year <= MAX_YEAR:
        msg = f"time {original!r} has year {year}: PI supports the years {MIN_YEAR}..{MAX_YEAR}"
        raise TimeParseError(msg)
    return year


def _absolute(text: str, original: str, now: int, zone: dt.tzinfo) -> int | None:
    """Ticks of an absolute date/time string (lower-cased), or None when no form matches."""
    for pattern in _ABSOLUTE_RES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("wd") is not None and _name_index(groups["wd"], _WEEKDAYS) is None:
            continue
        if groups.get("mon") is not None and _name_index(groups["mon"], _MONTHS) is None:
            continue
        return _absolute_from_match(groups, original, now, zone)
    return None


def _absolute_from_match(groups: dict[str, t.Any], original: str, now: int, zone: dt.tzinfo) -> int:
    today = None
    if groups.get("y") is not None:
        year = _year(groups["y"], original)
    else:
        today = _wall_clock(now, zone)[0]
        year = today.year
    if groups.get("mon") is not None:
        month = t.cast(int, _name_index(groups["mon"], _MONTHS)) + 1
    elif groups.get("mo") is not None:
        month = int(groups["mo"])
    else:
        today = today or _wall_clock(now, zone)[0]
        month = today.month
    day = int(groups["d"]) if groups.get("d") is not None else today.day  # type: ignore[union-attr]
    hour = minute = second = fraction = 0
    if groups["hh"] is not None:
        hour, minute = int(groups["hh"]), int(groups["mi"])
        second = int(groups["ss"] or 0)
        fraction = int((groups["frac"] or "")[:7].ljust(7, "0"))
        ampm = groups["ampm"]
        if ampm:
            if not 1 <= hour <= 12:
                msg = f"time {original!r} has hour {hour} with {ampm.upper()}: expected 1..12"
                raise TimeParseError(msg)
            hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    try:
        wall = dt.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        msg = f"time {original!r} is not a valid date and time ({exc}); {_HINT}"
        raise TimeParseError(msg) from None
    designator = groups["tz"]
    if designator is None:
        return _local_ticks(wall, zone) + fraction
    if designator in ("z", "utc", "gmt"):
        return to_ticks(wall) + fraction
    sign = -1 if designator[0] == "-" else 1
    digits = designator[1:].replace(":", "")
    offset_hours, offset_minutes = int(digits[:2]), int(digits[2:] or 0)
    if offset_hours > 14 or offset_minutes > 59:
        msg = f"time {original!r} has an invalid UTC offset {designator!r}"
        raise TimeParseError(msg)
    offset = sign * (offset_hours * 3_600 + offset_minutes * 60) * TICKS_PER_SECOND
    return to_ticks(wall) - offset + fraction


def _local_midnight(wall: dt.datetime, zone: dt.tzinfo, days_back: int = 0) -> int:
    date = wall.date() - dt.timedelta(days=days_back)
    return _local_ticks(dt.datetime(date.year, date.month, date.day), zone)


def _base(base: str, original: str, now: int, zone: dt.tzinfo, relative_to: int | None,
          has_offsets: bool) -> int:
    """Ticks of the date-time part of a relative time string (lower-cased, stripped)."""
    if base == "":
        return relative_to if (relative_to is not None and has_offsets) else now
    if base == "*":
        return now
    today = _wall_clock(now, zone)[0]
    if base in ("t", "today"):
        return _local_midnight(today, zone)
    if base in ("y", "yesterday"):
        return _local_midnight(today, zone, 1)
    if base.isdigit():
        if len(base) <= 2:
            day = int(base)
            if not 1 <= day <= calendar.monthrange(today.year, today.month)[1]:
                msg = f"time {original!r}: day {day} does not exist in {today.year}-{today.month:02d}"
                raise TimeParseError(msg)
            return _local_ticks(dt.datetime(today.year, today.month, day), zone)
        if len(base) == 4:
            return _local_ticks(dt.datetime(_year(base, original), 1, 1), zone)
        return _unparsable(original)
    if base.isalpha():
        weekday = _name_index(base, _WEEKDAYS)
        if weekday is not None:
            return _local_midnight(today, zone, (today.weekday() - weekday) % 7)
        month = _name_index(base, _MONTHS)
        if month is not None:
            day = min(today.day, calendar.monthrange(today.year, month + 1)[1])
            return _local_ticks(dt.datetime(today.year, month + 1, day), zone)
    ticks = _absolute(base, original, now, zone)
    if ticks is None:
        return _unparsable(original)
    return ticks


def _unparsable(original: str) -> t.NoReturn:
    msg = f"time {original!r} is not valid: {_HINT}"
    raise TimeParseError(msg)


def parse_time(text: str | None, *, now: int, tz: zoneinfo.ZoneInfo | dt.tzinfo | str | None = "UTC",
               relative_to: int | None = None) -> int:
    """Parse a PI/AF time string into ticks.

    Accepted: "" / None / "*" (now); "t"/"today", "y"/"yesterday" (local midnight); weekday names
    (most recent, today included) and month names (that month this year, today's day) at 0:00; a
    day of month < 32; a year >= 1970; ISO 8601 with up to 7 fraction digits and Z/offset (local
    time in `tz` without); .NET-style dates ("11/25/2026 1:05 PM", "25-Nov-26 13:05:00",
    "Nov 25, 2026"); time only ("13:05", today); each optionally followed by offsets such as "+1h"
    or "-30m". A bare offset counts from `relative_to` when given, else from `now`. Quotes around the
    whole string are removed.

    Args:
        text: the time string.
        now: the current time (ticks).
        tz: the zone for strings without an offset (ZoneInfo or a name for `resolve_timezone`).
        relative_to: the reference of a bare offset (PI uses the start time for an end time).

    Returns:
        Ticks.

    Raises:
        TimeParseError: the string is not a PI time, or lies outside the years 1970..9999.
    """
    if text is None:
        return now
    if not isinstance(text, str):
        msg = f"time {text!r} must be a string"
        raise TimeParseError(msg)
    if len(text) > _MAX_TIME_LENGTH:
        msg = f"time {text[:40]!r}... is {len(text)} characters long: PI times are at most {_MAX_TIME_LENGTH}"
        raise TimeParseError(msg)
    zone = _zone(tz)
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] in _QUOTES and stripped[-1] == stripped[0]:
        stripped = stripped[1:-1].strip()
    lowered = stripped.lower()
    if lowered in ("", "*"):
        return now
    ticks = _absolute(lowered, text, now, zone)
    if ticks is None:
        tail = _OFFSETS_TAIL_RE.search(lowered)
        base = lowered[:tail.start()].strip() if tail else lowered
        ticks = _base(base, text, now, zone, relative_to, tail is not None)
        if tail is not None:
            for offset in _OFFSET_RE.findall(tail.group()):
                try:
                    interval = parse_interval(offset.replace(" ", ""))
                except TimeParseError as exc:
                    msg = f"time {text!r} has an invalid offset {offset!r}: {exc}"
                    raise TimeParseError(msg) from None
                try:
                    ticks = interval.add(ticks, tz=zone)
                except TimeParseError as exc:
                    msg = f"time {text!r}: {exc}"
                    raise TimeParseError(msg) from None
    if not 0 <= ticks <= MAX_TICKS:
        msg = f"time {text!r} is outside the range PI supports (1970-01-01T00:00:00Z..9999-12-31T23:59:59Z)"
        raise TimeParseError(msg)
    return ticks


# --------------------------------------------------------------------------------------------------
# timestamps as PI Web API writes them (the connector's hot path)

_WIRE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")


def timestamp_ns(text: str) -> int:
    """Nanoseconds since the epoch of a timestamp PI Web API wrote ("2022-02-18T15:10:08.8757629Z"),
    exactly (up to 9 fraction digits). Any other form, an offset such as "+10:00" included, goes
    through parse_time, so every time PI can write means the same instant here as there."""
    match = _WIRE_RE.fullmatch(text)
    if match is None:
        return parse_time(text, now=0) * 100
    y, mo, d, h, mi, sec, fraction = match.groups()
    seconds = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(sec)))
    return seconds * 1_000_000_000 + (int((fraction + "00000000")[:9]) if fraction else 0)


def timestamp(text: str) -> dt.datetime:
    """`timestamp_ns` as a UTC-aware datetime (microseconds; finer digits are truncated)."""
    return from_ns(timestamp_ns(text))


def from_ns(ns: int) -> dt.datetime:
    """Nanoseconds since the epoch as a UTC-aware datetime (microseconds, floored: 1 ns before the
    epoch is 1969-12-31T23:59:59.999999)."""
    return _EPOCH + dt.timedelta(microseconds=ns // 1000)


def to_ns(value: dt.datetime) -> int:
    """An aware datetime as nanoseconds since the epoch, exactly (before 1970 too); a naive one is
    refused (TypeError), never read as the machine's local time."""
    return (value - _EPOCH) // _MICROSECOND * 1000


# --------------------------------------------------------------------------------------------------
# formatting

def format_time(ticks: int) -> str:
    """ISO 8601 UTC as PI writes it: "2026-11-25T03:04:05Z", or up to 7 trimmed fraction digits."""
    seconds, fraction = divmod(int(ticks), TICKS_PER_SECOND)
    days, second_of_day = divmod(seconds, 86_400)
    try:
        date = dt.date.fromordinal(_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError):
        msg = f"time {ticks!r} ticks is outside the years 1..{MAX_YEAR}"
        raise ValueError(msg) from None
    hour, rest = divmod(second_of_day, 3_600)
    text = f"{date.isoformat()}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if fraction:
        text += "." + str(fraction + TICKS_PER_SECOND)[1:].rstrip("0")
    return text + "Z"


@functools.lru_cache(maxsize=1)
def _fixed_tables() -> tuple[np.ndarray, np.ndarray]:
    """The 86,400 "HH:MM:SS" strings and the 10,000 ".dddd" (first four fraction digits) strings."""
    hms = np.array([f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)],
                   dtype="U8")
    high = np.array([f".{i:04d}" for i in range(10_000)], dtype="U5")
    return hms, high


@functools.lru_cache(maxsize=16)
def _tail_tables(end: str) -> tuple[np.ndarray, np.ndarray]:
    """Fraction tails ending in `end`: trimmed last 3 digits + end, and trimmed ".dddd" + end."""
    low = np.array([f"{i:03d}".rstrip("0") + end for i in range(1_000)], dtype=f"U{3 + len(end)}")
    high = np.array([(f".{i:04d}".rstrip("0") if i else "") + end for i in range(10_000)],
                    dtype=f"U{8 + len(end)}")
    return low, high


def _day_heads(days: np.ndarray, prefix: str) -> np.ndarray:
    """prefix + "YYYY-MM-DDT" for every day number (days since the epoch)."""
    width = len(prefix) + 11
    first, last = int(days.min()), int(days.max())
    if last - first < 4096:
        numbers: Iterable[int] = range(first, last + 1)
        index = days - first
    else:
        unique, index = np.unique(days, return_inverse=True)
        numbers = unique.tolist()
    heads = []
    for day in numbers:
        try:
            heads.append(f"{prefix}{dt.date.fromordinal(_EPOCH_ORDINAL + day).isoformat()}T")
        except (ValueError, OverflowError):
            msg = f"time {day * TICKS_PER_DAY!r} ticks (day {day}) is outside the years 1..{MAX_YEAR}"
            raise ValueError(msg) from None
    return np.array(heads, dtype=f"U{width}")[index]


def format_times(ticks: np.ndarray | Iterable[int]) -> list[str]:
    """`format_time` of every item, vectorised (the hot path of large value responses)."""
    return format_times_prefixed(ticks, "", "")


def format_times_prefixed(ticks: np.ndarray | Iterable[int], prefix: str, suffix: str) -> list[str]:
    """`prefix + format_time(x) + suffix` for every item, in one pass.

    The strings are assembled in a numpy record array whose fields are filled from lookup tables
    (day heads, "HH:MM:SS", fraction digits) and then viewed as one fixed-width unicode column;
    numpy drops the trailing NUL padding left by trimmed fractions when it makes the Python strings.

    Args:
        ticks: times (anything numpy turns into int64).
        prefix: text before each timestamp, e.g. '{"Timestamp":"'.
        suffix: text after each timestamp's "Z", e.g. '",'. Must not end in NUL characters.

    Returns:
        One string per item.

    Raises:
        ValueError: a time lies outside the years 1..9999.
    """
    values = np.asarray(ticks, dtype=np.int64).ravel()
    count = values.size
    if count == 0:
        return []
    seconds = values // TICKS_PER_SECOND
    fractions = values - seconds * TICKS_PER_SECOND
    days = seconds // 86_400
    second_of_day = seconds - days * 86_400
    end = "Z" + suffix
    head = len(prefix) + 11
    has_fraction = bool(fractions.any())
    fields = [("head", f"U{head}"), ("hms", "U8")]
    if has_fraction:
        fields += [("high", "U5"), ("tail", f"U{3 + len(end)}")]
    else:
        fields += [("tail", f"U{len(end)}")]
    records = np.empty(count, dtype=fields)
    records["head"] = _day_heads(days, prefix)
    hms, high = _fixed_tables()
    records["hms"] = hms[second_of_day]
    if has_fraction:
        first4 = fractions // 1_000
        last3 = fractions - first4 * 1_000
        low_tails, high_tails = _tail_tables(end)
        records["high"] = high[first4]
        records["tail"] = low_tails[last3]
        rows = np.flatnonzero(last3 == 0)
        if rows.size:
            # rows whose last three digits are zero: ".dddd" trimmed + end over both fields
            merged = records.view(np.dtype({"names": ["tail"], "formats": [f"U{8 + len(end)}"],
                                            "offsets": [(head + 8) * 4],
                                            "itemsize": records.dtype.itemsize}))
            merged["tail"][rows] = high_tails[first4[rows]]
        width = head + 16 + len(end)
    else:
        records["tail"] = end
        width = head + 8 + len(end)
    return records.view(f"U{width}").tolist()
