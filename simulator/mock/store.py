"""simulator.mock.store: the Mock object (every in-memory store of the mock) and its request hooks.

One Mock per app, at ``app.extensions["pisim.mock"]``, like WireMock's WireMockApp: it holds the
stubs and scenario states, the journal, the fault rules, the recorder and the global settings, and
it is what the admin blueprint and the hooks act on. All of it lives in the process: run gunicorn
with one worker (threads are fine) when tests rely on stubs, faults, journal or recording.
"""
from __future__ import annotations

import time
import typing as t
from pathlib import Path

import requests
from flask import request
from werkzeug.exceptions import NotFound as RoutingNotFound
from werkzeug.wrappers import Response

from . import faults as faultlib
from . import stubs as stublib
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from .journal import Journal
from .journal import LoggedRequest
from .journal import redact
from .matching import RequestView
from .recording import Recorder

if t.TYPE_CHECKING:
    from ..scenario.model import Fault

EXTENSION = "pisim.mock"
ENVIRON_KEY = "pisim.mock"
BATCH_KEY = "pisim.batch"
#: Socket faults after which the client saw no status at all.
_NO_STATUS = frozenset({"EMPTY_RESPONSE", "CONNECTION_RESET_BY_PEER", "RANDOM_DATA_THEN_CLOSE"})


def _ticks() -> int:
    """The wall clock in ticks: when a request was served, whatever the scenario's clock says."""
    return time.time_ns() // 100


def exempt(path: str) -> bool:
    """Paths the mock never touches: the admin API, the web console and the health check."""
    return path == "/health" or path.split("/", 2)[1:2] in (["__admin"], ["__console"])


class Mock:
    """The WireMock side of one app: stubs, scenarios, journal, faults, recorder and settings."""

    def __init__(self, *, seed: int, faults: t.Sequence[Fault] = (), now: t.Callable[[], int] | None = None):
        self.seed = seed
        self.now = now or _ticks
        self.stubs = stublib.StubMappings()
        self.journal = Journal()
        self.faults = faultlib.FaultRules(seed, faults)
        self.recorder = Recorder()
        self.fixed_delay_ms = 0.0
        self.mappings_dir: Path | None = None
        self._startup: list[dict] = []
        self.reset_hooks: list[t.Callable[[], None]] = []  # what else /__admin/reset clears (writes)

    # ---- configuration (start-up)
    def configure(self, *, journal_size: int | None = None, body_cap: int | None = None,
                  mappings_dir: str | Path | None = None) -> Mock:
        """Journal size and body cap (bytes), and the directory mappings/save writes to."""
        if journal_size is not None:
            self.journal.resize(journal_size)
        if body_cap is not None:
            self.journal.body_cap = body_cap
        if mappings_dir is not None:
            self.mappings_dir = Path(mappings_dir)
        return self

    def load_mappings(self, path: str | Path) -> int:
        """Add the mappings under directory `path` as start-up stubs (kept by reset); returns how many."""
        specs = stublib.load_mappings(path)
        for spec in specs:
            self.add_stub(spec, origin="startup")
        self._startup.extend(specs)
        return len(specs)

    # ---- admin operations
    def add_stub(self, spec: object, *, origin: str = "runtime") -> stublib.StubMapping:
        return self.stubs.add(stublib.parse_mapping(spec, origin=origin))

    def reset_mappings(self) -> None:
        """Remove every stub, then load the start-up ones again (WireMock mappings/reset)."""
        self.stubs.clear()
        for spec in self._startup:
            self.add_stub(spec, origin="startup")

    def reset(self) -> None:
        """Back to the start-up state: journal, stubs, scenarios, fault rules, counters, settings."""
        self.journal.clear()
        self.reset_mappings()
        self.stubs.reset_scenarios()
        self.faults.reset()
        self.fixed_delay_ms = 0.0
        for hook in self.reset_hooks:
            hook()

    def settings(self) -> dict:
        return {"fixedDelay": self.fixed_delay_ms, "faultsEnabled": self.faults.enabled,
                "journalSize": self.journal.size, "bodyCap": self.journal.body_cap}

    def update_settings(self, spec: object) -> dict:
        if isinstance(spec, dict) and isinstance(spec.get("settings"), dict):
            spec = spec["settings"]
        if not isinstance(spec, dict):
            raise InvalidParameterError(f"settings: must be an object, got {spec!r}")
        unknown = sorted(set(spec) - {"fixedDelay", "faultsEnabled", "journalSize", "bodyCap"})
        if unknown:
            raise InvalidParameterError(f"settings: unknown key(s) {unknown}; expected fixedDelay, "
                                        f"faultsEnabled, journalSize, bodyCap")
        if "faultsEnabled" in spec and not isinstance(spec["faultsEnabled"], bool):
            raise InvalidParameterError(
                f"settings.faultsEnabled: must be true or false, got {spec['faultsEnabled']!r}")
        for key in ("journalSize", "bodyCap"):
            value = spec.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidParameterError(f"settings.{key}: must be an integer >= 1, got {value!r}")
        fixed = None
        if spec.get("fixedDelay") is not None:
            fixed = faultlib.parse_delay(spec["fixedDelay"], "settings.fixedDelay").ms
        if fixed is not None:
            self.fixed_delay_ms = fixed
        if "faultsEnabled" in spec:
            self.faults.enabled = spec["faultsEnabled"]
        self.configure(journal_size=spec.get("journalSize"), body_cap=spec.get("bodyCap"))
        return self.settings()

    # ---- request hooks
    def before_request(self) -> Response | None:
        """Faults, then a stub, then (while recording) the proxy; None lets the PI routes answer."""
        environ = request.environ
        if exempt(request.path):
            return None
        state: dict[str, t.Any] = {"start": time.perf_counter(), "ticks": self.now()}
        environ[ENVIRON_KEY] = state
        hits = self.faults.evaluate(request.method, request.path, batch=bool(environ.get(BATCH_KEY)))
        if hits:
            state["fault"] = ",".join(hit.rule for hit in hits)
            faultlib.apply(hits)
            broken = hits[-1]
            if broken.socket is not None:
                state["socket"] = broken.socket
                junk = faultlib.garbage(self.seed, f"{broken.rule}:{broken.n}")
                return Response(faultlib.SocketFault(broken.socket, environ, junk), status=200,
                                direct_passthrough=True)
        if not len(self.stubs) and not self.recorder.recording:
            _sleep(self.fixed_delay_ms)
            return None  # the common case: nothing to match, leave the request to the PI routes
        view = current_view()
        stub = self.stubs.serve(view)
        if stub is not None:
            state["stub"] = stub
            definition = stub.response
            delay = self.fixed_delay_ms if definition.fixed_delay_ms is None else definition.fixed_delay_ms
            delay += faultlib.sample_delay(definition.distribution, self.seed, f"stub:{stub.id}", stub.served)
            _sleep(delay)
            if definition.fault is not None:
                state["fault"] = definition.fault
            return stublib.render(stub, environ, self.seed)
        _sleep(self.fixed_delay_ms)
        if self.recorder.wants(view):
            state["proxied"] = True
            return self._proxy(view)
        return None

    def _proxy(self, view: RequestView) -> Response:
        try:
            exchange = self.recorder.forward(view)
        except requests.RequestException as exc:
            target = self.recorder.spec.target if self.recorder.spec else "?"
            raise PIError(f"Recording proxy could not reach {target!r}: {exc}", status=502) from exc
        response = Response(exchange.response_body, status=exchange.status)
        del response.headers["Content-Type"]
        for name, value in exchange.response_headers:
            response.headers.add(name, value)
        return response

    def after_request(self, response: Response) -> Response:
        """Journal the exchange (runs last, so it sees the final headers)."""
        environ = request.environ
        state = environ.get(ENVIRON_KEY)
        if state is None or exempt(request.path):
            return response
        cap = self.journal.body_cap
        body = request.get_data(cache=True)
        streamed = response.is_streamed or response.direct_passthrough
        data = None if streamed else response.get_data()
        stub = state.get("stub")
        fault = state.get("fault")
        no_status = (stub is not None and fault in _NO_STATUS) or state.get("socket") in _NO_STATUS
        self.journal.append(LoggedRequest(
            method=request.method, path=request.path, query_string=environ.get("QUERY_STRING", ""),
            headers=redact(request.headers.items()), body=body[:cap], body_size=len(body),
            status=None if no_status else response.status_code,
            response_headers=redact(response.headers.items()),
            response_body=None if data is None else data[:cap],
            response_size=len(data) if data is not None else response.content_length,
            duration_ms=(time.perf_counter() - state["start"]) * 1000.0,
            stub_id=stub.id if stub else None, stub_name=stub.name if stub else None,
            batch=bool(environ.get(BATCH_KEY)), proxied=bool(state.get("proxied")), fault=fault,
            unmatched=(stub is None and not state.get("proxied") and response.status_code == 404
                       and isinstance(request.routing_exception, RoutingNotFound)),
            timestamp=state["ticks"]))
        return response


def current_view() -> RequestView:
    """The current Flask request as a RequestView (raw headers: matching may look at Authorization)."""
    return RequestView(request.method, request.path, request.environ.get("QUERY_STRING", ""),
                       tuple(request.headers.items()), request.get_data(cache=True))


def _sleep(ms: float) -> None:
    if ms > 0:
        time.sleep(ms / 1000.0)
