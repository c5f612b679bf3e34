"""Unit tests of connector.convert: decoded PI values -> rows of the bronze value tables."""
from __future__ import annotations

import datetime as dt

import msgspec
import numpy as np
import pyarrow as pa
import pytest

from connector.convert import StreamInfo
from connector.convert import ordinals
from connector.convert import recorded_rows
from connector.convert import timestamps_ns
from connector.convert import utc_dates
from connector.convert import value_columns
from connector.tables import RecordedValues
from connector.wire import TIMED_VALUES
from connector.wire import TimedValue

SCHEMA = RecordedValues.schema
BASE_S = 1_795_550_400  # 2026-11-24T20:00:00Z
NS = 1_000_000_000
INGESTED_US = 1_795_600_000_123_456


def decode(items: list[dict]) -> list[TimedValue]:
    """Values as the connector decodes PI JSON (msgspec, straight from the bytes)."""
    import orjson

    return TIMED_VALUES.decode(orjson.dumps({"Items": items})).Items


def item(stamp: str, value, **flags) -> dict:
    return {"Timestamp": stamp, "Value": value, "Good": flags.pop("good", True), **flags}


def rows(items: list[dict], units: str = "degC", web_id: str = "W1", tag: str = "T1") -> list[dict]:
    table = recorded_rows([(StreamInfo(web_id, tag, units), decode(items))], SCHEMA, run_id="run-1",
                          ingested_at_us=INGESTED_US)
    assert table.schema.equals(SCHEMA)
    RecordedValues.validate(table)
    return table.to_pylist()


def test_numbers_of_every_json_shape_become_float_values():
    out = rows([item("2026-11-24T20:00:00Z", 21.5), item("2026-11-24T20:00:01Z", 7),
                item("2026-11-24T20:00:02Z", -0.0001), item("2026-11-24T20:00:03Z", 1e300)])
    assert [r["value"] for r in out] == [21.5, 7.0, -0.0001, 1e300]
    assert all(r["string_value"] is None and r["digital_name"] is None and r["digital_code"] is None for r in out)
    assert [r["is_system"] for r in out] == [False] * 4
    assert [r["units"] for r in out] == ["degC"] * 4
    assert [r["web_id"] for r in out] == ["W1"] * 4 and [r["tag"] for r in out] == ["T1"] * 4
    assert [r["run_id"] for r in out] == ["run-1"] * 4
    assert out[0]["ingested_at"] == dt.datetime(2026, 11, 25, 9, 46, 40, 123456, tzinfo=dt.timezone.utc)


def test_strings_go_to_string_value_and_leave_value_null():
    out = rows([item("2026-11-24T20:00:00Z", "Alpha"), item("2026-11-24T20:00:01Z", ""),
                item("2026-11-24T20:00:02Z", 3.5)], units="")
    assert [r["string_value"] for r in out] == ["Alpha", "", None]
    assert [r["value"] for r in out] == [None, None, 3.5]


def test_digital_states_of_the_points_own_set_are_not_system_states():
    out = rows([item("2026-11-24T20:00:00Z", {"Name": "On", "Value": 1, "IsSystem": False}),
                item("2026-11-24T20:00:01Z", {"Name": "Off", "Value": 0}),  # IsSystem left out: false
                item("2026-11-24T20:00:02Z", {"Name": "Fault", "Value": 2, "IsSystem": False}, good=True)], units="")
    assert [(r["digital_name"], r["digital_code"], r["is_system"]) for r in out] == [
        ("On", 1, False), ("Off", 0, False), ("Fault", 2, False)]
    assert [r["value"] for r in out] == [None, None, None]
    assert [r["string_value"] for r in out] == [None, None, None]


def test_system_states_have_a_null_value_their_name_and_code_and_no_units():
    out = rows([item("2026-11-24T20:00:00Z", 20.25),
                item("2026-11-24T20:00:30Z", {"Name": "I/O Timeout", "Value": 246, "IsSystem": True}, good=False),
                item("2026-11-24T20:01:00Z", {"Name": "Shutdown", "Value": 254, "IsSystem": True}, good=False),
                item("2026-11-24T20:01:30Z", 20.5)])
    system = [r for r in out if r["is_system"]]
    assert [(r["digital_name"], r["digital_code"], r["value"], r["units"], r["good"]) for r in system] == [
        ("I/O Timeout", 246, None, "", False), ("Shutdown", 254, None, "", False)]
    # the numbers around them keep the stream's units
    assert [(r["value"], r["units"], r["good"]) for r in out if not r["is_system"]] == [
        (20.25, "degC", True), (20.5, "degC", True)]


def test_quality_flags_are_kept_per_row():
    out = rows([item("2026-11-24T20:00:00Z", 1.0, Questionable=True),
                item("2026-11-24T20:00:01Z", 2.0, Substituted=True, Annotated=True),
                item("2026-11-24T20:00:02Z", 3.0, good=False)])
    assert [(r["good"], r["questionable"], r["substituted"], r["annotated"]) for r in out] == [
        (True, True, False, False), (True, False, True, True), (False, False, False, False)]


def test_booleans_become_one_and_zero():
    out = rows([item("2026-11-24T20:00:00Z", True), item("2026-11-24T20:00:01Z", False),
                item("2026-11-24T20:00:02Z", 2.5)], units="")
    assert [r["value"] for r in out] == [1.0, 0.0, 2.5]
    assert all(r["string_value"] is None and r["digital_name"] is None for r in out)


def test_booleans_mixed_with_strings_and_states():
    out = rows([item("2026-11-24T20:00:00Z", True), item("2026-11-24T20:00:01Z", "text"),
                item("2026-11-24T20:00:02Z", {"Name": "Bad Input", "Value": 307, "IsSystem": True})], units="")
    assert [(r["value"], r["string_value"], r["digital_name"]) for r in out] == [
        (1.0, None, None), (None, "text", None), (None, None, "Bad Input")]


def test_seven_digit_timestamps_are_exact_in_timestamp_ns_and_truncated_in_timestamp():
    out = rows([item("2026-11-24T20:00:00.1234567Z", 1.0), item("2026-11-24T20:00:00.9999999Z", 2.0),
                item("2026-11-24T23:59:59.9999999Z", 3.0), item("2026-11-25T00:00:00Z", 4.0)])
    assert [r["timestamp_ns"] for r in out] == [
        BASE_S * NS + 123_456_700, BASE_S * NS + 999_999_900, (BASE_S + 4 * 3600 - 1) * NS + 999_999_900,
        (BASE_S + 4 * 3600) * NS]
    utc = dt.timezone.utc
    assert [r["timestamp"] for r in out] == [
        dt.datetime(2026, 11, 24, 20, 0, 0, 123456, tzinfo=utc),
        dt.datetime(2026, 11, 24, 20, 0, 0, 999999, tzinfo=utc),
        dt.datetime(2026, 11, 24, 23, 59, 59, 999999, tzinfo=utc), dt.datetime(2026, 11, 25, tzinfo=utc)]
    # the partition follows the (truncated) timestamp: the last tick of a day stays in that day
    assert [r["date"] for r in out] == [dt.date(2026, 11, 24)] * 3 + [dt.date(2026, 11, 25)]


def test_timestamps_ns_parses_every_fraction_length():
    texts = ["2026-11-24T20:00:00Z", "2026-11-24T20:00:00.5Z", "2026-11-24T20:00:00.25Z",
             "2026-11-24T20:00:00.123Z", "2026-11-24T20:00:00.123456Z", "2026-11-24T20:00:00.1234567Z"]
    assert timestamps_ns(texts).to_pylist() == [
        BASE_S * NS, BASE_S * NS + 500_000_000, BASE_S * NS + 250_000_000, BASE_S * NS + 123_000_000,
        BASE_S * NS + 123_456_000, BASE_S * NS + 123_456_700]


def test_ordinals_number_events_sharing_a_timestamp_and_restart_per_stream():
    a = [item("2026-11-24T20:00:00.5Z", 1.0), item("2026-11-24T20:00:00.5Z", 2.0), item("2026-11-24T20:00:00.5Z", 3.0),
         item("2026-11-24T20:00:01Z", 4.0), item("2026-11-24T20:00:02Z", 5.0), item("2026-11-24T20:00:02Z", 6.0)]
    # stream B starts with the very timestamp stream A ends with: its ordinals start at 0 again
    b = [item("2026-11-24T20:00:02Z", 7.0), item("2026-11-24T20:00:02Z", 8.0), item("2026-11-24T20:00:03Z", 9.0)]
    table = recorded_rows([(StreamInfo("WA", "A", "kPa"), decode(a)), (StreamInfo("WB", "B", "m3"), decode(b))],
                          SCHEMA, run_id="r", ingested_at_us=0)
    out = table.to_pylist()
    assert [(r["web_id"], r["value"], r["ordinal"]) for r in out] == [
        ("WA", 1.0, 0), ("WA", 2.0, 1), ("WA", 3.0, 2), ("WA", 4.0, 0), ("WA", 5.0, 0), ("WA", 6.0, 1),
        ("WB", 7.0, 0), ("WB", 8.0, 1), ("WB", 9.0, 0)]
    assert [r["units"] for r in out] == ["kPa"] * 6 + ["m3"] * 3
    assert [r["tag"] for r in out] == ["A"] * 6 + ["B"] * 3
    keys = {(r["web_id"], r["timestamp_ns"], r["ordinal"]) for r in out}
    assert len(keys) == len(out)


def test_empty_streams_are_skipped_and_no_streams_give_an_empty_table():
    table = recorded_rows([(StreamInfo("W0", "EMPTY"), []), (StreamInfo("W1", "ONE", "V"), decode([item(
        "2026-11-24T20:00:00Z", 230.0)]))], SCHEMA, run_id="r", ingested_at_us=0)
    assert [(r["web_id"], r["value"], r["ordinal"], r["units"]) for r in table.to_pylist()] == [("W1", 230.0, 0, "V")]
    empty = recorded_rows([], SCHEMA, run_id="r", ingested_at_us=0)
    assert empty.num_rows == 0 and empty.schema.equals(SCHEMA)


def test_ordinals_alone():
    import numpy as np

    ns = np.array([5, 5, 5, 6, 7, 7, 7, 7], dtype=np.int64)
    assert ordinals(ns).tolist() == [0, 1, 2, 0, 0, 1, 2, 3]
    boundaries = np.array([1, 0, 1, 0, 1, 0, 0, 1], dtype=bool)
    assert ordinals(ns, boundaries).tolist() == [0, 1, 0, 0, 0, 1, 2, 0]
    assert ordinals(np.zeros(0, dtype=np.int64)).tolist() == []


def test_per_row_units_when_pi_sends_them_win_over_the_streams():
    out = rows([item("2026-11-24T20:00:00Z", 1.0, UnitsAbbreviation="kPa"),
                item("2026-11-24T20:00:01Z", 2.0),  # no units on this value: the stream's
                item("2026-11-24T20:00:02Z", {"Name": "Pt Created", "Value": 233, "IsSystem": True},
                     UnitsAbbreviation=""),
                item("2026-11-24T20:00:03Z", 4.0, UnitsAbbreviation="bar")], units="psi")
    assert [r["units"] for r in out] == ["kPa", "psi", "", "bar"]


def test_value_columns_with_per_row_stream_units():
    values = decode([item("2026-11-24T20:00:00Z", 1.0), item("2026-11-24T20:00:01Z",
                                                               {"Name": "Shutdown", "Value": 254, "IsSystem": True})])
    cols = value_columns(values, pa.array(["A", "B"]))
    assert cols.units.to_pylist() == ["A", ""]
    assert cols.is_system.to_pylist() == [False, True]


def test_integers_beyond_float_range_of_arrow_still_convert():
    out = rows([item("2026-11-24T20:00:00Z", 2**62), item("2026-11-24T20:00:01Z", 3)], units="")
    assert [r["value"] for r in out] == [float(2**62), 3.0]
    body = b'{"Items": [{"Timestamp": "2026-11-24T20:00:00Z", "Value": 1180591620717411303424}]}'
    columns = value_columns(TIMED_VALUES.decode(body).Items, "")
    assert columns.value.to_pylist() == [float(2**70)]


#: PI's forms of a bad or unusual value (piwebapi-facts §3.1-3.2) and the row each gives:
#: (value, string_value, digital_name, digital_code, is_system, good, errors)
BAD_FORMS = [
    ({"Value": {"Name": "I/O Timeout", "Value": 246}, "Good": False},
     (None, None, "I/O Timeout", 246, False, False, None)),
    ({"Value": {"Name": "I/O Timeout", "Value": 246, "IsSystem": True}, "Good": False},
     (None, None, "I/O Timeout", 246, True, False, None)),
    ({"Value": {"Errors": ["Failed to read the value from the data source."]}, "Good": False},
     (None, None, None, None, False, False, "Failed to read the value from the data source.")),
    ({"Value": {"Errors": ["first", "second"]}, "Good": False},
     (None, None, None, None, False, False, "first; second")),
    ({"Value": 1.5, "Good": False, "Errors": [{"FieldName": "Value", "Message": ["Point is under maintenance."]}]},
     (1.5, None, None, None, False, False, "Value: Point is under maintenance.")),
    ({"Value": {"Errors": ["no data"]}, "Good": False, "Errors": [{"Message": ["late"]}]},
     (None, None, None, None, False, False, "no data; late")),
    ({"Value": [1.5, 2.5, 3], "Good": True}, (None, "[1.5,2.5,3]", None, None, False, True, None)),
    ({"Value": [], "Good": True}, (None, "[]", None, None, False, True, None)),
]


@pytest.mark.parametrize("bad, expected", BAD_FORMS)
def test_each_bad_value_form_keeps_its_row_among_good_ones(bad, expected):
    out = rows([item("2026-11-24T20:00:00Z", 1.0), {"Timestamp": "2026-11-24T20:00:01Z", **bad},
                item("2026-11-24T20:00:02Z", 3.0)])
    got = [tuple(r[c] for c in ("value", "string_value", "digital_name", "digital_code", "is_system", "good",
                                "errors")) for r in out]
    assert got == [(1.0, None, None, None, False, True, None), expected, (3.0, None, None, None, False, True, None)]


def test_a_page_of_only_good_numbers_has_no_errors():
    out = rows([item("2026-11-24T20:00:00Z", 1.0), item("2026-11-24T20:00:01Z", 2)])
    assert [r["errors"] for r in out] == [None, None]


def test_a_value_that_is_no_json_pi_knows_is_still_refused_by_the_decoder():
    with pytest.raises(msgspec.ValidationError):
        TIMED_VALUES.decode(b'{"Items": [{"Timestamp": 12, "Value": 1}]}')


def test_utc_dates_match_arrows_cast_either_side_of_midnight_and_the_epoch():
    ns = np.array([0, -1, 86_400 * 10**9 - 1, 86_400 * 10**9, 1_764_028_799_999_999_999, 1_764_028_800_000_000_000,
                   -86_400 * 10**9, -86_400 * 10**9 - 1], dtype=np.int64)
    expected = pa.array(ns, pa.int64()).cast(pa.timestamp("ns", tz="UTC")).cast(pa.date32())
    assert utc_dates(ns).equals(expected)
    assert utc_dates(ns).to_pylist()[:4] == [dt.date(1970, 1, 1), dt.date(1969, 12, 31), dt.date(1970, 1, 1),
                                            dt.date(1970, 1, 2)]
