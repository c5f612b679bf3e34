"""Unit tests of connector.paging.RecordedReader against a fake client that answers crafted PI JSON.

The fake serves each tag's events the way PI does for boundaryType=Inside: every event with
startTime <= t <= endTime (both ends included), in archive order, cut at maxCount. It records every
request, so a test can check where each continuation started and how large its page was.
"""
from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import orjson
import pytest

from connector.errors import IntegrityError
from connector.errors import PIRequestError
from connector.errors import UnknownPointError
from connector.paging import RecordedReader
from connector.paging import format_ns
from connector.paging import parse_ns

T0 = "2026-11-24T20:00:00Z"
NS = 1_000_000_000


def at(seconds: float, digits: str = "") -> str:
    """A PI timestamp `seconds` after T0 (whole seconds), with an optional 7-digit fraction."""
    text = format_ns(parse_ns(T0) + int(seconds) * NS)
    return text[:-1] + "." + digits + "Z" if digits else text


def event(stamp: str, value: object) -> dict:
    return {"Timestamp": stamp, "Value": value, "Good": True, "Questionable": False, "Substituted": False,
            "Annotated": False}


class FakePI:
    """get_bytes("streamsets/recorded") and batch() over in-memory event lists, as PI answers them."""

    def __init__(self, streams: dict[str, list[dict]], *, errors: dict[str, tuple[int, list[str]]] | None = None):
        self.streams = streams
        self.errors = errors or {}
        self.requests: list[tuple[str, dict]] = []  # (web_id, {startTime, endTime, maxCount})
        self.after_call = None  # a hook run after each answer (to change the archive between pages)

    def _window(self, web_id: str, start: str, end: str, max_count: int) -> list[dict]:
        self.requests.append((web_id, {"startTime": start, "endTime": end, "maxCount": max_count}))
        lo, hi = parse_ns(start), parse_ns(end)
        inside = [e for e in self.streams[web_id] if lo <= parse_ns(e["Timestamp"]) <= hi]
        return inside[:max_count]

    def get_bytes(self, path: str, params: dict) -> bytes:
        assert path == "streamsets/recorded"
        assert params["boundaryType"] == "Inside"
        items = []
        for web_id in params["webId"]:
            if web_id in self.errors:
                status, messages = self.errors[web_id]
                items.append({"WebId": web_id, "Items": [],
                              "WebException": {"StatusCode": status, "Errors": messages}})
                continue
            values = self._window(web_id, params["startTime"], params["endTime"], int(params["maxCount"]))
            items.append({"WebId": web_id, "UnitsAbbreviation": "degC", "Items": values})
        body = orjson.dumps({"Items": items})
        if self.after_call:
            self.after_call(self)
        return body

    def batch(self, requests: dict[str, dict]) -> dict[str, dict]:
        answers = {}
        for key, spec in requests.items():
            assert spec["Method"] == "GET"
            parts = urlsplit(spec["Resource"])
            web_id = parts.path.split("/")[1]
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            assert query["boundaryType"] == "Inside"
            if web_id in self.errors:
                status, messages = self.errors[web_id]
                answers[key] = {"Status": status, "Headers": {}, "Content": {"Errors": messages}}
                continue
            values = self._window(web_id, query["startTime"], query["endTime"], int(query["maxCount"]))
            answers[key] = {"Status": 200, "Headers": {}, "Content": {"Items": values, "UnitsAbbreviation": "degC"}}
        if self.after_call:
            self.after_call(self)
        return answers


def read(fake: FakePI, web_ids: list[str], start: str, end: str, max_count: int, **options):
    reader = RecordedReader(fake, **options)
    return reader.read(web_ids, parse_ns(start), parse_ns(end), max_count), reader


def values(read) -> list[tuple[str, object]]:
    return [(i.Timestamp, i.Value) for i in read.items]


# --------------------------------------------------------------------------------------------------


def test_a_full_page_continues_from_its_last_timestamp_and_skips_what_it_had():
    # three events share 20:00:02.1234567: the first page (maxCount 4) ends after two of them
    stamp = at(2, "1234567")
    events = [event(at(0), 1.0), event(at(1), 2.0), event(stamp, 3.0), event(stamp, 4.0), event(stamp, 5.0),
              event(at(3), 6.0), event(at(4), 7.0)]
    fake = FakePI({"W1": events})
    reads, reader = read(fake, ["W1"], at(0), at(10), 4)
    assert values(reads["W1"]) == [(e["Timestamp"], e["Value"]) for e in events]
    assert reads["W1"].error is None and reads["W1"].units == "degC"
    # the second request starts exactly at the seam timestamp (7 digits, not rounded), same page size
    assert fake.requests[1] == ("W1", {"startTime": stamp, "endTime": at(10), "maxCount": 4})
    # page 2 (the seam's three events and 20:00:03) is full again: page 3 starts at 20:00:03, skipping one
    assert fake.requests[2] == ("W1", {"startTime": at(3), "endTime": at(10), "maxCount": 4})
    assert reads["W1"].pages == len(fake.requests) == reader.calls == 3


@pytest.mark.parametrize("method", ["streamsets", "batch"])
def test_many_pages_give_every_event_once(method):
    # duplicated timestamps everywhere, page size 3: seams fall inside groups again and again
    events = []
    for second in range(12):
        for copy in range(1 + second % 3):
            events.append(event(at(second, f"{second:07d}"), second * 10 + copy))
    fake = FakePI({"W1": events, "W2": events[:5]})
    reads, _ = read(fake, ["W1", "W2"], at(0), at(60), 3, method=method)
    assert values(reads["W1"]) == [(e["Timestamp"], e["Value"]) for e in events]
    assert values(reads["W2"]) == [(e["Timestamp"], e["Value"]) for e in events[:5]]
    assert len(set((i.Timestamp, i.Value) for i in reads["W1"].items)) == len(events)


def test_a_page_entirely_at_one_timestamp_grows_the_page_instead_of_looping():
    stamp = at(5, "0000001")
    events = [event(at(1), 0.0)] + [event(stamp, float(i)) for i in range(10)] + [event(at(6), 99.0)]
    fake = FakePI({"W1": events})
    reads, _ = read(fake, ["W1"], at(0), at(10), 3)
    assert values(reads["W1"]) == [(e["Timestamp"], e["Value"]) for e in events]
    sizes = [r["maxCount"] for _, r in fake.requests]
    starts = [r["startTime"] for _, r in fake.requests]
    # page 2 starts at the seam and is all one timestamp, so page 3 asks for four times as many
    assert starts[:3] == [at(0), stamp, stamp]
    assert sizes[:3] == [3, 3, 12]
    assert len(fake.requests) <= 4


def test_a_window_that_starts_on_a_crowded_timestamp_grows_too():
    events = [event(at(0), float(i)) for i in range(7)] + [event(at(1), 7.0)]
    fake = FakePI({"W1": events})
    reads, _ = read(fake, ["W1"], at(0), at(10), 2)
    assert values(reads["W1"]) == [(e["Timestamp"], e["Value"]) for e in events]
    assert [(r["startTime"], r["maxCount"]) for _, r in fake.requests] == [(at(0), 2), (at(0), 8), (at(1), 8)]


def test_more_events_at_one_timestamp_than_the_server_returns_per_call_is_an_integrity_error():
    events = [event(at(3), float(i)) for i in range(50)]
    fake = FakePI({"W1": events})
    with pytest.raises(IntegrityError, match="share the timestamp"):
        read(fake, ["W1"], at(0), at(10), 4, max_items_per_call=16)


def test_events_at_exactly_the_window_end_belong_to_the_next_window():
    end = at(3)
    events = [event(at(1), 1.0), event(at(2), 2.0), event(end, 3.0), event(end, 4.0), event(at(4), 5.0)]
    fake = FakePI({"W1": events})
    reads, _ = read(fake, ["W1"], at(0), end, 100)
    assert values(reads["W1"]) == [(at(1), 1.0), (at(2), 2.0)]
    # and the next window starts with them
    reads, _ = read(FakePI({"W1": events}), ["W1"], end, at(10), 100)
    assert values(reads["W1"]) == [(end, 3.0), (end, 4.0), (at(4), 5.0)]


def test_a_full_page_that_reaches_the_window_end_is_not_continued():
    end = at(3)
    events = [event(at(1), 1.0), event(at(2), 2.0), event(end, 3.0), event(end, 4.0)]
    fake = FakePI({"W1": events})
    reads, _ = read(fake, ["W1"], at(0), end, 3)  # the page is full, but its last event is at end
    assert values(reads["W1"]) == [(at(1), 1.0), (at(2), 2.0)]
    assert len(fake.requests) == 1


def test_a_stream_set_member_with_a_404_web_exception_fails_that_tag_only():
    events = [event(at(i), float(i)) for i in range(5)]
    fake = FakePI({"W1": events, "W3": events[:2]}, errors={"W2": (404, ["The specified point was not found."])})
    reads, _ = read(fake, ["W1", "W2", "W3"], at(0), at(10), 100)
    assert isinstance(reads["W2"].error, UnknownPointError)
    assert "W2" in str(reads["W2"].error) and "404" in str(reads["W2"].error)
    assert "point was not found" in str(reads["W2"].error)
    assert reads["W2"].items == []
    assert reads["W1"].error is None and values(reads["W1"]) == [(e["Timestamp"], e["Value"]) for e in events]
    assert reads["W3"].error is None and len(reads["W3"].items) == 2


def test_a_stream_set_member_with_a_500_web_exception_is_not_called_unknown():
    fake = FakePI({"W1": [event(at(1), 1.0)]}, errors={"W2": (500, ["boom"])})
    reads, _ = read(fake, ["W1", "W2"], at(0), at(10), 100)
    assert isinstance(reads["W2"].error, PIRequestError)
    assert not isinstance(reads["W2"].error, UnknownPointError)
    assert reads["W1"].error is None


def test_a_continuation_that_fails_keeps_what_was_read_and_reports_the_error():
    events = [event(at(i), float(i)) for i in range(6)]
    fake = FakePI({"W1": events})

    def break_after_first(pi):
        pi.errors["W1"] = (404, ["gone"])

    fake.after_call = break_after_first
    reads, _ = read(fake, ["W1"], at(0), at(10), 4)
    assert isinstance(reads["W1"].error, UnknownPointError)
    assert reads["W1"].pages == 2


def test_a_repeat_with_fewer_events_at_the_seam_is_an_integrity_error():
    stamp = at(2, "5000000")
    events = [event(at(1), 1.0), event(stamp, 2.0), event(stamp, 3.0), event(at(3), 4.0), event(at(4), 5.0)]
    fake = FakePI({"W1": list(events)})

    def delete_one_at_the_seam(pi):
        pi.streams["W1"] = [e for e in pi.streams["W1"] if e["Value"] != 3.0]
        pi.after_call = None

    fake.after_call = delete_one_at_the_seam
    with pytest.raises(IntegrityError, match="changed between two pages"):
        read(fake, ["W1"], at(0), at(10), 3)


def test_a_repeat_whose_values_changed_at_the_seam_is_an_integrity_error():
    stamp = at(2, "5000000")
    events = [event(at(1), 1.0), event(stamp, 2.0), event(stamp, 3.0), event(at(3), 4.0)]
    fake = FakePI({"W1": [dict(e) for e in events]})

    def edit_the_seam(pi):
        for e in pi.streams["W1"]:
            if e["Value"] == 3.0:
                e["Value"] = 33.0
        pi.after_call = None

    fake.after_call = edit_the_seam
    with pytest.raises(IntegrityError, match="changed between two pages"):
        read(fake, ["W1"], at(0), at(10), 3)


def test_an_unchanged_repeat_passes():
    stamp = at(2, "5000000")
    events = [event(at(1), 1.0), event(stamp, 2.0), event(stamp, 3.0), event(at(3), 4.0)]
    fake = FakePI({"W1": events})
    reads, _ = read(fake, ["W1"], at(0), at(10), 3)
    assert [i.Value for i in reads["W1"].items] == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("text, ns", [
    ("2026-11-24T20:00:00Z", 1_795_550_400 * NS),
    ("2026-11-24T20:00:00.1234567Z", 1_795_550_400 * NS + 123_456_700),
    ("2026-11-24T20:00:00.0000001Z", 1_795_550_400 * NS + 100),
    ("2026-11-24T20:00:00.9999999Z", 1_795_550_400 * NS + 999_999_900),
    ("2026-11-24T20:00:00.5Z", 1_795_550_400 * NS + 500_000_000),
    ("1970-01-01T00:00:00Z", 0),
    ("2024-02-29T23:59:59.01Z", 1_709_251_199 * NS + 10_000_000),
])
def test_format_ns_and_parse_ns_round_trip(text, ns):
    assert parse_ns(text) == ns
    assert format_ns(ns) == text
    assert parse_ns(format_ns(ns)) == ns


def test_format_ns_never_rounds_and_drops_trailing_zeros():
    assert format_ns(1_795_550_400 * NS + 120_000_000) == "2026-11-24T20:00:00.12Z"
    assert format_ns(1_795_550_400 * NS + 100) == "2026-11-24T20:00:00.0000001Z"
    for ns in range(1_795_550_400 * NS, 1_795_550_400 * NS + 10_000, 100):
        assert parse_ns(format_ns(ns)) == ns


@pytest.mark.parametrize("status, messages, skipped", [
    (400, ["Parameter 'maxCount' is invalid."], False), (500, ["Timeout expired."], False),
    (404, ["The specified point was not found."], True), (400, ["PI Point not found '\\\\PISRV01\\W2'."], True),
])
def test_a_window_skips_a_tag_only_when_pi_says_not_found(status, messages, skipped):
    """A per-stream 400 for bad parameters (or a 5xx) fails the window: only not-found skips."""
    from connector.config import ConnectorConfig
    from connector.discovery import PointInfo
    from connector.errors import PIRequestError as Failure
    from connector.jobs.reading import WindowTask
    from connector.jobs.reading import read_window
    from connector.paging import parse_ns

    fake = FakePI({"W1": [event(at(1), 1.0)]}, errors={"W2": (status, messages)})
    config = ConnectorConfig.from_dict({"source": {"url": "http://127.0.0.1:1/piwebapi"},
                                        "destination": {"uri": "/tmp/unused"}, "tags": [{"names": ["A"]}]})
    points = tuple(PointInfo(w, i, "S", w, "\\\\S\\" + w) for i, w in enumerate(("W1", "W2")))
    task = WindowTask(0, points, parse_ns(at(0)), parse_ns(at(10)), 100, (0, 0), "run", 0)
    if skipped:
        result = read_window(fake, config, task)
        assert [p.web_id for p, _ in result.skipped] == ["W2"] and result.read == ["W1"]
    else:
        with pytest.raises(Failure, match=messages[0].split(" ")[0]):
            read_window(fake, config, task)
