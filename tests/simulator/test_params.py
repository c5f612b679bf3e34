"""simulator.pi.params: query arguments -> typed values, case-insensitively, with 400s that name the
parameter; selectedFields parsing and trimming; the MaxReturnedItemsPerCall check."""
from __future__ import annotations

import pytest

from picommon import pitime
from simulator.pi.errors import InvalidParameterError
from simulator.pi.errors import TooManyValuesError
from simulator.pi.params import Args
from simulator.pi.params import Selection
from simulator.pi.params import check_limit
from simulator.pi.params import select

NOW = pitime.parse_time("2026-11-25T00:00:00Z", now=0)


def args(**pairs) -> Args:
    items = []
    for name, value in pairs.items():
        for v in value if isinstance(value, list) else [value]:
            items.append((name, v))
    return Args(items)


def rejects(call, *words: str) -> str:
    with pytest.raises(InvalidParameterError) as caught:
        call()
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert caught.value.status == 400
    return message


def test_names_are_case_insensitive_and_repeatable():
    a = Args([("StartTime", "*-1h"), ("WEBID", "a"), ("webid", "b"), ("webId", "c")])
    assert a.get("startTime") == "*-1h" and "STARTTIME" in a and "endTime" not in a
    assert a.getlist("webId") == ["a", "b", "c"] and a.get("WebId") == "a"
    assert a.get("missing", "x") == "x" and a.getlist("missing") == []


def test_integers():
    assert args(maxCount="25").integer("maxCount", 1000) == 25
    assert args(maxCount=" 7 ").integer("maxCount", 1000) == 7
    assert args(maxCount="").integer("maxCount", 1000) == 1000  # empty is the default, as in PI
    assert args().integer("maxCount", 1000) == 1000
    rejects(lambda: args(maxCount="1.5").integer("maxCount", 1), "'1.5'", "'maxCount'", "whole number")
    rejects(lambda: args(maxCount="0").integer("maxCount", 1, minimum=1), "at least 1")
    rejects(lambda: args(maxCount="2147483648").integer("maxCount", 1), "at most 2147483647")
    rejects(lambda: args(maxCount="ten").integer("maxCount", 1), "'ten'")


def test_booleans():
    for raw, value in (("true", True), ("True", True), ("1", True), ("FALSE", False), ("0", False), ("", None)):
        assert args(flag=raw).boolean("flag", None) is value
    rejects(lambda: args(flag="yes").boolean("flag", False), "'yes'", "'flag'", "true or false")


def test_enum_choices_are_canonicalised():
    choices = ("Inside", "Outside", "Interpolated")
    assert args(boundaryType="outside").choice("boundaryType", choices, "Inside") == "Outside"
    assert args(boundaryType=" INTERPOLATED ").choice("boundaryType", choices, "Inside") == "Interpolated"
    assert args(boundaryType="").choice("boundaryType", choices, "Inside") == "Inside"
    message = rejects(lambda: args(boundaryType="Edge").choice("boundaryType", choices, "Inside"), "'Edge'",
                      "'boundaryType'")
    assert "Inside, Outside, Interpolated" in message


def test_repeated_and_comma_separated_choices():
    kinds = ("Total", "Average", "Count")
    a = args(summaryType=["average", "Count,total", "COUNT", ""])
    assert a.choices("summaryType", kinds, ("Total",)) == ("Average", "Count", "Total")
    assert args().choices("summaryType", kinds, ("Total",)) == ("Total",)
    rejects(lambda: args(summaryType="Average,Median").choices("summaryType", kinds, ()), "'Median'")


def test_times():
    a = args(startTime="*-1h", endTime="+30m", bad="not a time")
    start = a.time("startTime", "*-1d", now=NOW, tz="UTC")
    assert start == NOW - 3600 * 10**7
    assert a.time("endTime", "*", now=NOW, tz="UTC", relative_to=start) == start + 1800 * 10**7
    assert args().time("startTime", "*-1d", now=NOW, tz="UTC") == NOW - 86400 * 10**7
    rejects(lambda: a.time("bad", None, now=NOW, tz="UTC"), "'not a time'", "'bad'")
    times = args(time=["2026-11-24T00:00:00Z", "t"]).times("time", now=NOW, tz="UTC")
    assert times == [NOW - 86400 * 10**7, NOW]
    rejects(lambda: args().times("time", now=NOW, tz="UTC"), "'time'", "required")
    rejects(lambda: args(time=["*", "never"]).times("time", now=NOW, tz="UTC"), "'never'")


def test_intervals_time_zones_and_web_id_types():
    assert args(interval="90s").interval("interval").approx_ticks == 90 * 10**7
    assert args().interval("interval", "1h").approx_ticks == 3600 * 10**7
    assert args().interval("interval") is None
    rejects(lambda: args(interval="soon").interval("interval"), "'soon'", "'interval'")
    assert str(args(timeZone="Australia/Sydney").timezone(None)) == "Australia/Sydney"
    assert args(timeZone="").timezone("default") == "default"
    rejects(lambda: args(timeZone="Mars/Olympus").timezone(None), "'Mars/Olympus'", "'timeZone'")
    assert args(webIdType="pathonly").web_id_type() == "PathOnly"
    assert args().web_id_type("IDOnly") == "IDOnly"
    rejects(lambda: args(webIdType="Short").web_id_type(), "'Short'", "'webIdType'", "Full")
    assert args(path="\\\\X").required("path") == "\\\\X"
    rejects(lambda: args(path="").required("path"), "'path'", "required")


def test_selected_fields_parse_case_insensitively():
    selection = args(selectedFields="Items.Timestamp; items.VALUE ;Links").selected_fields()
    assert selection.tree == {"items": {"timestamp": {}, "value": {}}, "links": {}}
    assert args(selectedFields="  ").selected_fields() is None and args().selected_fields() is None
    # a whole field selected wins over a deeper path into it
    assert Selection.parse("Items;Items.Value").tree == {"items": {}}
    assert Selection.parse("a.b;;a..c").tree == {"a": {"b": {}, "c": {}}}


def test_selection_trims_exactly():
    body = {"Links": {"Self": "s"}, "Items": [{"Timestamp": "t1", "Value": 1, "Good": True},
                                              {"Timestamp": "t2", "Value": {"Name": "On", "Value": 1}, "Good": True}]}
    assert select(body, None) is body
    values = {"Items": [{"Value": 1}, {"Value": {"Name": "On", "Value": 1}}]}
    assert Selection.parse("Items.Value").apply(body) == values
    assert Selection.parse("items.value.name").apply(body) == {"Items": [{"Value": 1}, {"Value": {"Name": "On"}}]}
    assert Selection.parse("Links").apply(body) == {"Links": {"Self": "s"}}
    assert Selection.parse("Nothing").apply(body) == {}


def test_selection_children():
    selection = Selection.parse("Items.Value.Timestamp;Items.Type;Links")
    inner = selection.child("Items")
    assert inner.tree == {"value": {"timestamp": {}}, "type": {}}
    assert inner.child("Value").tree == {"timestamp": {}}
    assert selection.child("Links") is None  # selected whole
    assert selection.child("Other").keeps("anything") is False  # not selected at all
    assert inner.keeps("TYPE") and not inner.keeps("WebId")


def test_max_returned_items_per_call():
    check_limit("maxCount", 150_000, 150_000)
    with pytest.raises(TooManyValuesError) as caught:
        check_limit("maxCount", 150_001, 150_000)
    assert str(caught.value) == "Parameter 'maxCount' is greater than the maximum allowed (150000)."
    assert caught.value.status == 400


def test_a_field_selected_whole_keeps_everything_below_it_in_any_order():
    body = {"Items": [{"Timestamp": "t", "Value": 1}]}
    for text in ("Items;Items.Value", "Items.Value;Items", "items.value;ITEMS;items.timestamp"):
        assert Selection.parse(text).tree == {"items": {}}, text
        assert Selection.parse(text).apply(body) == body, text
