"""tests for contracts/piwebapi.yaml (valid, agrees with PI Web API 2018 SP1) and simulator.serving.contract."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import orjson
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the package is not installed in the venv; run from the checkout
    sys.path.insert(0, str(REPO))

from simulator.serving.contract import Contract  # noqa: E402
from simulator.serving.contract import ContractViolation  # noqa: E402

CONTRACT_PATH = REPO / "contracts" / "piwebapi.yaml"
OFFICIAL_PATH = REPO.parent / "shared" / "reference" / "piwebapi-swagger.json"

PI_ERROR_CODES = ("400", "401", "403", "404", "405", "409", "413", "429", "502", "503")
REQUIRED_ERROR_HEADERS = {"401": "WWW-Authenticate", "405": "Allow"}
OPTIONAL_ERROR_HEADERS = {"429": "Retry-After", "502": "Retry-After", "503": "Retry-After"}

# Deliberate differences from the official spec, each with its reason.
SCHEMA_DEVIATIONS = {
    ("TimedValues", "Links"): "PI emits a top-level Links ({}) on stream value lists and clients select it "
                              "(selectedFields=Links;Items...); the 2018 SP1 definition omits it",
    ("ExtendedTimedValues", "Links"): "same as TimedValues.Links",
}
PARAM_DEVIATIONS: dict[tuple[str, str], str] = {
    # (operationId, query parameter): reason. Empty: every query parameter we declare exists in the
    # official operation (or its '#name'/'#path' variant) with the same type and the same stated default.
}
RESPONSE_DEVIATIONS = {
    "DataServer_List": "one operation for List/GetByName/GetByPath: Items[DataServer] or one DataServer",
    "AssetServer_List": "one operation for List/GetByName/GetByPath: Items[AssetServer] or one AssetServer",
    "StreamSet_GetEndAdHoc": "2018 SP1 declares Items[StreamValues]; the end value of a stream set is one "
                             "StreamValue per stream, as StreamSet_GetEnd declares",
}
# Our schemas without an official counterpart (listed so that a typo cannot silently skip a comparison).
NON_OFFICIAL_SCHEMAS = {
    "PITimestamp": "a shared string pattern, not an object",
    "DigitalValue": "the {Name, Value, IsSystem} value of a digital or system state",
    "AnyValue": "the union a TimedValue.Value may hold",
    "WriteValue": "the union a written TimedValue.Value may hold (AnyValue without arrays and error values)",
    "ErrorValue": "a bad value {Name, Value} (a scenario's bad_values)",
    "ErrorsValue": "a bad value {Errors: [...]} (a scenario's bad_values)",
    "Versions": "the map System_Versions returns (an inline object in the official spec)",
    "BatchRequest": "the map Batch_Execute takes (an inline object in the official spec)",
    "BatchResponse": "the map Batch_Execute returns (an inline object in the official spec)",
    "Health": "the simulator's own /health",
    "AdminObject": "the simulator's own /__admin bodies",
}
NEW_OPERATION_IDS = {"Point_GetPointsBySearch"}  # in the current AVEVA reference, not in 2018 SP1

STREAM_READS = ("value", "end", "recorded", "interpolated", "plot", "summary")
EXPECTED_OPERATIONS = {
    ("GET", path) for path in [
        "/piwebapi", "/piwebapi/system", "/piwebapi/system/userinfo", "/piwebapi/system/versions",
        "/piwebapi/system/status",
        "/piwebapi/dataservers", "/piwebapi/dataservers/{webId}", "/piwebapi/dataservers/{webId}/points",
        "/piwebapi/dataservers/{webId}/enumerationsets",
        "/piwebapi/points", "/piwebapi/points/{webId}", "/piwebapi/points/multiple",
        "/piwebapi/points/search",
        *[f"/piwebapi/streams/{{webId}}/{read}" for read in STREAM_READS + ("recordedattime",
                                                                            "interpolatedattimes")],
        *[f"/piwebapi/streamsets/{read}" for read in STREAM_READS],
        *[f"/piwebapi/streamsets/{{webId}}/{read}" for read in STREAM_READS],
        "/piwebapi/assetservers", "/piwebapi/assetservers/{webId}",
        "/piwebapi/assetservers/{webId}/assetdatabases",
        "/piwebapi/assetdatabases", "/piwebapi/assetdatabases/{webId}",
        "/piwebapi/assetdatabases/{webId}/elements", "/piwebapi/assetdatabases/{webId}/elementtemplates",
        "/piwebapi/assetdatabases/{webId}/eventframes",
        "/piwebapi/elements", "/piwebapi/elements/{webId}", "/piwebapi/elements/{webId}/elements",
        "/piwebapi/elements/{webId}/attributes", "/piwebapi/elements/{webId}/eventframes",
        "/piwebapi/attributes", "/piwebapi/attributes/{webId}", "/piwebapi/attributes/{webId}/attributes",
        "/piwebapi/attributes/{webId}/value", "/piwebapi/eventframes/{webId}",
        "/piwebapi/eventframes/{webId}/attributes", "/piwebapi/eventframes/{webId}/referencedelements",
        "/piwebapi/elementtemplates/{webId}", "/piwebapi/streams/updates/{marker}", "/piwebapi/streamsets/updates",
        "/health",
        "/__admin/mappings", "/__admin/mappings/{id}", "/__admin/requests", "/__admin/requests/unmatched",
        "/__admin/requests/unmatched/near-misses", "/__admin/scenarios", "/__admin/faults",
        "/__admin/settings", "/__admin/recordings/status",
    ]
} | {
    ("POST", path) for path in [
        "/piwebapi/batch", "/piwebapi/streams/{webId}/value", "/piwebapi/streams/{webId}/recorded",
        "/piwebapi/streamsets/recorded", "/piwebapi/streams/{webId}/updates", "/piwebapi/streamsets/updates",
        "/__admin/mappings", "/__admin/mappings/reset", "/__admin/requests/count",
        "/__admin/requests/find", "/__admin/scenarios/reset", "/__admin/faults", "/__admin/reset",
        "/__admin/settings", "/__admin/recordings/start", "/__admin/recordings/stop",
        "/__admin/recordings/snapshot",
    ]
} | {
    ("PUT", "/__admin/mappings/{id}"), ("PUT", "/__admin/scenarios/{name}/state"),
} | {
    ("DELETE", path) for path in ["/__admin/mappings", "/__admin/mappings/{id}", "/__admin/requests",
                                  "/__admin/faults/{name}"]
}


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.load()


@pytest.fixture(scope="module")
def official() -> dict:
    if not OFFICIAL_PATH.is_file():
        pytest.skip(f"the official PI Web API 2018 SP1 spec is not at {OFFICIAL_PATH}")
    return json.loads(OFFICIAL_PATH.read_text(encoding="utf-8"))


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                yield method.upper(), path, operation


def _pointer(document, ref):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        node = _pointer(document, node["$ref"])
    return node


# ---------------------------------------------------------------- the document itself

def test_contract_is_a_valid_openapi_30_document(document):
    from openapi_spec_validator import OpenAPIV30SpecValidator

    assert document["openapi"] == "3.0.3"
    errors = list(OpenAPIV30SpecValidator(document).iter_errors())
    assert not errors, "\n".join(str(error.message) for error in errors[:10])


def test_openapi_core_accepts_the_contract():
    from openapi_core import OpenAPI

    OpenAPI.from_file_path(str(CONTRACT_PATH))


def test_every_ref_resolves(document):
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert len(refs) > 100
    unresolved = []
    for ref in sorted(refs):
        try:
            _pointer(document, ref)
        except (KeyError, TypeError, AssertionError):
            unresolved.append(ref)
    assert not unresolved


def test_info_servers_and_security(document):
    assert document["info"]["title"] == "PI Web API simulator contract"
    assert "2018 SP1" in document["info"]["description"]
    assert document["servers"] == [{"url": "/"}]
    assert document["security"] == [{}, {"basic": []}, {"bearer": []}]
    schemes = document["components"]["securitySchemes"]
    assert (schemes["basic"]["type"], schemes["basic"]["scheme"]) == ("http", "basic")
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")


def test_every_expected_operation_is_present(contract):
    present = {(method, path) for method, path, _ in contract.operations()}
    assert EXPECTED_OPERATIONS - present == set()
    assert present - EXPECTED_OPERATIONS == set()


def test_every_operation_has_an_id_a_success_response_and_the_error_responses(document):
    seen = set()
    for method, path, operation in _operations(document):
        op_id = operation.get("operationId")
        assert op_id, f"{method} {path} has no operationId"
        assert op_id not in seen, f"duplicate operationId {op_id}"
        seen.add(op_id)
        responses = operation["responses"]
        assert {"200", "201", "202", "204", "207"} & set(responses), f"{op_id}: no success response"
        assert "405" in responses, f"{op_id}: no 405"
        if not path.startswith("/piwebapi"):
            continue
        assert re.fullmatch(r"[A-Z][A-Za-z]+_[A-Z][A-Za-z]+", op_id), f"{op_id}: not named like PI's"
        missing = [code for code in PI_ERROR_CODES if code not in responses]
        assert not missing, f"{op_id}: missing error responses {missing}"
        for code in PI_ERROR_CODES:
            response = _resolve(document, responses[code])
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Errors"}, f"{op_id} {code}"
            headers = response.get("headers", {})
            if code in REQUIRED_ERROR_HEADERS:
                assert _resolve(document, headers[REQUIRED_ERROR_HEADERS[code]])["required"] is True
            if code in OPTIONAL_ERROR_HEADERS:
                assert OPTIONAL_ERROR_HEADERS[code] in headers, f"{op_id} {code}"


def test_pi_objects_list_what_a_full_response_always_has(document):
    schemas = document["components"]["schemas"]
    for name in ("DataServer", "Point", "AssetServer", "AssetDatabase", "Element", "ElementTemplate",
                 "Attribute", "EventFrame", "EnumerationSet"):
        assert set(schemas[name]["x-pisim-always"]) >= {"WebId", "Id", "Name", "Path", "Links"}, name
        assert "required" not in schemas[name], f"{name}: selectedFields may drop any field"
        assert "additionalProperties" not in schemas[name], name
    assert schemas["TimedValue"]["x-pisim-always"] == [
        "Timestamp", "Value", "UnitsAbbreviation", "Good", "Questionable", "Substituted", "Annotated"]
    for name, schema in schemas.items():
        if name.startswith("Items"):
            assert "Items" in schema["x-pisim-always"], name
        for always in schema.get("x-pisim-always", []):
            assert always in schema["properties"], f"{name}.{always}"


# ---------------------------------------------------------------- agreement with the official spec

def _official_type(official, node):
    """The JSON type of an official property; 'any' for an untyped object (Swagger's 'any JSON')."""
    if "$ref" in node:
        node = _pointer(official, node["$ref"])
    kind = node.get("type", "object")
    if kind == "object" and "properties" not in node and "additionalProperties" not in node:
        return "any"
    if kind == "array":
        return ("array", _official_type(official, node.get("items", {})))
    return kind


def _our_type(document, node):
    node = _resolve(document, node)
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        return frozenset(_our_type(document, alternative) for alternative in alternatives)
    if len(node.get("allOf", ())) == 1:
        return _our_type(document, node["allOf"][0])
    if "type" not in node:
        return "any"
    if node["type"] == "array":
        return ("array", _our_type(document, node.get("items", {})))
    return node["type"]


def _compatible(ours, theirs):
    if theirs == "any":
        return True
    if isinstance(ours, tuple) and isinstance(theirs, tuple):
        return _compatible(ours[1], theirs[1])
    return ours == theirs


def test_schema_properties_agree_with_the_official_definitions(document, official):
    definitions = official["definitions"]
    schemas = document["components"]["schemas"]
    compared, problems, unmatched = 0, [], set()
    for name, schema in schemas.items():
        official_name = schema.get("x-pisim-official", name)
        if official_name not in definitions:
            unmatched.add(name)
            continue
        theirs = definitions[official_name].get("properties", {})
        for prop, node in schema.get("properties", {}).items():
            compared += 1
            if (name, prop) in SCHEMA_DEVIATIONS:
                continue
            if prop not in theirs:
                problems.append(f"{name}.{prop}: not in the official {official_name}")
                continue
            ours_type, their_type = _our_type(document, node), _official_type(official, theirs[prop])
            if not _compatible(ours_type, their_type):
                problems.append(f"{name}.{prop}: ours {ours_type}, official {their_type}")
    assert not problems, "\n".join(problems)
    assert unmatched == set(NON_OFFICIAL_SCHEMAS), "the schemas without an official counterpart changed"
    assert compared > 250
    for name, prop in SCHEMA_DEVIATIONS:
        assert prop in schemas[name]["properties"], f"stale deviation {name}.{prop}"


_DEFAULT = re.compile(r"The default (?:type )?is (?:'([^']*)'|(\d+)\.)")


def _official_default(parameter):
    """The default the official description states ("The default is 'Inside'."), or None."""
    match = _DEFAULT.search(parameter.get("description", ""))
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _official_query_parameters(official):
    """operationId -> {lower-case name: parameter}, merged over the '#name'/'#path' variants of a path."""
    by_route: dict[tuple[str, str], dict] = {}
    routes: dict[str, tuple[str, str]] = {}
    for path, item in official["paths"].items():
        for method, operation in item.items():
            route = (method, path.split("#", 1)[0].lower())
            routes[operation["operationId"]] = route
            merged = by_route.setdefault(route, {})
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    merged.setdefault(parameter["name"].lower(), parameter)
    return {op_id: by_route[route] for op_id, route in routes.items()}


def test_query_parameters_agree_with_the_official_operations(document, official):
    official_parameters = _official_query_parameters(official)
    compared, matched, problems = 0, 0, []
    for _, _, operation in _operations(document):
        op_id = operation["operationId"]
        if op_id not in official_parameters:
            continue
        matched += 1
        for parameter in map(lambda node: _resolve(document, node), operation.get("parameters", [])):
            if parameter["in"] != "query":
                continue
            compared += 1
            name, schema = parameter["name"], parameter["schema"]
            if (op_id, name) in PARAM_DEVIATIONS:
                continue
            theirs = official_parameters[op_id].get(name.lower())
            if theirs is None:
                problems.append(f"{op_id}: query parameter {name} is not in the official operation")
                continue
            if schema["type"] != theirs["type"]:
                problems.append(f"{op_id}.{name}: type {schema['type']}, official {theirs['type']}")
            elif schema["type"] == "array" and schema["items"]["type"] != theirs["items"]["type"]:
                problems.append(f"{op_id}.{name}: the item type differs")
            expected = _official_default(theirs)
            if expected is not None:
                ours = schema.get("default")
                if isinstance(ours, list) and len(ours) == 1:
                    ours = ours[0]
                if ours is None or str(ours).lower() != expected.lower():
                    problems.append(f"{op_id}.{name}: default {ours!r}, official {expected!r}")
    assert not problems, "\n".join(problems)
    assert matched >= 45
    assert compared > 250


def test_success_responses_use_the_official_definitions(document, official):
    schemas = document["components"]["schemas"]
    official_by_id = {op["operationId"]: op for item in official["paths"].values() for op in item.values()}

    def ours(schema):
        if "$ref" not in schema:
            return "inline"
        name = schema["$ref"].rsplit("/", 1)[-1]
        return "inline" if name in NON_OFFICIAL_SCHEMAS else schemas[name].get("x-pisim-official", name)

    compared, problems = 0, []
    for _, _, operation in _operations(document):
        op_id = operation["operationId"]
        theirs = official_by_id.get(op_id)
        if theirs is None:
            continue
        for status, response in operation["responses"].items():
            if status not in ("200", "207") or status not in theirs["responses"]:
                continue
            compared += 1
            if op_id in RESPONSE_DEVIATIONS:
                continue
            mine = ours(response["content"]["application/json"]["schema"])
            official_schema = theirs["responses"][status].get("schema", {})
            expected = official_schema["$ref"].rsplit("/", 1)[-1] if "$ref" in official_schema else "inline"
            if mine != expected:
                problems.append(f"{op_id} {status}: ours {mine}, official {expected}")
    assert not problems, "\n".join(problems)
    assert compared >= 45
    for op_id in RESPONSE_DEVIATIONS:
        assert op_id in official_by_id, f"stale deviation {op_id}"


def test_pi_operation_ids_are_the_official_ones(document, official):
    official_ids = {op["operationId"] for item in official["paths"].values() for op in item.values()}
    ours = {op["operationId"] for _, path, op in _operations(document) if path.startswith("/piwebapi")}
    assert ours - official_ids == NEW_OPERATION_IDS


# ---------------------------------------------------------------- the validator

JSON = {"Content-Type": "application/json; charset=utf-8"}
SHUTDOWN = {"Name": "Shutdown", "Value": 254, "IsSystem": True}


def _timed_value(**overrides):
    value = {"Timestamp": "2026-11-25T00:00:05.1234567Z", "Value": 12.5, "UnitsAbbreviation": "m3/h",
             "Good": True, "Questionable": False, "Substituted": False, "Annotated": False}
    value.update(overrides)
    return value


def _timed_values(*items):
    return orjson.dumps({"Links": {}, "Items": list(items), "UnitsAbbreviation": "m3/h"})


def test_match_ignores_case_and_prefers_literal_segments(contract):
    assert contract.match("GET", "/PIWebAPI/Points/multiple").operation_id == "Point_GetMultiple"
    assert contract.match("get", "/piwebapi/points/search").operation_id == "Point_GetPointsBySearch"
    assert contract.match("GET", "/piwebapi/points/F1DPxyz").operation_id == "Point_Get"
    assert contract.match("GET", "/piwebapi/streamsets/value").operation_id == "StreamSet_GetValuesAdHoc"
    assert contract.match("GET", "/piwebapi/streamsets/F1Emxyz/value").operation_id == "StreamSet_GetValues"
    assert contract.match("GET", "/piwebapi/").operation_id == "Home_Get"
    assert contract.match("HEAD", "/piwebapi/system").operation_id == "System_Landing"
    assert contract.match("POST", "/piwebapi/points/F1DPxyz") is None
    assert contract.match("GET", "/piwebapi/nothing/here") is None
    assert len(contract.operations()) == len(EXPECTED_OPERATIONS)


def test_a_valid_timed_values_body_passes(contract):
    body = _timed_values(
        _timed_value(),
        _timed_value(Timestamp="2026-11-25T00:00:10Z", Value=3),
        _timed_value(Timestamp="2026-11-25T00:00:15Z", Value=SHUTDOWN, Good=False, UnitsAbbreviation=""),
        _timed_value(Timestamp="2026-11-25T00:00:20Z", Value=None, Good=False),
        _timed_value(Timestamp="2026-11-25T00:00:25Z", Value="text"),
    )
    contract.validate_response("GET", "/piwebapi/streams/F1DPabc/interpolated", 200, JSON, body)
    contract.validate_response("GET", "/piwebapi/streams/F1DPabc/recorded", 200, JSON, body)


def test_a_stream_value_carries_its_units_on_the_timed_value_only(contract):
    member = {"WebId": "F1DPabc", "Name": "T", "Path": "\\\\PISRV01\\T", "Links": {"Source": "x"},
              "Value": _timed_value()}
    url = "/piwebapi/streamsets/value"
    contract.validate_response("GET", url, 200, JSON, orjson.dumps({"Links": {}, "Items": [member]}))
    with pytest.raises(ContractViolation, match="UnitsAbbreviation"):
        contract.validate_response("GET", url, 200, JSON, orjson.dumps(
            {"Links": {}, "Items": [{**member, "UnitsAbbreviation": "m3/h"}]}))


def test_good_as_a_string_fails_with_a_json_pointer(contract):
    body = _timed_values(_timed_value(), _timed_value(Good="true"))
    with pytest.raises(ContractViolation) as caught:
        contract.validate_response("GET", "/piwebapi/streams/F1DPabc/recorded", 200, JSON, body)
    message = str(caught.value)
    assert "Stream_GetRecorded" in message and "/Items/1/Good" in message and '{"Links"' in message


@pytest.mark.parametrize("timestamp", ["2026-11-25T00:00:05.12345678Z", "2026-11-25T00:00:05", "2026-11-25"])
def test_timestamps_are_utc_iso_with_up_to_seven_fraction_digits(contract, timestamp):
    with pytest.raises(ContractViolation, match="/Items/0/Timestamp"):
        contract.validate_response("GET", "/piwebapi/streams/x/plot", 200, JSON,
                                   _timed_values(_timed_value(Timestamp=timestamp)))


def test_always_fields_are_required_unless_selected_fields_trimmed_them(contract):
    body = orjson.dumps({"Items": [{"Timestamp": "2026-11-25T00:00:05Z", "Value": 1.0}]})
    with pytest.raises(ContractViolation, match="required"):
        contract.validate_response("GET", "/piwebapi/streams/x/recorded", 200, JSON, body)
    contract.validate_response("GET", "/piwebapi/streams/x/recorded", 200, JSON, body,
                               query={"SelectedFields": "Items.Timestamp;Items.Value"})


def test_405_needs_allow_and_401_needs_www_authenticate(contract):
    error = orjson.dumps({"Errors": ["The requested resource does not support http method 'POST'."]})
    point = "/piwebapi/points/F1DPabc"
    with pytest.raises(ContractViolation, match="Allow"):
        contract.validate_response("POST", point, 405, JSON, error)
    contract.validate_response("POST", point, 405, {**JSON, "Allow": "GET, HEAD"}, error)
    with pytest.raises(ContractViolation, match="WWW-Authenticate"):
        contract.validate_response("GET", point, 401, JSON, error)
    contract.validate_response("GET", point, 401, {**JSON, "WWW-Authenticate": 'Basic realm="pi-sim"'}, error)
    contract.validate_response("GET", point, 503, {**JSON, "Retry-After": "1"}, error)


def test_undocumented_things_fail(contract):
    error = orjson.dumps({"Errors": ["x"]})
    point = "/piwebapi/points/F1DPabc"
    with pytest.raises(ContractViolation, match="status 418 is not documented"):
        contract.validate_response("GET", point, 418, JSON, error)
    with pytest.raises(ContractViolation, match="not in the contract"):
        contract.validate_response("GET", "/piwebapi/unknown", 200, JSON, b"{}")
    with pytest.raises(ContractViolation, match="not JSON"):
        contract.validate_response("GET", point, 404, JSON, b"<html>nope</html>")
    with pytest.raises(ContractViolation, match="Content-Type text/html"):
        contract.validate_response("GET", point, 404, {"Content-Type": "text/html"}, error)
    with pytest.raises(ContractViolation, match="fails the schema"):
        contract.validate_response("GET", point, 404, JSON, b'{"Message": "x"}')
    # An unknown route answered with the PI error body is what the contract promises.
    contract.validate_response("GET", "/piwebapi/unknown", 404, JSON, error)


def test_data_servers_answer_a_list_or_a_single_server(contract):
    server = {"WebId": "F1DSabc", "Id": "6f40df05-d9cd-44f7-8d4a-3cb826d0f97d", "Name": "PISRV01",
              "Path": "\\\\PISRV01", "IsConnected": True, "ServerVersion": "3.4.440.477",
              "ServerTime": "2026-11-25T00:00:00Z",
              "Links": {"Self": "http://x/piwebapi/dataservers/F1DSabc"}}
    contract.validate_response("GET", "/piwebapi/dataservers", 200, JSON,
                               orjson.dumps({"Links": {}, "Items": [server]}))
    contract.validate_response("GET", "/piwebapi/dataservers", 200, JSON, orjson.dumps(server),
                               query={"name": "PISRV01"})
    with pytest.raises(ContractViolation):
        contract.validate_response("GET", "/piwebapi/dataservers", 200, JSON,
                                   orjson.dumps({"Items": [{**server, "IsConnected": "yes"}]}))


def test_batch_response(contract):
    fan_out = {"Items": [{"Status": 200, "Headers": {}, "Content": 1}]}
    body = orjson.dumps({
        "1": {"Status": 200, "Headers": {"Content-Type": "application/json"}, "Content": {"Items": []}},
        "2": {"Status": 409, "Headers": {}, "Content": {"Errors": ["parent failed"]}},
        "3": {"Status": 207, "Headers": {}, "Content": fan_out},
    })
    contract.validate_response("POST", "/piwebapi/batch", 207, JSON, body)
    with pytest.raises(ContractViolation, match="/1/Status"):
        contract.validate_response("POST", "/piwebapi/batch", 207, JSON,
                                   orjson.dumps({"1": {"Status": "200", "Headers": {}, "Content": None}}))


def test_a_150000_item_recorded_response_validates(contract):
    """Its speed is a figure of `make bench` (bench.setup_costs), not asserted here."""
    items = [_timed_value(Timestamp=f"2026-11-25T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.5Z",
                          Value=i * 0.37) for i in range(150_000)]
    items[777] = _timed_value(Value={"Name": "I/O Timeout", "Value": 246, "IsSystem": True}, Good=False)
    body = _timed_values(*items)
    recorded = "/piwebapi/streams/x/recorded"
    contract.validate_response("GET", recorded, 200, JSON, _timed_values(_timed_value()))  # compiles
    contract.validate_response("GET", recorded, 200, JSON, body)
