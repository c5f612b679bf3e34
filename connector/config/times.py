"""connector.config.times: PI time strings and durations as the configuration reads them.

`resolve_time` gives the UTC instant of a PI time string with picommon.pitime's parser (the
simulator's), so both halves read "*-1d", "t+6h", "mon" or ISO 8601 with an offset the same way.
`parse_duration` reads the connector's own durations ("10m", "1.5d"): a number and a fixed-length
unit.
"""
from __future__ import annotations

import datetime as dt
import re

from picommon import pitime

_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("mo", "mon", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "years"),
}
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)
TIME_HELP = ("a PI time: *, *-1d, t, y, today, yesterday, a weekday or month name (with +/- offsets such as "
             "t+6h) or ISO 8601")


def resolve_time(text: str, now: dt.datetime) -> dt.datetime:
    """The UTC instant of a PI time string, as PI would resolve it with timeZone=UTC: picommon.pitime's
    parser (the simulator's), so both halves read every form the same ("*-1d", "t+6h", "mon", ISO 8601
    with Z or an offset such as +10:00; no offset means UTC).

    Raises:
        ValueError: naming the text and what is accepted.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not {TIME_HELP}")
    try:
        return pitime.from_ticks(pitime.parse_time(text, now=pitime.to_ticks(now), tz="UTC"))
    except pitime.TimeParseError as exc:
        detail = str(exc)
        if "is not valid" in detail:  # the generic refusal: say what the connector's docs list
            raise ValueError(f"{text!r} is not {TIME_HELP}") from None
        raise ValueError(detail) from None


def parse_duration(text: str) -> dt.timedelta:
    """A duration such as "10m", "1h", "1.5d", "2w" (units s, m, h, d, w and their long names).

    Raises:
        ValueError: not a number and a unit, or a unit without a fixed length (months, years).
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration such as 10m, 1h or 1d")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 10m, 1h or 1d")
    kind = _UNITS.get(match.group(2).lower())
    if kind is None:
        raise ValueError(f"{text!r}: unknown unit {match.group(2)!r}; use s, m, h, d or w")
    if kind in ("months", "years"):
        raise ValueError(f"{text!r}: {kind} have no fixed length; use d or w")
    return dt.timedelta(**{kind: float(match.group(1))})
