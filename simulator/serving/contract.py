"""simulator.serving.contract: check responses against contracts/piwebapi.yaml, fast enough for every test."""
from __future__ import annotations

import re
import threading
import typing as t
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import jsonschema_rs
import orjson
import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "contracts" / "piwebapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ALWAYS = "x-pisim-always"
# Schema Object keywords that are annotations, or that have no JSON Schema meaning once converted.
_DROP = frozenset({"description", "title", "example", "examples", "format", "discriminator", "readOnly",
                   "writeOnly", "xml", "externalDocs", "deprecated", "nullable", "default"})
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_JSON_MEDIA = re.compile(r"^(application|text)/([\w.+-]*\+)?json$")
_BODY_PREVIEW = 200
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContractError(Exception):
    """The contract file itself is broken (unreadable YAML, unresolvable or recursive $ref)."""


class ContractViolation(AssertionError):
    """A response does not agree with the contract."""


@dataclass
class Operation:
    """One (method, path template) of the contract, with its dereferenced OpenAPI operation object."""

    method: str
    path: str
    operation_id: str
    spec: dict = field(repr=False)
    regex: t.Pattern[str] = field(repr=False)
    literal_segments: int = field(repr=False, default=0)
    validators: dict = field(repr=False, default_factory=dict)

    @property
    def responses(self) -> dict:
        return self.spec.get("responses", {})

    def response_spec(self, status: int) -> dict | None:
        """The documented response for `status`: the exact code, else its `4XX` range, else `default`."""
        responses = self.responses
        return responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")


class Contract:
    """The parsed contract: operation lookup and response validation."""

    _cache: dict[Path, Contract] = {}
    _cache_lock = threading.Lock()

    def __init__(self, document: dict, path: Path | None = None) -> None:
        self.path = path
        self.document = document
        self.resolved = _dereference(document)
        self._operations: list[Operation] = []
        self._by_path: dict[str, list[Operation]] = {}
        self._lock = threading.Lock()
        for template, item in self.resolved.get("paths", {}).items():
            regex, literal = _compile_template(template)
            shared = item.get("parameters", [])
            for method in METHODS:
                if method not in item:
                    continue
                spec = dict(item[method])
                if shared:
                    spec["parameters"] = list(shared) + list(spec.get("parameters", []))
                operation = Operation(method.upper(), template, spec.get("operationId", ""), spec, regex,
                                      literal)
                self._operations.append(operation)
                self._by_path.setdefault(template, []).append(operation)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Contract:
        """The contract at `path` (default: this repository's contracts/piwebapi.yaml), parsed once."""
        resolved = Path(path).resolve() if path is not None else DEFAULT_PATH
        with cls._cache_lock:
            contract = cls._cache.get(resolved)
            if contract is None:
                try:
                    document = yaml.load(resolved.read_text(encoding="utf-8"), Loader=_LOADER)
                except (OSError, yaml.YAMLError) as exc:
                    raise ContractError(f"{resolved}: {exc}") from exc
                contract = cls._cache[resolved] = cls(document, resolved)
        return contract

    def operations(self) -> list[tuple[str, str, str]]:
        """Every (METHOD, path template, operationId) of the contract, in document order."""
        return [(op.method, op.path, op.operation_id) for op in self._operations]

    def match(self, method: str, path: str) -> Operation | None:
        """The operation serving `method path` (HEAD as GET; the most literal template wins), or None.

        Matching ignores case (PI's paths are case-insensitive) and one trailing slash.
        """
        method = method.upper()
        if method == "HEAD":
            method = "GET"
        for operation in self._match_path(path):
            if operation.method == method:
                return operation
        return None

    def _match_path(self, path: str) -> list[Operation]:
        path = path.split("?", 1)[0]
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        best: list[Operation] = []
        best_score = -1
        for operations in self._by_path.values():
            first = operations[0]
            if first.literal_segments > best_score and first.regex.match(path):
                best, best_score = operations, first.literal_segments
        return best

    def validate_response(self, method: str, path: str, status: int, headers: t.Mapping[str, str],
                          body: bytes, *, query: t.Mapping[str, t.Any] | None = None) -> None:
        """Raise ContractViolation unless the response agrees with the contract.

        Checked: the operation exists (an unknown path may only answer a PI 404, a known path with an
        undocumented method only a 405; OPTIONS of a known path is the framework's and passes), the
        status is documented, required headers are present, the
        Content-Type is documented, the body is JSON and matches the schema, and, when `query` has no
        ``selectedFields``, every ``x-pisim-always`` field is present.
        """
        status = int(status)
        if method.upper() == "OPTIONS" and self._match_path(path) and status in (200, 204):
            return  # the framework's own answer (an Allow header), like HEAD not part of the contract
        operation = self.match(method, path) or self._fallback_operation(method, path, status, body)
        where = f"{method.upper()} {path} ({operation.operation_id}) -> {status}"
        response = operation.response_spec(status)
        if response is None:
            raise ContractViolation(f"{where}: status {status} is not documented "
                                    f"(documented: {', '.join(operation.responses)}){_preview(body)}")
        lowered = {str(name).lower(): value for name, value in headers.items()}
        for name, header in (response.get("headers") or {}).items():
            if header.get("required") and name.lower() not in lowered:
                raise ContractViolation(f"{where}: required header {name} is missing{_preview(body)}")
        content = response.get("content")
        if not content:
            if body:
                raise ContractViolation(f"{where}: a body was sent but none is documented{_preview(body)}")
            return
        if method.upper() == "HEAD":
            return
        content_type = str(lowered.get("content-type", "")).split(";", 1)[0].strip().lower()
        media = _pick_media(content, content_type)
        if media is None:
            raise ContractViolation(f"{where}: Content-Type {content_type or '(none)'} is not documented "
                                    f"(documented: {', '.join(content)}){_preview(body)}")
        if not _JSON_MEDIA.match(media):
            return
        try:
            instance = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ContractViolation(f"{where}: the body is not JSON ({exc}){_preview(body)}") from None
        validator = self._validator(operation, status, media, strict=not _has_selected_fields(query))
        if validator is None or validator.is_valid(instance):
            return
        error = next(iter(validator.iter_errors(instance)))
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.instance_path)
        keyword = "/".join(str(p) for p in error.schema_path)
        raise ContractViolation(f"{where}: the body at {pointer or '/'} fails the schema ({keyword}): "
                                f"{error.message}{_preview(body)}")

    def _fallback_operation(self, method: str, path: str, status: int, body: bytes) -> Operation:
        """The response spec to hold an unrouted request to, or a ContractViolation."""
        others = self._match_path(path)
        if others and status == 405:
            return next((op for op in others if op.response_spec(405)), others[0])
        if not others and status == 404:
            for operation in self._operations:
                response = operation.response_spec(404)
                if response is not None and operation.path.lower().startswith("/piwebapi"):
                    spec = {"operationId": "no route", "responses": {"404": response}}
                    return Operation(method.upper(), path, "no route", spec, re.compile(r"(?!)"))
        known = f"it allows {', '.join(op.method for op in others)}" if others else "no such path"
        raise ContractViolation(f"{method.upper()} {path} -> {status}: not in the contract ({known})"
                                f"{_preview(body)}")

    def _validator(self, operation: Operation, status: int, media: str, *, strict: bool):
        key = (status, media, strict)
        if key not in operation.validators:
            with self._lock:
                if key not in operation.validators:
                    content = (operation.response_spec(status) or {}).get("content") or {}
                    schema = (content.get(media) or {}).get("schema")
                    operation.validators[key] = None if schema is None else jsonschema_rs.Draft7Validator(
                        to_json_schema(schema, strict=strict), validate_formats=False)
        return operation.validators[key]


def to_json_schema(schema: t.Any, *, strict: bool = False) -> t.Any:
    """A dereferenced OpenAPI 3.0 Schema Object as Draft 7 JSON Schema.

    ``nullable`` becomes a ``null`` alternative, annotations and ``format`` are dropped, boolean
    ``exclusiveMinimum``/``exclusiveMaximum`` become numbers, and with `strict` every
    ``x-pisim-always`` list is added to ``required`` (unless the object carries a ``WebException``:
    a member that could not be read).
    """
    memo: dict[int, t.Any] = {}

    def convert(node: t.Any) -> t.Any:
        if not isinstance(node, dict):
            return node
        done = memo.get(id(node))
        if done is not None:
            return done
        out: dict[str, t.Any] = {}
        for key, value in node.items():
            if key in _DROP or key.startswith("x-"):
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {name: convert(sub) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not"):
                out[key] = convert(value)
            elif key in _SCHEMA_LISTS:
                out[key] = [convert(sub) for sub in value]
            else:
                out[key] = value
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if out.get(bound) is True and limit in out:
                out[bound] = out.pop(limit)
            elif out.get(bound) is False:
                del out[bound]
        if strict and node.get(ALWAYS):
            always = list(dict.fromkeys([*out.get("required", []), *node[ALWAYS]]))
            if "WebException" in node.get("properties", {}):
                # an object that failed (a stream set member it could not read) carries its WebId and
                # WebException instead of the full set of fields
                out["if"] = {"required": ["WebException"]}
                out["else"] = {"required": always}
            else:
                out["required"] = always
        if node.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str) and not any(k in out for k in _SCHEMA_LISTS):
                out["type"] = [kind, "null"]
                if "enum" in out and None not in out["enum"]:
                    out["enum"] = [*out["enum"], None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        memo[id(node)] = out
        return out

    return convert(schema)


def _dereference(document: dict) -> dict:
    """A copy of `document` with every local ``$ref`` replaced by its (shared) target."""
    memo: dict[str, t.Any] = {}
    active: set[str] = set()

    def target(pointer: str) -> t.Any:
        if not pointer.startswith("#/"):
            raise ContractError(f"only local $refs are supported: {pointer}")
        node: t.Any = document
        for part in pointer[2:].split("/"):
            try:
                node = node[part.replace("~1", "/").replace("~0", "~")]
            except (KeyError, TypeError):
                raise ContractError(f"unresolvable $ref: {pointer}") from None
        return node

    def walk(node: t.Any) -> t.Any:
        if isinstance(node, dict):
            pointer = node.get("$ref")
            if isinstance(pointer, str):
                if pointer not in memo:
                    if pointer in active:
                        raise ContractError(f"recursive $ref is not supported: {pointer}")
                    active.add(pointer)
                    memo[pointer] = walk(target(pointer))
                    active.discard(pointer)
                return memo[pointer]
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return walk(document)


def _compile_template(template: str) -> tuple[t.Pattern[str], int]:
    """A case-insensitive regex for a path template, and how many of its segments are literal."""
    pattern, literal = "", 0
    for part in (p for p in template.strip("/").split("/") if p):
        pieces = (p for p in re.split(r"(\{[^}/]+\})", part) if p)
        pattern += "/" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces)
        literal += "{" not in part
    return re.compile(f"^{pattern or '/'}$", re.IGNORECASE), literal


def _pick_media(content: dict, content_type: str) -> str | None:
    if not content_type:
        return next(iter(content))
    if content_type in content:
        return content_type
    if _JSON_MEDIA.match(content_type) and "application/json" in content:
        return "application/json"
    for candidate in (content_type.split("/", 1)[0] + "/*", "*/*"):
        if candidate in content:
            return candidate
    return None


def _has_selected_fields(query: t.Mapping[str, t.Any] | None) -> bool:
    return query is not None and any(str(name).lower() == "selectedfields" for name in query.keys())


def _preview(body: bytes) -> str:
    if not body:
        return "; body: (empty)"
    more = "..." if len(body) > _BODY_PREVIEW else ""
    return f"; body: {body[:_BODY_PREVIEW].decode('utf-8', errors='replace')}{more}"


def install_validation(app) -> None:
    """Check every response of `app` against the contract (settings.validate_responses, for debugging).

    A response that breaks the contract raises ContractViolation, which Flask turns into a 500, so
    a fuzzer or a test sees it at once.
    """
    from flask import request

    contract = Contract.load()

    @app.after_request
    def validate(response):
        if response.direct_passthrough or request.path.startswith("/__admin"):
            return response
        contract.validate_response(request.method, request.path, response.status_code, response.headers,
                                   response.get_data(), query=request.args)
        return response
