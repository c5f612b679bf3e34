"""Tests for simulator.mock.matching: value patterns, JSONPath, request patterns and distances."""
from __future__ import annotations

import base64

import pytest

from simulator.pi.errors import InvalidParameterError
from simulator.mock.matching import RequestPattern
from simulator.mock.matching import RequestView
from simulator.mock.matching import edit_distance
from simulator.mock.matching import json_diff
from simulator.mock.matching import json_path
from simulator.mock.matching import parse_value_pattern
from simulator.mock.matching import view_from_json


def distance(spec, value):
    return parse_value_pattern(spec, "test").distance(value)


def test_edit_distance_is_normalised():
    assert edit_distance("abc", "abc") == 0.0
    assert edit_distance("abc", "xyz") == 1.0
    assert edit_distance("/piwebapi/streams", "/piwebapi/Streams") == pytest.approx(1 / 17)
    assert edit_distance("", "abc") == 1.0


def test_edit_distance_of_long_strings_stays_cheap():
    a, b = "x" * 5000 + "a", "x" * 5000 + "b"
    assert 0 < edit_distance(a, b) < 0.01


@pytest.mark.parametrize("spec, value, exact", [
    ({"equalTo": "Sinusoid"}, "Sinusoid", True),
    ({"equalTo": "Sinusoid"}, "sinusoid", False),
    ({"equalTo": "Sinusoid", "caseInsensitive": True}, "SINUSOID", True),
    ("Sinusoid", "Sinusoid", True),
    ({"contains": "usoi"}, "Sinusoid", True),
    ({"contains": "xyz"}, "Sinusoid", False),
    ({"doesNotContain": "xyz"}, "Sinusoid", True),
    ({"doesNotContain": "usoi"}, "Sinusoid", False),
    ({"matches": r"\d+"}, "1000", True),
    ({"matches": r"\d+"}, "10a", False),  # a full match, as Java's matches()
    ({"doesNotMatch": r"\d+"}, "10a", True),
    ({"absent": True}, None, True),
    ({"absent": True}, "", False),
    ({"equalTo": "x"}, None, False),
    ({"binaryEqualTo": base64.b64encode(b"raw").decode()}, "raw", True),
    ({"and": [{"contains": "Sin"}, {"contains": "oid"}]}, "Sinusoid", True),
    ({"and": [{"contains": "Sin"}, {"contains": "zzz"}]}, "Sinusoid", False),
    ({"or": [{"equalTo": "a"}, {"equalTo": "Sinusoid"}]}, "Sinusoid", True),
    ({"not": {"equalTo": "a"}}, "b", True),
    ({"not": {"equalTo": "a"}}, "a", False),
])
def test_value_patterns(spec, value, exact):
    assert (distance(spec, value) == 0.0) is exact
    assert parse_value_pattern(spec, "test").matches(value) is exact


def test_equal_to_gives_a_graded_distance():
    near = distance({"equalTo": "maxCount"}, "maxcount")
    far = distance({"equalTo": "maxCount"}, "startTime")
    assert 0 < near < far <= 1


def test_equal_to_json_options():
    expected = {"Items": [1, 2, 3], "Name": "x"}
    assert distance({"equalToJson": expected}, '{"Name": "x", "Items": [1, 2, 3]}') == 0
    assert distance({"equalToJson": expected}, '{"Name": "x", "Items": [3, 2, 1]}') > 0
    assert distance({"equalToJson": expected, "ignoreArrayOrder": True}, '{"Name":"x","Items":[3,2,1]}') == 0
    extra = '{"Name": "x", "Items": [1, 2, 3], "Extra": true}'
    assert distance({"equalToJson": expected}, extra) > 0
    assert distance({"equalToJson": expected, "ignoreExtraElements": True}, extra) == 0
    assert distance({"equalToJson": '{"a": 1}'}, "not json") == 1.0
    assert distance({"equalToJson": {"a": "${json-unit.any-number}"}}, '{"a": 5}') == 0
    assert distance({"equalToJson": {"a": "${json-unit.any-number}"}}, '{"a": "5"}') > 0


def test_json_diff_counts_leaves():
    assert json_diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == (1, 2)
    assert json_diff([1, True], [1, 1]) == (1, 2)  # a bool is not a number


def test_json_path_subset():
    doc = {"Items": [{"Name": "A", "Value": 1.5, "Good": True}, {"Name": "B", "Value": 7, "Good": False}],
           "Links": {"Self": "https://x"}}
    assert json_path(doc, "$.Links.Self") == ["https://x"]
    assert json_path(doc, "$['Links']['Self']") == ["https://x"]
    assert json_path(doc, "$.Items[1].Name") == ["B"]
    assert json_path(doc, "$.Items[-1].Name") == ["B"]
    assert json_path(doc, "$.Items[*].Name") == ["A", "B"]
    assert json_path(doc, "$..Name") == ["A", "B"]
    assert json_path(doc, "$.Items[?(@.Value > 2)].Name") == ["B"]
    assert json_path(doc, "$.Items[?(@.Name == 'A')].Value") == [1.5]
    assert json_path(doc, "$.Items[?(@.Name =~ /a/i)].Name") == ["A"]
    assert json_path(doc, r"$.Items[?(@.Name =~ /^\w$/)].Name") == ["A", "B"]  # a backslash reaches re intact
    with pytest.raises(InvalidParameterError, match="bad regular expression"):
        json_path(doc, "$.Items[?(@.Name =~ /(/)]")
    assert json_path(doc, "$.Items[?(@.Missing)]") == []
    assert json_path(doc, "$.Nope") == []
    with pytest.raises(InvalidParameterError, match="must start with"):
        json_path(doc, "Items")


def test_matches_json_path_with_and_without_a_sub_matcher():
    body = '{"Items": [{"WebId": "F1DP"}], "Count": 0, "Empty": []}'
    assert distance({"matchesJsonPath": "$.Items[0].WebId"}, body) == 0
    assert distance({"matchesJsonPath": "$.Missing"}, body) == 1
    assert distance({"matchesJsonPath": "$.Empty"}, body) == 1  # an empty result is no match
    assert distance({"matchesJsonPath": {"expression": "$.Items[0].WebId", "equalTo": "F1DP"}}, body) == 0
    assert distance({"matchesJsonPath": {"expression": "$.Count", "equalTo": "0"}}, body) == 0
    assert distance({"matchesJsonPath": {"expression": "$.Items[0].WebId", "contains": "zz"}}, body) == 1


@pytest.mark.parametrize("spec, message", [
    ({"equalTo": 5}, "test.equalTo: must be a string, got 5"),
    ({"matches": "("}, "bad regular expression"),
    ({"absent": False}, "must be true"),
    ({"foo": "x"}, "exactly one of"),
    ({"equalTo": "a", "contains": "b"}, "exactly one of"),
    ({"and": []}, "non-empty list"),
    ({"matchesJsonPath": "Items"}, "must start with"),
    (["x"], "must be an object"),
])
def test_bad_value_patterns_name_the_problem(spec, message):
    with pytest.raises(InvalidParameterError, match=message.replace("(", r"\(")):
        parse_value_pattern(spec, "test")


def view(method="GET", path="/piwebapi/streams/F1DP/recorded", query="", headers=(), body=b""):
    return RequestView(method, path, query, tuple(headers), body)


def exact(pattern, request):
    """Whether `pattern` matches `request` exactly; serving's matches() and the distance agree."""
    found = pattern.match(request).is_exact
    assert pattern.matches(request) is found
    return found


def test_url_kinds():
    v = view(query="maxCount=10&startTime=*-1d")
    assert exact(RequestPattern.parse({"url": "/piwebapi/streams/F1DP/recorded?maxCount=10&startTime=*-1d"}), v)
    assert not exact(RequestPattern.parse({"url": "/piwebapi/streams/F1DP/recorded"}), v)
    assert exact(RequestPattern.parse({"urlPath": "/piwebapi/streams/F1DP/recorded"}), v)
    assert exact(RequestPattern.parse({"urlPathPattern": "/piwebapi/streams/[^/]+/recorded"}), v)
    assert exact(RequestPattern.parse({"urlPattern": ".*maxCount=10.*"}), v)
    assert not exact(RequestPattern.parse({"urlPathPattern": "/piwebapi/streams"}), v)
    template = RequestPattern.parse({"urlPathTemplate": "/piwebapi/streams/{webId}/recorded",
                                     "pathParameters": {"webId": {"equalTo": "F1DP"}}})
    assert exact(template, v)
    assert not exact(template, view(path="/piwebapi/streams/OTHER/recorded"))
    assert not exact(template, view(path="/piwebapi/streams/F1DP/value"))


def test_method_any_and_specific():
    assert exact(RequestPattern.parse({"method": "ANY"}), view(method="DELETE"))
    assert exact(RequestPattern.parse({"method": "*"}), view(method="DELETE"))
    assert exact(RequestPattern.parse({"method": "post"}), view(method="POST"))
    assert not exact(RequestPattern.parse({"method": "POST"}), view())


def test_query_headers_and_body():
    pattern = RequestPattern.parse({
        "method": "POST", "urlPath": "/piwebapi/batch",
        "queryParameters": {"maxCount": {"equalTo": "10"}, "debug": {"absent": True}},
        "headers": {"X-Requested-With": {"matches": ".+"}},
        "bodyPatterns": [{"matchesJsonPath": "$.A.Method"}],
    })
    good = view("POST", "/piwebapi/batch", "MAXCOUNT=10", [("x-requested-with", "tests")],
                b'{"A": {"Method": "GET"}}')
    assert exact(pattern, good)  # PI query names and header names are case-insensitive
    assert not exact(pattern, view("POST", "/piwebapi/batch", "maxCount=10&debug=1",
                                  [("X-Requested-With", "t")], b'{"A": {"Method": "GET"}}'))
    assert not exact(pattern, view("POST", "/piwebapi/batch", "maxCount=10", [], b'{"A": {}}'))
    multi = RequestPattern.parse({"queryParameters": {"webId": {"equalTo": "B"}}})
    assert exact(multi, view(query="webId=A&webId=B"))


def test_distance_ranks_near_misses():
    pattern = RequestPattern.parse({"method": "GET", "urlPath": "/piwebapi/streams/F1DP/recorded"})
    exact = pattern.match(view())
    case = pattern.match(view(path="/piwebapi/Streams/F1DP/recorded"))
    method = pattern.match(view(method="POST"))
    other = pattern.match(view(method="POST", path="/piwebapi/system"))
    assert exact.distance == 0 and exact.is_exact
    assert 0 < case.distance < method.distance < other.distance <= 1
    assert dict(case.parts)["method"] == 0 and dict(case.parts)["urlPath"] > 0


def test_request_pattern_errors_name_the_field():
    with pytest.raises(InvalidParameterError, match=r"request: unknown key\(s\) \['uri'\]"):
        RequestPattern.parse({"uri": "/x"})
    with pytest.raises(InvalidParameterError, match="give one of"):
        RequestPattern.parse({"url": "/x", "urlPath": "/x"})
    with pytest.raises(InvalidParameterError, match=r"request.method: must be an HTTP method"):
        RequestPattern.parse({"method": "GET /x"})
    with pytest.raises(InvalidParameterError, match="request.queryParameters.maxCount.equalTo"):
        RequestPattern.parse({"queryParameters": {"maxCount": {"equalTo": 10}}})
    with pytest.raises(InvalidParameterError, match="pathParameters: needs urlPathTemplate"):
        RequestPattern.parse({"urlPath": "/x", "pathParameters": {"a": "b"}})


def test_view_from_json():
    v = view_from_json({"method": "post", "url": "/piwebapi/batch?x=1", "headers": {"A": ["1", "2"]},
                        "body": {"k": 1}})
    assert (v.method, v.path, v.query_string, v.query_values("X")) == ("POST", "/piwebapi/batch", "x=1", ["1"])
    assert v.header_values("a") == ["1", "2"] and v.body == b'{"k": 1}'
