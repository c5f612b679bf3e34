"""simulator.mock.recording: proxy unmatched requests to a real PI Web API and turn traffic into stubs.

Secrets never leave the process: Authorization, Cookie and Proxy-Authorization are forwarded to the
target (it needs them) but never captured, journaled or written; Set-Cookie is dropped from recorded
responses. The proxy opens no listening socket and dials only the target base URL it was given
(environment proxies and .netrc are ignored, redirects are passed back, not followed).
"""
from __future__ import annotations

import base64
import copy
import hashlib
import http.cookiejar
import json
import re
import threading
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from ..pi.errors import InvalidParameterError
from .journal import SECRET_HEADERS
from .journal import redact
from .matching import RequestPattern
from .matching import RequestView

if t.TYPE_CHECKING:
    from .journal import LoggedRequest

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "trailers", "transfer-encoding", "upgrade"})
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
#: Response headers a recording leaves out: framing the server redoes, volatile ones, secrets.
NOT_RECORDED = HOP_BY_HOP | SECRET_HEADERS | {"content-length", "content-encoding", "date", "server"}
_NAMESPACE = uuid.UUID("5f0cbb3e-8d0c-4a4e-9f1e-2a3c70b1d0a1")


class NotRecordingError(InvalidParameterError):
    """400: recordings/stop while no recording runs."""


@dataclass
class Exchange:
    """A request and the response it got, as a recording keeps them (request secrets redacted)."""

    method: str
    path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes

    @property
    def url(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    @classmethod
    def from_logged(cls, entry: LoggedRequest) -> Exchange:
        return cls(entry.method, entry.path, entry.query_string, redact(entry.headers), entry.body,
                   entry.status or 0, entry.response_headers, entry.response_body or b"")


@dataclass(frozen=True)
class RecordSpec:
    """WireMock's record spec: target, captureHeaders, filters, persist, repeatsAsScenarios."""

    target: str = ""
    capture_headers: tuple[tuple[str, bool], ...] = ()  # (name, caseInsensitive)
    filters: RequestPattern | None = None
    ids: tuple[int, ...] = ()
    persist: bool = False
    repeats_as_scenarios: bool = True
    include_stubbed: bool = False
    verify: bool | str = True
    timeout: float = 60.0

    @classmethod
    def from_json(cls, spec: object, *, need_target: bool) -> RecordSpec:
        spec = {} if spec is None else spec
        if not isinstance(spec, dict):
            raise InvalidParameterError(f"record spec: must be an object, got {spec!r}")
        known = {"targetBaseUrl", "captureHeaders", "filters", "persist", "repeatsAsScenarios",
                 "includeStubbed", "verify", "timeout", "outputFormat"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise InvalidParameterError(
                f"record spec: unknown key(s) {unknown}; expected some of {sorted(known)}")
        target = spec.get("targetBaseUrl", "")
        if need_target or target:
            target = _target(target)
        capture = spec.get("captureHeaders", {})
        if not isinstance(capture, dict):
            raise InvalidParameterError(f"captureHeaders: must be an object of name: {{}}, got {capture!r}")
        filters = dict(spec.get("filters") or {})
        ids = filters.pop("ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise InvalidParameterError(f"filters.ids: must be a list of journal ids, got {ids!r}")
        timeout = spec.get("timeout", 60.0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise InvalidParameterError(f"timeout: must be a number of seconds > 0, got {timeout!r}")
        verify = spec.get("verify", True)
        if not isinstance(verify, (bool, str)):
            raise InvalidParameterError(f"verify: must be true, false or a CA bundle path, got {verify!r}")
        captured = tuple((name, bool((opts or {}).get("caseInsensitive", False)))
                         for name, opts in capture.items() if name.lower() not in SECRET_HEADERS)
        return cls(target=target, capture_headers=captured,
                   filters=RequestPattern.parse(filters, "filters") if filters else None, ids=tuple(ids),
                   persist=bool(spec.get("persist", False)),
                   repeats_as_scenarios=bool(spec.get("repeatsAsScenarios", True)),
                   include_stubbed=bool(spec.get("includeStubbed", False)), verify=verify,
                   timeout=float(timeout))

    def wants(self, view: RequestView) -> bool:
        return self.filters is None or self.filters.matches(view)


def _target(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"targetBaseUrl: is required, e.g. https://pi.example/, got {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(f"targetBaseUrl: must be an http(s) URL with a host, got {value!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidParameterError(f"targetBaseUrl: must not carry a query, fragment or credentials, "
                                    f"got {value!r}")
    return value.rstrip("/")


class Recorder:
    """The recording state: NeverStarted -> Recording -> Stopped, and what was captured."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "NeverStarted"
        self.spec: RecordSpec | None = None
        self._session: requests.Session | None = None
        self._captured: list[Exchange] = []

    @property
    def recording(self) -> bool:
        return self.state == "Recording"

    def start(self, spec: RecordSpec) -> None:
        with self._lock:
            if self.recording and self.spec is not None:
                raise InvalidParameterError(f"already recording {self.spec.target!r}; stop it first")
            session = requests.Session()
            session.trust_env = False  # no environment proxies, no .netrc: dial the target only
            session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            self.spec, self._session, self._captured, self.state = spec, session, [], "Recording"

    def stop(self) -> tuple[RecordSpec, list[Exchange]]:
        with self._lock:
            if not self.recording or self.spec is None:
                raise NotRecordingError("no recording is running")
            if self._session is not None:
                self._session.close()
            spec, captured = self.spec, self._captured
            self._session, self._captured, self.state = None, [], "Stopped"
            return spec, captured

    def status(self) -> dict:
        out: dict[str, t.Any] = {"status": self.state}
        if self.recording and self.spec is not None:
            out.update(targetBaseUrl=self.spec.target, captured=len(self._captured))
        return out

    def wants(self, view: RequestView) -> bool:
        spec = self.spec
        return self.recording and spec is not None and spec.wants(view)

    def forward(self, view: RequestView) -> Exchange:
        """Send `view` to the target; capture and return the exchange (secrets redacted in it)."""
        spec, session = self.spec, self._session
        if spec is None or session is None:
            raise NotRecordingError("no recording is running")
        url = spec.target + (view.path if view.path.startswith("/") else "/" + view.path)
        if view.query_string:
            url += "?" + view.query_string
        headers = [(n, v) for n, v in view.headers if n.lower() not in NOT_FORWARDED]
        upstream = session.request(view.method, url, data=view.body or None,
                                   headers=_merge(headers), allow_redirects=False, timeout=spec.timeout,
                                   verify=spec.verify)
        exchange = Exchange(view.method, view.path, view.query_string, redact(view.headers), view.body,
                            upstream.status_code,
                            tuple((n, v) for n, v in upstream.headers.items()
                                  if n.lower() not in HOP_BY_HOP | {"content-length", "content-encoding"}),
                            upstream.content)
        with self._lock:
            if self.recording:
                self._captured.append(exchange)
        return exchange


def _merge(pairs: list[tuple[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


# --------------------------------------------------------------------------- exchanges -> mappings


def mapping_for(exchange: Exchange, capture_headers: t.Sequence[tuple[str, bool]] = (), *,
                index: int = 0) -> dict:
    """A stub mapping that answers `exchange.request` with `exchange.response`."""
    request: dict[str, t.Any] = {"method": exchange.method, "url": exchange.url}
    captured = {}
    for name, case_insensitive in capture_headers:
        values = [v for n, v in exchange.headers if n.lower() == name.lower()]
        if values and name.lower() not in SECRET_HEADERS:
            captured[name] = {"equalTo": values[0], **({"caseInsensitive": True} if case_insensitive else {})}
    if captured:
        request["headers"] = captured
    if exchange.body:
        text = exchange.body.decode("utf-8", "replace")
        try:
            request["bodyPatterns"] = [{"equalToJson": json.loads(text)}]
        except ValueError:
            request["bodyPatterns"] = [{"equalTo": text}]
    response: dict[str, t.Any] = {"status": exchange.status}
    headers = {n: v for n, v in exchange.response_headers if n.lower() not in NOT_RECORDED}
    if headers:
        response["headers"] = headers
    response.update(_recorded_body(exchange))
    digest = hashlib.sha256(exchange.body).hexdigest()
    stub_id = uuid.uuid5(_NAMESPACE, f"{exchange.method} {exchange.url} {digest} {index}")
    return {"id": str(stub_id), "name": f"{exchange.method} {exchange.path}", "request": request,
            "response": response}


def _recorded_body(exchange: Exchange) -> dict:
    body = exchange.response_body
    if not body:
        return {}
    content_type = next((v for n, v in exchange.response_headers if n.lower() == "content-type"), "")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64Body": base64.b64encode(body).decode("ascii")}
    if "json" in content_type.lower():
        try:
            return {"jsonBody": json.loads(text)}
        except ValueError:
            pass
    return {"body": text}


def to_mappings(exchanges: t.Sequence[Exchange], capture_headers: t.Sequence[tuple[str, bool]] = (), *,
                repeats_as_scenarios: bool = True) -> list[dict]:
    """Mappings for the exchanges in order. Identical requests with different responses become a
    scenario that replays the responses in order and then keeps answering the last one."""
    groups: dict[tuple, list[Exchange]] = {}
    for exchange in exchanges:
        groups.setdefault((exchange.method, exchange.url, exchange.body), []).append(exchange)
    out = []
    scenario_no = 0
    for (method, url, _), group in groups.items():
        distinct = [e for i, e in enumerate(group) if i == 0 or _answer(e) != _answer(group[i - 1])]
        if not repeats_as_scenarios or len(distinct) == 1:
            out.append(mapping_for(group[-1], capture_headers))
            continue
        scenario_no += 1
        name = f"scenario-{scenario_no}-{_slug(url)}"
        for i, exchange in enumerate(distinct):
            mapping = mapping_for(exchange, capture_headers, index=i)
            mapping["scenarioName"] = name
            mapping["requiredScenarioState"] = "Started" if i == 0 else f"{name}-{i + 1}"
            if i + 1 < len(distinct):
                mapping["newScenarioState"] = f"{name}-{i + 2}"
            out.append(mapping)
    return out


def _answer(exchange: Exchange) -> tuple[int, bytes]:
    return exchange.status, exchange.response_body


def snapshot(entries: t.Sequence[LoggedRequest], spec: RecordSpec) -> tuple[list[dict], int]:
    """Mappings from journal entries (oldest first) and how many entries could not be used.

    Left out: batch sub-requests, router 404s, socket faults, stub-served ones (unless
    includeStubbed) and entries whose bodies the journal truncated (counted as skipped).
    """
    chosen, skipped = [], 0
    for entry in entries:
        if entry.batch or entry.unmatched or entry.status is None:
            continue
        if entry.stub_id is not None and not spec.include_stubbed:
            continue
        if spec.ids and entry.id not in spec.ids:
            continue
        if not spec.wants(entry.view()):
            continue
        if entry.body_truncated or not entry.response_complete:
            skipped += 1
            continue
        chosen.append(Exchange.from_logged(entry))
    mappings = to_mappings(chosen, spec.capture_headers, repeats_as_scenarios=spec.repeats_as_scenarios)
    return mappings, skipped


# --------------------------------------------------------------------------- files


def redact_mapping(mapping: dict) -> dict:
    """A copy of `mapping` without secret header matchers or secret response headers."""
    out = copy.deepcopy(mapping)
    for part in ("request", "response"):
        headers = out.get(part, {}).get("headers")
        if isinstance(headers, dict):
            out[part]["headers"] = {n: v for n, v in headers.items() if n.lower() not in SECRET_HEADERS}
            if not out[part]["headers"]:
                del out[part]["headers"]
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().split("?")[0]).strip("-")[:60] or "root"


def write_mappings(mappings: t.Iterable[dict], directory: str | Path) -> list[Path]:
    """Write each mapping (secrets redacted) to `directory` as <name>-<id>.json; returns the paths."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for mapping in mappings:
        clean = redact_mapping(mapping)
        label = clean.get("name") or clean.get("request", {}).get("url") or "mapping"
        path = root / f"{_slug(label)}-{str(clean['id'])[:8]}.json"
        path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
