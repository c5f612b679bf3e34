"""simulator.mock.stubs: stub mappings, stateful scenarios and how a stub answers (WireMock stubbing)."""
from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

from werkzeug.wrappers import Response

from . import faults
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from .matching import MatchResult
from .matching import RequestPattern
from .matching import RequestView

if t.TYPE_CHECKING:
    from ..scenario.model import Delay

STARTED = "Started"
DEFAULT_PRIORITY = 5
MAPPING_KEYS = frozenset({"id", "uuid", "name", "priority", "request", "response", "scenarioName",
                          "requiredScenarioState", "newScenarioState", "times", "metadata", "persistent"})
RESPONSE_KEYS = frozenset({"status", "statusMessage", "headers", "jsonBody", "body", "base64Body",
                           "fixedDelayMilliseconds", "delayDistribution", "chunkedDribbleDelay", "fault"})


class NotFound(PIError):
    """404 from the admin API: no stub, scenario or fault by that name."""

    status = 404


@dataclass
class ResponseDefinition:
    """What a stub answers: status, headers, body bytes, delays, dribble or a socket fault."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    fixed_delay_ms: float | None = None
    distribution: Delay | None = None
    dribble: tuple[int, float] | None = None  # (numberOfChunks, totalDuration ms)
    fault: str | None = None

    @classmethod
    def parse(cls, spec: object, where: str = "response") -> ResponseDefinition:
        if not isinstance(spec, dict):
            raise InvalidParameterError(f"{where}: must be an object, got {spec!r}")
        unknown = sorted(set(spec) - RESPONSE_KEYS)
        if unknown:
            raise InvalidParameterError(f"{where}: unknown key(s) {unknown}; expected some of "
                                        f"{sorted(RESPONSE_KEYS)}")
        status = spec.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise InvalidParameterError(f"{where}.status: must be an HTTP status 100-599, got {status!r}")
        headers = _headers(spec.get("headers", {}), f"{where}.headers")
        bodies = [key for key in ("jsonBody", "body", "base64Body") if key in spec]
        if len(bodies) > 1:
            raise InvalidParameterError(f"{where}: give one of jsonBody, body, base64Body; got {bodies}")
        body = b""
        if "jsonBody" in spec:
            body = json.dumps(spec["jsonBody"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if not any(name.lower() == "content-type" for name, _ in headers):
                headers += (("Content-Type", "application/json; charset=utf-8"),)
        elif "body" in spec:
            if not isinstance(spec["body"], str):
                raise InvalidParameterError(f"{where}.body: must be a string (use jsonBody for JSON), "
                                            f"got {spec['body']!r}")
            body = spec["body"].encode("utf-8")
        elif "base64Body" in spec:
            try:
                body = base64.b64decode(spec["base64Body"], validate=True)
            except (binascii.Error, TypeError) as exc:
                raise InvalidParameterError(
                    f"{where}.base64Body: not base64: {spec['base64Body']!r}") from exc
        fixed = spec.get("fixedDelayMilliseconds")
        if fixed is not None:
            fixed = faults.parse_delay(fixed, f"{where}.fixedDelayMilliseconds").ms
        distribution = spec.get("delayDistribution")
        if distribution is not None:
            distribution = faults.parse_distribution(distribution, f"{where}.delayDistribution")
        fault = spec.get("fault")
        if fault is not None and fault not in faults.SOCKET_FAULTS:
            raise InvalidParameterError(f"{where}.fault: must be one of {', '.join(faults.SOCKET_FAULTS)}, "
                                        f"got {fault!r}")
        dribble = _dribble(spec.get("chunkedDribbleDelay"), where)
        return cls(status, headers, body, fixed, distribution, dribble, fault)


def _headers(spec: object, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: must be an object of name: value, got {spec!r}")
    pairs = []
    for name, value in spec.items():
        for v in value if isinstance(value, list) else [value]:
            if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                raise InvalidParameterError(f"{where}.{name}: must be a string or a list of them, got {v!r}")
            pairs.append((name, str(v)))
    return tuple(pairs)


def _dribble(spec: object, where: str) -> tuple[int, float] | None:
    if spec is None:
        return None
    where = f"{where}.chunkedDribbleDelay"
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: must be an object, got {spec!r}")
    chunks = spec.get("numberOfChunks")
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise InvalidParameterError(f"{where}.numberOfChunks: must be an integer >= 1, got {chunks!r}")
    return chunks, faults.parse_delay(spec.get("totalDuration"), f"{where}.totalDuration").ms


@dataclass
class StubMapping:
    """A parsed mapping; `spec` is its JSON (with id) as the admin API returns it."""

    id: str
    spec: dict
    request: RequestPattern
    response: ResponseDefinition
    name: str | None = None
    priority: int = DEFAULT_PRIORITY
    scenario: str | None = None
    required_state: str | None = None
    new_state: str | None = None
    times: int | None = None
    origin: str = "runtime"  # "startup" (loaded at start) or "runtime" (admin API, recording)
    seq: int = 0
    served: int = 0

    @property
    def label(self) -> str:
        return self.name or self.spec["request"].get("urlPath") or self.spec["request"].get("url") or self.id


def parse_mapping(spec: object, where: str = "mapping", *, origin: str = "runtime") -> StubMapping:
    """A StubMapping from WireMock JSON; an error names the field and the bad value."""
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: must be an object, got {spec!r}")
    unknown = sorted(set(spec) - MAPPING_KEYS)
    if unknown:
        raise InvalidParameterError(
            f"{where}: unknown key(s) {unknown}; expected some of {sorted(MAPPING_KEYS)}")
    stub_id = spec.get("id") or spec.get("uuid") or str(uuid.uuid4())
    try:
        stub_id = str(uuid.UUID(str(stub_id)))
    except ValueError as exc:
        raise InvalidParameterError(f"{where}.id: must be a UUID, got {stub_id!r}") from exc
    spec = copy.deepcopy(spec)
    spec.pop("uuid", None)
    spec["id"] = stub_id
    if "request" not in spec or "response" not in spec:
        raise InvalidParameterError(f"{where}: needs both request and response")
    priority = spec.get("priority", DEFAULT_PRIORITY)
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 1:
        raise InvalidParameterError(
            f"{where}.priority: must be an integer >= 1 (1 is highest), got {priority!r}")
    times = spec.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
        raise InvalidParameterError(f"{where}.times: must be an integer >= 0, got {times!r}")
    for key in ("name", "scenarioName", "requiredScenarioState", "newScenarioState"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise InvalidParameterError(f"{where}.{key}: must be a string, got {spec[key]!r}")
    scenario = spec.get("scenarioName")
    if scenario is None and (spec.get("requiredScenarioState") or spec.get("newScenarioState")):
        raise InvalidParameterError(f"{where}: requiredScenarioState/newScenarioState need scenarioName")
    if spec.get("metadata") is not None and not isinstance(spec["metadata"], dict):
        raise InvalidParameterError(f"{where}.metadata: must be an object, got {spec['metadata']!r}")
    return StubMapping(stub_id, spec, RequestPattern.parse(spec["request"], f"{where}.request"),
                       ResponseDefinition.parse(spec["response"], f"{where}.response"), spec.get("name"),
                       priority, scenario, spec.get("requiredScenarioState"), spec.get("newScenarioState"),
                       times, origin)


def load_mappings(path: str | Path) -> list[dict]:
    """The mapping specs in the JSON files under directory `path` (recursively), in file-name order.

    A file holds one mapping or {"mappings": [...]}. Each spec is checked; an error names the file.
    """
    root = Path(path)
    if not root.is_dir():
        raise InvalidParameterError(f"mappings directory {str(root)!r} does not exist")
    specs = []
    for file in sorted(root.rglob("*.json")):
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidParameterError(f"{file}: not readable JSON: {exc}") from exc
        wrapped = isinstance(document, dict) and "mappings" in document
        items = document["mappings"] if wrapped else [document]
        if not isinstance(items, list):
            raise InvalidParameterError(f"{file}: mappings must be a list")
        for i, spec in enumerate(items):
            parse_mapping(spec, f"{file}: mappings[{i}]")
            specs.append(spec)
    return specs


class StubMappings:
    """The stub store: WireMock's selection (priority, then newest) plus scenario states."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._stubs: dict[str, StubMapping] = {}
        self._ordered: list[StubMapping] | None = None
        self._seq = 0
        self._states: dict[str, str] = {}

    # ---- the store
    def add(self, stub: StubMapping) -> StubMapping:
        with self._lock:
            self._seq += 1
            stub.seq = self._seq
            self._stubs[stub.id] = stub
            self._ordered = None
            if stub.scenario is not None:
                self._states.setdefault(stub.scenario, STARTED)
            return stub

    def get(self, stub_id: str) -> StubMapping:
        with self._lock:
            stub = self._stubs.get(stub_id)
        if stub is None:
            raise NotFound(f"no stub mapping with id {stub_id!r}")
        return stub

    def replace(self, stub_id: str, stub: StubMapping) -> StubMapping:
        """PUT: the stub keeps its id and its place in the order."""
        with self._lock:
            old = self.get(stub_id)
            stub.id, stub.spec["id"], stub.seq, stub.origin = old.id, old.id, old.seq, old.origin
            self._stubs[stub_id] = stub
            self._ordered = None
            if stub.scenario is not None:
                self._states.setdefault(stub.scenario, STARTED)
            return stub

    def remove(self, stub_id: str) -> StubMapping:
        with self._lock:
            stub = self.get(stub_id)
            del self._stubs[stub_id]
            self._ordered = None
            self._forget_scenarios()
            return stub

    def clear(self, origin: str | None = None) -> int:
        """Remove every stub (or those of one origin); returns how many went."""
        with self._lock:
            gone = [s.id for s in self._stubs.values() if origin is None or s.origin == origin]
            for stub_id in gone:
                del self._stubs[stub_id]
            self._ordered = None
            self._forget_scenarios()
            return len(gone)

    def all(self) -> list[StubMapping]:
        """Every stub in the order they are tried: priority (1 first), then most recently added."""
        with self._lock:
            if self._ordered is None:
                self._ordered = sorted(self._stubs.values(), key=lambda s: (s.priority, -s.seq))
            return list(self._ordered)

    def __len__(self) -> int:
        return len(self._stubs)

    # ---- serving
    def serve(self, view: RequestView) -> StubMapping | None:
        """The stub that answers `view`, counted and with its scenario moved on, or None."""
        if not self._stubs:
            return None
        with self._lock:
            for stub in self.all():
                if stub.times is not None and stub.served >= stub.times:
                    continue
                if stub.required_state is not None and (stub.scenario is None or
                                                        self._states.get(stub.scenario) != stub.required_state):
                    continue
                if not stub.request.matches(view):
                    continue
                stub.served += 1
                if stub.new_state is not None and stub.scenario is not None:
                    self._states[stub.scenario] = stub.new_state
                return stub
        return None

    def near_misses(self, view: RequestView, limit: int = 3) -> list[tuple[StubMapping, MatchResult]]:
        """The `limit` stubs closest to `view` by distance."""
        ranked = [(stub, stub.request.match(view)) for stub in self.all()]
        return sorted(ranked, key=lambda pair: pair[1].distance)[:limit]

    # ---- scenarios
    def _forget_scenarios(self) -> None:
        used = {s.scenario for s in self._stubs.values() if s.scenario is not None}
        self._states = {name: state for name, state in self._states.items() if name in used}

    def scenarios(self) -> list[dict]:
        with self._lock:
            out = []
            for name in sorted(self._states):
                stubs = [s for s in self._stubs.values() if s.scenario == name]
                states = {STARTED} | {s.required_state for s in stubs if s.required_state} | {
                    s.new_state for s in stubs if s.new_state}
                out.append({"id": name, "name": name, "state": self._states[name],
                            "possibleStates": sorted(states, key=lambda x: (x != STARTED, x)),
                            "mappings": [s.id for s in stubs]})
            return out

    def reset_scenarios(self) -> None:
        with self._lock:
            self._states = {name: STARTED for name in self._states}

    def set_state(self, name: str, state: str | None) -> None:
        """Move scenario `name` to `state` (None: back to Started)."""
        with self._lock:
            if name not in self._states:
                raise NotFound(f"no scenario named {name!r}")
            state = state or STARTED
            possible = next(s["possibleStates"] for s in self.scenarios() if s["name"] == name)
            if state not in possible:
                raise InvalidParameterError(f"state: {state!r} is not a state of scenario {name!r}; "
                                            f"possible: {possible}")
            self._states[name] = state


def render(stub: StubMapping, environ: t.Mapping[str, object], seed: int) -> Response:
    """The werkzeug Response for `stub` (body, dribble or socket fault); delays happen before."""
    definition = stub.response
    if definition.fault is not None:
        junk = faults.garbage(seed, f"{stub.id}:{stub.served}")
        response = Response(faults.SocketFault(definition.fault, environ, junk), status=200,
                            direct_passthrough=True)
        return response
    if definition.dribble is not None:
        chunks, total_ms = definition.dribble
        response = Response(faults.dribble(definition.body, chunks, total_ms), status=definition.status,
                            direct_passthrough=True)
    else:
        response = Response(definition.body, status=definition.status)
    del response.headers["Content-Type"]
    for name, value in definition.headers:
        response.headers.add(name, value)
    return response
