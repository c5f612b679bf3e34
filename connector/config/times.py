"""connector.config.times: PI time strings and durations as the configuration reads them.

`resolve_time` gives the UTC instant of a PI time string with picommon.pitime's parser (the
simulator's), so both halves read "*-1d", "t+6h", "mon" or ISO 8601 with an offset the same way.
`parse_duration` reads the connector's durations ("10m", "1.5d") with the same module's duration
parser: a number and a fixed-length unit.
"""
from __future__ import annotations

import datetime as dt

from picommon import pitime

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
    """A duration such as "10m", "1h", "1.5d", "2w" or "0s": picommon.pitime.parse_duration, the
    simulator's reader, so a spacing or window means the same to both halves (a .NET TimeSpan such
    as "01:30:00" is read too, as PI does).

    Raises:
        ValueError: not a number and a unit, negative, or a unit without a fixed length (months, years).
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration such as 10m, 1h or 1d")
    try:
        ticks = pitime.parse_duration(text, allow_zero=True)
    except pitime.TimeParseError as exc:
        raise ValueError(str(exc)) from None
    return dt.timedelta(microseconds=ticks // 10)
