"""connector.spark.options on its own (no Spark session): how options become a ConnectorConfig, and
how a wrong one is named by the option the user wrote."""
from __future__ import annotations

import pytest

from connector.config import AFSelector
from connector.config import NameFilter
from connector.config import NameList
from connector.errors import ConfigError
from connector.spark.options import parse_options
from connector.spark.options import tag_selectors

URL = "http://127.0.0.1:9/piwebapi"


@pytest.mark.parametrize("value, expected", [
    (None, [{"name_filter": "*"}]),
    ("SYD.*", [{"name_filter": "SYD.*"}]),
    ("A, B,,C ", [{"names": ["A", "B", "C"]}]),
    ("\\\\AF01\\Plant", [{"af": {"database": "\\\\AF01\\Plant", "element_path": None}}]),
    ("\\\\AF01\\Plant\\Unit1\\Pump", [{"af": {"database": "\\\\AF01\\Plant",
                                              "element_path": "\\\\AF01\\Plant\\Unit1\\Pump"}}]),
])
def test_tag_selectors(value, expected):
    assert tag_selectors(value) == expected


def test_options_become_the_connectors_config():
    options = parse_options({"url": URL + "/", "tags": "A,B", "auth": "Basic", "username": "u", "password": "p",
                             "verify": "no", "dataServer": "PI01", "maxItemsPerCall": "5000", "maxCount": "100",
                             "table": "summary", "summaryType": "Average, Count", "summaryDuration": "30m",
                             "lookback": "5m", "webIdType": "Full"})
    config = options.config
    assert options.table == "summary_values" and options.max_count == 100
    assert options.lookback_ns == 5 * 60 * 10**9 and options.values_per_step == 2
    assert options.step_ns == 30 * 60 * 10**9
    assert config.source.url == URL and config.source.verify is False and config.source.data_server == "PI01"
    assert config.source.max_items_per_call == 5000 and config.source.web_id_type == "Full"
    assert config.source.auth.type == "basic" and config.source.auth.password.reveal() == "p"
    assert config.tags == (NameList(("A", "B")),)
    assert config.summaries.types == ("Average", "Count")


def test_selectors_by_wildcard_and_af_path():
    assert parse_options({"url": URL, "tags": "B*"}).config.tags == (NameFilter("B*"),)
    af = parse_options({"url": URL, "tags": "\\\\AF01\\Plant"}).config.tags
    assert af == (AFSelector(database="\\\\AF01\\Plant"),)


def test_a_config_problem_is_named_by_its_option_and_hides_secrets():
    with pytest.raises(ConfigError) as info:
        parse_options({"url": URL, "auth": "basic", "password": "s3cr3t"})
    assert info.value.field == "username" and "s3cr3t" not in str(info.value)
    with pytest.raises(ConfigError, match="calculationBasis"):
        parse_options({"url": URL, "table": "summary", "calculationBasis": "Sometimes"})


def test_unknown_options_pass_when_not_strict():
    assert parse_options({"url": URL, "somethingElse": "x"}, strict=False).table == "recorded_values"
    with pytest.raises(ConfigError, match="somethingelse"):
        parse_options({"url": URL, "somethingElse": "x"})


def test_a_stream_without_lookback_warns_that_late_values_are_not_read(caplog):
    from connector.spark.stream import PIStreamReader

    with caplog.at_level("WARNING", logger="connector.spark.stream"):
        PIStreamReader(parse_options({"url": URL, "tags": "A"}))
    assert [r.getMessage() for r in caplog.records] == [
        "pi stream of recorded_values: lookback is 0, so values PI receives late (timestamped before a tag's "
        "cursor) are never read; set the lookback option (e.g. 10m) and MERGE the micro-batches by the table's "
        "key to keep them"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="connector.spark.stream"):
        PIStreamReader(parse_options({"url": URL, "tags": "A", "lookback": "10m"}))
    assert caplog.records == []
