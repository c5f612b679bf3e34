"""simulator.mock.journal: the request journal, a bounded ring buffer of exchanges (WireMock verification)."""
from __future__ import annotations

import base64
import collections
import datetime as dt
import itertools
import threading
import typing as t
from dataclasses import dataclass

from ..pi.errors import InvalidParameterError
from .matching import RequestPattern
from .matching import RequestView

if t.TYPE_CHECKING:
    from .stubs import StubMappings

DEFAULT_SIZE = 10_000
DEFAULT_BODY_CAP = 64 * 1024
REDACTED = "REDACTED"
#: Header values never kept in the journal, in recordings or in mapping files.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "set-cookie"})
TICKS_PER_MS = 10_000


def redact(headers: t.Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The headers with the values of Authorization, Cookie, Proxy-Authorization, Set-Cookie replaced."""
    return tuple((name, REDACTED if name.lower() in SECRET_HEADERS else value) for name, value in headers)


@dataclass
class LoggedRequest:
    """One exchange as journaled. Request header secrets are already redacted; bodies are capped.

    status is None when a socket-level fault answered nothing. `unmatched` means the router found
    no route (a 404 no stub answered); `stub_id` names the stub that served it, if any.
    """

    method: str
    path: str
    query_string: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    body_size: int = 0
    status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes | None = None
    response_size: int | None = None
    duration_ms: float = 0.0
    stub_id: str | None = None
    stub_name: str | None = None
    batch: bool = False
    proxied: bool = False
    fault: str | None = None
    unmatched: bool = False
    timestamp: int = 0  # ticks (100 ns since the epoch)
    id: int = 0

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    @property
    def body_truncated(self) -> bool:
        return len(self.body) < self.body_size

    @property
    def response_complete(self) -> bool:
        return self.response_body is not None and (self.response_size is None
                                                   or len(self.response_body) == self.response_size)

    def view(self) -> RequestView:
        return RequestView(self.method, self.path, self.query_string, self.headers, self.body)

    def to_json(self, *, bodies: bool = True) -> dict:
        millis = self.timestamp // TICKS_PER_MS
        logged = dt.datetime.fromtimestamp(millis / 1000, dt.timezone.utc)
        request = {"method": self.method, "url": self.url, "path": self.path, "query": self.query_string,
                   "headers": _header_json(self.headers), "bodySize": self.body_size,
                   "bodyTruncated": self.body_truncated, "loggedDate": millis,
                   "loggedDateString": logged.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        response = {"status": self.status, "headers": _header_json(self.response_headers),
                    "size": self.response_size}
        if bodies:
            request.update(_body_json(self.body))
            if self.response_body is not None:
                response.update(_body_json(self.response_body))
                response["bodyTruncated"] = not self.response_complete
        stub = {"id": self.stub_id, "name": self.stub_name} if self.stub_id else None
        return {"id": self.id, "timestamp": self.timestamp, "request": request, "response": response,
                "durationMs": round(self.duration_ms, 3), "wasMatched": self.stub_id is not None,
                "stubMapping": stub, "batch": self.batch, "proxied": self.proxied, "fault": self.fault,
                "unmatched": self.unmatched}


def _header_json(headers: t.Iterable[tuple[str, str]]) -> dict:
    out: dict[str, t.Any] = {}
    for name, value in headers:
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def _body_json(body: bytes) -> dict:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64Body": base64.b64encode(body).decode("ascii")}


class Journal:
    """The newest `size` exchanges; ids increase for the life of the process (never reused)."""

    def __init__(self, size: int = DEFAULT_SIZE, body_cap: int = DEFAULT_BODY_CAP) -> None:
        if size < 1:
            raise InvalidParameterError(f"journal size must be >= 1, got {size!r}")
        self.body_cap = body_cap
        self._entries: collections.deque[LoggedRequest] = collections.deque(maxlen=size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._entries.maxlen or DEFAULT_SIZE

    def resize(self, size: int) -> None:
        if size < 1:
            raise InvalidParameterError(f"journal size must be >= 1, got {size!r}")
        with self._lock:
            self._entries = collections.deque(self._entries, maxlen=size)

    def append(self, entry: LoggedRequest) -> LoggedRequest:
        with self._lock:
            entry.id = next(self._ids)
            self._entries.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, *, limit: int | None = None, since: int | None = None,
                since_ticks: int | None = None) -> list[LoggedRequest]:
        """Newest first; `since` keeps ids above it, `since_ticks` entries at or after that time."""
        with self._lock:
            found = list(reversed(self._entries))
        if since is not None:
            found = [e for e in found if e.id > since]
        if since_ticks is not None:
            found = [e for e in found if e.timestamp >= since_ticks]
        return found if limit is None else found[:limit]

    def get(self, entry_id: int) -> LoggedRequest | None:
        with self._lock:
            return next((e for e in self._entries if e.id == entry_id), None)

    def find(self, pattern: RequestPattern) -> list[LoggedRequest]:
        """Entries matching `pattern` exactly, oldest first (WireMock's findRequestsMatching)."""
        with self._lock:
            entries = list(self._entries)
        return [e for e in entries if pattern.matches(e.view())]

    def count(self, pattern: RequestPattern) -> int:
        return len(self.find(pattern))

    def remove(self, pattern: RequestPattern) -> int:
        with self._lock:
            kept = collections.deque((e for e in self._entries if not pattern.matches(e.view())),
                                     maxlen=self._entries.maxlen)
            gone = len(self._entries) - len(kept)
            self._entries = kept
        return gone

    def unmatched(self) -> list[LoggedRequest]:
        """Requests the router answered 404 (no route and no stub), oldest first."""
        with self._lock:
            return [e for e in self._entries if e.unmatched]

    def closest(self, pattern: RequestPattern, limit: int = 3) -> list[tuple[LoggedRequest, float]]:
        """The journaled requests nearest to `pattern` (near misses for a request pattern)."""
        with self._lock:
            entries = list(self._entries)
        ranked = sorted(((e, pattern.match(e.view())) for e in entries), key=lambda p: p[1].distance)
        return [(e, result.distance) for e, result in ranked[:limit]]


def near_misses(view: RequestView, stubs: StubMappings, limit: int = 3) -> list[dict]:
    """WireMock NearMiss JSON for `view` against the stubs: the closest first, with per-field distances."""
    return [{"request": _view_json(view), "stubMapping": stub.spec, "matchResult": result.to_json()}
            for stub, result in stubs.near_misses(view, limit)]


def _view_json(view: RequestView) -> dict:
    return {"method": view.method, "url": view.url, "headers": _header_json(redact(view.headers)),
            **_body_json(view.body)}
