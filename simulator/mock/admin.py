"""simulator.mock.admin: the WireMock-style admin API at /__admin (JSON in and out) and a client for it."""
from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path

import requests
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request

from . import faults as faultlib
from . import recording
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from ..pi.errors import error_response
from .journal import near_misses
from .matching import RequestPattern
from .matching import view_from_json
from .stubs import NotFound
from .store import EXTENSION
from .store import Mock
from .stubs import parse_mapping

bp = Blueprint("admin", __name__, url_prefix="/__admin")
bp.register_error_handler(PIError, error_response)


def _mock() -> Mock:
    return current_app.extensions[EXTENSION]


def _body(required: bool = True) -> t.Any:
    """The JSON body; an empty body is None (or a 400 when `required`)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise InvalidParameterError(f"{request.method} {request.path}: a JSON body is required")
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        where = f"{request.method} {request.path}"
        raise InvalidParameterError(f"{where}: body is not valid JSON: {exc}") from exc


def _json(document: object, status: int = 200) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), status=status, mimetype="application/json")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidParameterError(f"query parameter {name}: must be an integer, got {value!r}") from None
    if number < 0:
        raise InvalidParameterError(f"query parameter {name}: must be >= 0, got {value!r}")
    return number


# --------------------------------------------------------------------------- health, settings, reset


@bp.get("/health")
def get_health():
    mock = _mock()
    return _json({"status": "healthy", "stubs": len(mock.stubs), "journal": len(mock.journal),
                  "recording": mock.recorder.state})


@bp.get("/settings")
def get_settings():
    return _json(_mock().settings())


@bp.route("/settings", methods=["POST", "PUT"])
def post_settings():
    return _json(_mock().update_settings(_body()))


@bp.post("/reset")
def post_reset():
    _mock().reset()
    return _json({})


# --------------------------------------------------------------------------- mappings


@bp.get("/mappings")
def get_mappings():
    stubs = _mock().stubs.all()
    offset, limit = _int_arg("offset") or 0, _int_arg("limit")
    page = stubs[offset:] if limit is None else stubs[offset:offset + limit]
    return _json({"mappings": [s.spec for s in page], "meta": {"total": len(stubs)}})


@bp.post("/mappings")
def post_mapping():
    return _json(_mock().add_stub(_body()).spec, 201)


@bp.delete("/mappings")
def delete_mappings():
    _mock().stubs.clear()
    return _json({})


@bp.post("/mappings/reset")
def post_mappings_reset():
    _mock().reset_mappings()
    return _json({})


@bp.post("/mappings/import")
def post_mappings_import():
    body = _body()
    specs = body.get("mappings") if isinstance(body, dict) else None
    if not isinstance(specs, list):
        raise InvalidParameterError(f"mappings: must be a list of stub mappings, got {specs!r}")
    parsed = [parse_mapping(spec, f"mappings[{i}]") for i, spec in enumerate(specs)]  # all or nothing
    mock = _mock()
    return _json({"ids": [mock.stubs.add(stub).id for stub in parsed]})


@bp.post("/mappings/save")
def post_mappings_save():
    body = _body(required=False) or {}
    mock = _mock()
    directory = body.get("directory") if isinstance(body, dict) else None
    directory = directory or mock.mappings_dir
    if not directory:
        raise InvalidParameterError('mappings/save: give {"directory": ...} or configure mappings_dir')
    paths = recording.write_mappings([s.spec for s in mock.stubs.all()], directory)
    return _json({"directory": str(Path(directory)), "files": [p.name for p in paths]})


@bp.get("/mappings/<stub_id>")
def get_mapping(stub_id: str):
    return _json(_mock().stubs.get(stub_id).spec)


@bp.put("/mappings/<stub_id>")
def put_mapping(stub_id: str):
    mock = _mock()
    mock.stubs.get(stub_id)  # 404 before 400
    spec = _body()
    if isinstance(spec, dict):
        spec = {**spec, "id": stub_id}
    return _json(mock.stubs.replace(stub_id, parse_mapping(spec)).spec)


@bp.delete("/mappings/<stub_id>")
def delete_mapping(stub_id: str):
    return _json(_mock().stubs.remove(stub_id).spec)


# --------------------------------------------------------------------------- scenarios


@bp.get("/scenarios")
def get_scenarios():
    return _json({"scenarios": _mock().stubs.scenarios()})


@bp.post("/scenarios/reset")
def post_scenarios_reset():
    _mock().stubs.reset_scenarios()
    return _json({})


@bp.put("/scenarios/<name>/state")
def put_scenario_state(name: str):
    body = _body(required=False) or {}
    state = body.get("state") if isinstance(body, dict) else None
    if state is not None and not isinstance(state, str):
        raise InvalidParameterError(f"state: must be a string, got {state!r}")
    _mock().stubs.set_state(name, state)
    return _json({})


# --------------------------------------------------------------------------- journal


@bp.get("/requests")
def get_requests():
    mock = _mock()
    since_id, since_ticks = _since(request.args.get("since"))
    entries = mock.journal.entries(limit=_int_arg("limit"), since=since_id, since_ticks=since_ticks)
    return _json({"requests": [e.to_json() for e in entries], "meta": {"total": len(mock.journal)}})


def _since(value: str | None) -> tuple[int | None, int | None]:
    """`since` is a journal id or an ISO 8601 time."""
    if value is None:
        return None, None
    if value.isdigit():
        return int(value), None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidParameterError(f"query parameter since: must be a journal id or an ISO 8601 time, "
                                    f"got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return None, int(moment.timestamp() * 1_000_000) * 10


@bp.delete("/requests")
def delete_requests():
    _mock().journal.clear()
    return _json({})


@bp.get("/requests/<int:entry_id>")
def get_request(entry_id: int):
    entry = _mock().journal.get(entry_id)
    if entry is None:
        raise NotFound(f"no journaled request with id {entry_id}")
    return _json(entry.to_json())


@bp.post("/requests/count")
def post_requests_count():
    return _json({"count": _mock().journal.count(RequestPattern.parse(_body()))})


@bp.post("/requests/find")
def post_requests_find():
    return _json({"requests": [e.to_json() for e in _mock().journal.find(RequestPattern.parse(_body()))]})


@bp.post("/requests/remove")
def post_requests_remove():
    return _json({"removed": _mock().journal.remove(RequestPattern.parse(_body()))})


@bp.get("/requests/unmatched")
def get_requests_unmatched():
    return _json({"requests": [e.to_json() for e in _mock().journal.unmatched()]})


@bp.get("/requests/unmatched/near-misses")
def get_unmatched_near_misses():
    mock = _mock()
    found = []
    for entry in mock.journal.unmatched():
        found.extend({**miss, "requestId": entry.id} for miss in near_misses(entry.view(), mock.stubs))
    return _json({"nearMisses": found})


@bp.post("/near-misses/request")
def post_near_misses_request():
    mock = _mock()
    return _json({"nearMisses": near_misses(view_from_json(_body()), mock.stubs)})


@bp.post("/near-misses/request-pattern")
def post_near_misses_pattern():
    spec = _body()
    closest = _mock().journal.closest(RequestPattern.parse(spec))
    return _json({"nearMisses": [{"request": e.to_json(bodies=False), "requestPattern": spec,
                                  "matchResult": {"distance": round(d, 6)}} for e, d in closest]})


# --------------------------------------------------------------------------- faults


@bp.get("/faults")
def get_faults():
    return _json(_mock().faults.to_json())


@bp.post("/faults")
def post_fault():
    mock = _mock()
    rule = mock.faults.add(faultlib.parse_fault(_body()))
    return _json({**rule.to_json(), "faultsEnabled": mock.faults.enabled}, 201)


@bp.delete("/faults")
def delete_faults():
    """Switch every rule off (scenario and runtime); POST /__admin/settings or /reset turns them on."""
    mock = _mock()
    mock.faults.enabled = False
    return _json(mock.faults.to_json())


@bp.delete("/faults/<name>")
def delete_fault(name: str):
    if not _mock().faults.remove(name):
        raise NotFound(f"no fault rule named {name!r}")
    return _json({})


# --------------------------------------------------------------------------- recordings


@bp.post("/recordings/start")
def post_recordings_start():
    mock = _mock()
    mock.recorder.start(recording.RecordSpec.from_json(_body(), need_target=True))
    return _json(mock.recorder.status())


@bp.get("/recordings/status")
def get_recordings_status():
    return _json(_mock().recorder.status())


@bp.post("/recordings/stop")
def post_recordings_stop():
    body = _body(required=False) or {}
    if not isinstance(body, dict):
        raise InvalidParameterError(f"recordings/stop: body must be an object, got {body!r}")
    mock = _mock()
    spec, exchanges = mock.recorder.stop()
    mappings = recording.to_mappings(exchanges, spec.capture_headers,
                                     repeats_as_scenarios=spec.repeats_as_scenarios)
    return _json(_keep(mock, mappings, persist=bool(body.get("persist", spec.persist)),
                       directory=body.get("directory")))


@bp.post("/recordings/snapshot")
def post_recordings_snapshot():
    body = _body(required=False) or {}
    if not isinstance(body, dict):
        raise InvalidParameterError(f"recordings/snapshot: body must be an object, got {body!r}")
    directory = body.pop("directory", None)
    spec = recording.RecordSpec.from_json(body, need_target=False)
    mock = _mock()
    mappings, skipped = recording.snapshot(list(reversed(mock.journal.entries())), spec)
    return _json({**_keep(mock, mappings, persist=spec.persist, directory=directory), "skipped": skipped})


def _keep(mock: Mock, mappings: list[dict], *, persist: bool, directory: object) -> dict:
    mappings = [recording.redact_mapping(m) for m in mappings]
    if persist:
        for spec in mappings:
            mock.add_stub(spec)
    out: dict[str, t.Any] = {"mappings": mappings}
    if directory:
        if not isinstance(directory, str):
            raise InvalidParameterError(f"directory: must be a path string, got {directory!r}")
        out["files"] = [p.name for p in recording.write_mappings(mappings, directory)]
    return out


# --------------------------------------------------------------------------- client


class AdminClient:
    """The admin API over HTTP for tests: ``AdminClient("http://127.0.0.1:8080").stub({...})``."""

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float = 30.0):
        self.base = base_url.rstrip("/") + "/__admin"
        self.session = session or requests.Session()
        self.session.trust_env = False
        self.timeout = timeout

    def _call(self, method: str, path: str, body: object = None) -> t.Any:
        response = self.session.request(method, self.base + path, timeout=self.timeout,
                                        json=body if body is not None else None)
        if response.status_code >= 400:
            raise PIError(f"{method} {path}: {response.status_code} {response.text}",
                          status=response.status_code)
        return response.json() if response.content else None

    def stub(self, mapping: dict) -> dict:
        return self._call("POST", "/mappings", mapping)

    def stubs(self) -> list[dict]:
        return self._call("GET", "/mappings")["mappings"]

    def remove_stub(self, stub_id: str) -> None:
        self._call("DELETE", f"/mappings/{stub_id}")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def requests(self, limit: int | None = None) -> list[dict]:
        return self._call("GET", "/requests" + (f"?limit={limit}" if limit is not None else ""))["requests"]

    def count(self, pattern: dict) -> int:
        return self._call("POST", "/requests/count", pattern)["count"]

    def find(self, pattern: dict) -> list[dict]:
        return self._call("POST", "/requests/find", pattern)["requests"]

    def unmatched(self) -> list[dict]:
        return self._call("GET", "/requests/unmatched")["requests"]

    def near_misses(self) -> list[dict]:
        return self._call("GET", "/requests/unmatched/near-misses")["nearMisses"]

    def add_fault(self, **fields: object) -> dict:
        return self._call("POST", "/faults", fields)

    def faults(self) -> dict:
        return self._call("GET", "/faults")

    def remove_fault(self, name: str) -> None:
        self._call("DELETE", f"/faults/{name}")

    def faults_off(self) -> None:
        self._call("DELETE", "/faults")

    def scenarios(self) -> list[dict]:
        return self._call("GET", "/scenarios")["scenarios"]

    def set_state(self, scenario: str, state: str | None = None) -> None:
        self._call("PUT", f"/scenarios/{scenario}/state", {"state": state} if state else {})

    def settings(self, **values: object) -> dict:
        return self._call("POST", "/settings", values) if values else self._call("GET", "/settings")

    def start_recording(self, target: str, **spec: object) -> dict:
        return self._call("POST", "/recordings/start", {"targetBaseUrl": target, **spec})

    def stop_recording(self, **options: object) -> list[dict]:
        return self._call("POST", "/recordings/stop", options)["mappings"]

    def snapshot(self, **spec: object) -> dict:
        return self._call("POST", "/recordings/snapshot", spec)
