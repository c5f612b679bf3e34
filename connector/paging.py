"""connector.paging: read every recorded event of many tags in a window, exactly once.

PI silently truncates a recorded read at maxCount. `RecordedReader` reads a group of tags in one
call (a stream set, or a batch of stream reads), then continues each tag whose page came back full
from that page's last timestamp, skipping the events at that timestamp it already has. A page whose
events all share one timestamp grows the page size instead of looping. Windows are half-open
[start, end): events at `end` belong to the next window.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field

import msgspec
from picommon.pitime import timestamp_ns as parse_ns  # PI timestamps -> ns, the one parser

from . import crashpoints
from .errors import IntegrityError
from .errors import PIRequestError
from .errors import stream_error
from .wire import STREAM_SET
from .wire import TIMED_VALUES
from .wire import TimedValue

# one tag's page: (units, values, the error that stopped its read or None)
_Page = tuple[str | None, list[TimedValue], PIRequestError | None]

VALUE_FIELDS = ("Timestamp", "Value", "Good", "Questionable", "Substituted", "Annotated", "Errors")
SET_FIELDS = ";".join(["Items.WebId", "Items.UnitsAbbreviation", "Items.WebException"]
                      + [f"Items.Items.{f}" for f in VALUE_FIELDS])
STREAM_FIELDS = ";".join(["UnitsAbbreviation"] + [f"Items.{f}" for f in VALUE_FIELDS])


#: Bytes of a stream set URL besides its webId parameters (path, times, maxCount, selectedFields...).
URL_OVERHEAD = 640
#: The most WebIDs (or markers) one stream set call carries, whatever room its URL has left.
MAX_URL_WEB_IDS = 200


def url_group_size(base_url: str, web_ids, max_url_bytes: int) -> int:
    """How many of these WebIDs one GET may carry so that its whole URL (the query string counted,
    the longest WebID assumed for each) stays under `max_url_bytes`; at least 1."""
    longest = max((len(_quote(w)) for w in web_ids), default=1)
    room = max_url_bytes - len(base_url) - URL_OVERHEAD
    return max(1, room // (len("&webId=") + longest))


def format_ns(ns: int) -> str:
    """Nanoseconds -> the PI timestamp text with up to 7 fraction digits (exact for 100 ns multiples)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    y, mo, d, h, mi, s = time.gmtime(seconds)[:6]
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    if rest:
        text += "." + f"{rest:09d}".rstrip("0")
    return text + "Z"


@dataclass
class TagRead:
    """What a window read gave for one tag: its events (archive order) or why it was skipped."""

    web_id: str
    items: list[TimedValue] = field(default_factory=list)
    units: str | None = None
    error: PIRequestError | None = None
    pages: int = 0


@dataclass
class _Cursor:
    start_text: str
    start_ns: int
    skip: int
    max_count: int


class RecordedReader:
    """Reads windows of recorded values for groups of tags through a PIClient."""

    def __init__(self, client, *, max_items_per_call: int = 150_000, method: str = "streamsets",
                 web_id_type: str = "IDOnly") -> None:
        self.client = client
        self.limit = max_items_per_call
        self.method = method
        self.web_id_type = web_id_type
        self.calls = 0

    def read(self, web_ids: list[str], start_ns: int, end_ns: int, max_count: int) -> dict[str, TagRead]:
        """Every event of every tag with start <= t < end."""
        max_count = max(1, min(max_count, self.limit // max(1, len(web_ids))))
        reads = {w: TagRead(w) for w in web_ids}
        start_text = format_ns(start_ns)
        first = self._first_pages(web_ids, start_text, format_ns(end_ns), max_count)
        pending: dict[str, _Cursor] = {}
        for web_id, (units, items, error) in first.items():
            read = reads[web_id]
            read.units, read.error, read.pages = units, error, 1
            if error is None:
                self._take(read, items, _Cursor(start_text, start_ns, 0, max_count), end_ns, pending)
        while pending:
            crashpoints.reach("between-pages")
            batch = dict(list(pending.items())[: max(1, self.limit // max(c.max_count for c in pending.values()))])
            for web_id in batch:
                del pending[web_id]
            answers = self._continue(batch, format_ns(end_ns))
            for web_id, (units, items, error) in answers.items():
                read = reads[web_id]
                read.pages += 1
                if error is not None:
                    read.error = error
                    continue
                if units is not None:
                    read.units = units
                self._take(read, items, batch[web_id], end_ns, pending)
        return reads

    # -- one page ------------------------------------------------------------------------------

    def _take(self, read: TagRead, items: list[TimedValue], cursor: _Cursor, end_ns: int,
              pending: dict[str, _Cursor]) -> None:
        """Keep a page's new events; schedule a continuation when the page came back full."""
        full = len(items) >= cursor.max_count
        if cursor.skip:
            repeated = items[: cursor.skip]
            seen = read.items[-cursor.skip:]  # the events at the seam this read already kept, in order
            if len(repeated) < cursor.skip or any(
                    (i.Timestamp != cursor.start_text and parse_ns(i.Timestamp) != cursor.start_ns)
                    or _event_key(i) != _event_key(j) for i, j in zip(repeated, seen)):
                raise IntegrityError(f"tag {read.web_id}: the events at {cursor.start_text} changed between two pages "
                                     f"(expected {cursor.skip} again)")
        fresh = items[cursor.skip:]
        while fresh and parse_ns(fresh[-1].Timestamp) >= end_ns:
            fresh.pop()
            full = False  # the page reached the window's end
        read.items.extend(fresh)
        if not full:
            return
        last_text = items[-1].Timestamp
        last_ns = parse_ns(last_text)
        same = 0
        for item in reversed(items):
            if item.Timestamp == last_text or parse_ns(item.Timestamp) == last_ns:
                same += 1
            else:
                break
        if last_ns == cursor.start_ns:  # the whole page is one timestamp: ask for more at once
            grown = min(self.limit, cursor.max_count * 4)
            if grown <= cursor.max_count:
                raise IntegrityError(f"tag {read.web_id}: more than {self.limit} events share the timestamp "
                                     f"{last_text}; PI cannot page past them")
            pending[read.web_id] = _Cursor(cursor.start_text, cursor.start_ns, cursor.skip + len(fresh), grown)
        else:
            pending[read.web_id] = _Cursor(last_text, last_ns, same, cursor.max_count)

    # -- calls ---------------------------------------------------------------------------------

    def _params(self, start_text: str, end_text: str, max_count: int, fields: str) -> dict:
        return {"startTime": start_text, "endTime": end_text, "boundaryType": "Inside", "maxCount": max_count,
                "selectedFields": fields, "webIdType": self.web_id_type}

    def _first_pages(self, web_ids: list[str], start_text: str, end_text: str, max_count: int):
        if self.method == "streamsets":
            params = self._params(start_text, end_text, max_count, SET_FIELDS)
            params["webId"] = web_ids
            self.calls += 1
            body = self.client.get_bytes("streamsets/recorded", params)
            try:
                decoded = STREAM_SET.decode(body)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise IntegrityError(f"streamsets/recorded returned a body that is not a stream set: {exc}") from None
            out: dict[str, _Page] = {}
            by_id = {s.WebId: s for s in decoded.Items}
            for position, web_id in enumerate(web_ids):
                stream = by_id.get(web_id)
                if stream is None and position < len(decoded.Items) and not decoded.Items[position].WebId:
                    stream = decoded.Items[position]
                if stream is None:
                    out[web_id] = (None, [], PIRequestError(f"tag {web_id}: missing from the stream set answer"))
                elif stream.WebException is not None and stream.WebException.StatusCode >= 400:
                    out[web_id] = (None, [], stream_error(web_id, stream.WebException.StatusCode,
                                                           stream.WebException.Errors))
                else:
                    out[web_id] = (stream.UnitsAbbreviation, stream.Items, None)
            return out
        cursors = {w: _Cursor(start_text, 0, 0, max_count) for w in web_ids}
        return self._continue(cursors, end_text)

    def _continue(self, cursors: dict[str, _Cursor], end_text: str):
        """One batch call with a stream read per tag, each from its own cursor."""
        keys = list(cursors)
        requests = {}
        for i, web_id in enumerate(keys):
            cursor = cursors[web_id]
            query = "&".join(f"{k}={_quote(v)}" for k, v in self._params(
                cursor.start_text, end_text, cursor.max_count, STREAM_FIELDS).items())
            requests[str(i)] = {"Method": "GET", "Resource": f"streams/{web_id}/recorded?{query}"}
        self.calls += 1
        answers = self.client.batch(requests)
        out: dict[str, _Page] = {}
        for i, web_id in enumerate(keys):
            answer = answers.get(str(i)) or {}
            status = int(answer.get("Status", 0))
            content = answer.get("Content")
            if status >= 400 or status == 0:
                messages = content.get("Errors", []) if isinstance(content, dict) else [str(content)]
                out[web_id] = (None, [], stream_error(web_id, status, messages))
                continue
            try:
                values = msgspec.convert(content, type=TIMED_VALUES_TYPE)
            except msgspec.ValidationError as exc:
                raise IntegrityError(f"tag {web_id}: recorded answer is not a list of values: {exc}") from None
            out[web_id] = (values.UnitsAbbreviation, values.Items, None)
        return out


TIMED_VALUES_TYPE = TIMED_VALUES.type


def _event_key(item: TimedValue) -> tuple:
    """What must not change when a page seam re-reads an event: its value and flags."""
    return item.Value, item.Good, item.Questionable, item.Substituted, item.Annotated, item.Errors


def _quote(value) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="*-.:;")
