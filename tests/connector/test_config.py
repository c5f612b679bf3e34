"""Tests of connector.config: the example files, file:line errors, ${ENV}, secrets, PI times and durations."""
from __future__ import annotations

import datetime as dt
import pickle
import re
from pathlib import Path

import pytest
from picommon.markedyaml import substitute

from connector.config import AFSelector
from connector.config import ConnectorConfig
from connector.config import NameFilter
from connector.config import NameList
from connector.config import Secret
from connector.config import load_config
from connector.config import parse_duration
from connector.config import resolve_time
from connector.errors import ConfigError

CONFIGS = Path(__file__).parent / "configs"
BAD = sorted(CONFIGS.glob("bad-*.yaml"))
NOW = dt.datetime(2026, 11, 25, 13, 45, 30, tzinfo=dt.timezone.utc)
UTC = dt.timezone.utc


def minimal(**sections: object) -> dict:
    config = {"source": {"url": "http://127.0.0.1:8000/piwebapi"}, "destination": {"uri": "lake"},
              "tags": [{"name_filter": "TINY.*"}]}
    config.update(sections)
    return config


# --------------------------------------------------------------------------- good files


def test_full_example_loads():
    config = load_config(CONFIGS / "full.yaml", environ={"PI_PASSWORD": "pw-from-env"})
    source = config.source
    assert source.url == "http://127.0.0.1:8000/piwebapi"
    assert source.auth.type == "basic" and source.auth.username == "PIDOMAIN\\svc-lakehouse"
    assert source.auth.password.reveal() == "pw-from-env"
    assert (source.verify, source.timeout, source.connect_timeout) == (True, 60.0, 10.0)
    assert (source.data_server, source.web_id_type, source.concurrency) == ("PISRV01", "IDOnly", 4)
    assert source.retry.attempts == 6 and source.retry.max_backoff == 30.0
    assert config.destination.uri == str((CONFIGS / "lakehouse").resolve())
    assert config.destination.storage_options == {"AWS_ALLOW_HTTP": "true",
                                                  "AWS_SECRET_ACCESS_KEY": "not-a-real-key"}
    assert config.tags == (NameFilter("SYD.*"), NameList(("TINY.FLOAT32", "TINY.DIGITAL")),
                           AFSelector("\\\\PIAF01\\TinyDB", "Tank", None, ("Temperature", "Pressure")))
    assert config.recorded.lookback == dt.timedelta(minutes=10) and config.recorded.method == "streamsets"
    assert config.interpolated.interval == "1h" and config.interpolated.start == "t-7d"
    assert config.summaries.types == ("Average", "Minimum", "Maximum")
    assert config.event_frames.lookback == dt.timedelta(days=1)
    assert config.event_frames.search_mode == "Overlapped"
    assert config.file.endswith("full.yaml")
    assert config.line_of("source.auth.type") == 6
    assert config.line_of("tags[2].af.database") == 28
    assert config.line_of("source.auth.type.nothing.below") == 6
    assert str(config.error("source.data_server", "not on the server")).endswith(
        "full.yaml:12: source.data_server: not on the server")


def test_good_examples_load(monkeypatch):
    monkeypatch.delenv("PICONN_TEST_TOKEN", raising=False)
    minimal_config = load_config(CONFIGS / "good-minimal.yaml")
    assert minimal_config.source.auth.type == "anonymous" and minimal_config.recorded.enabled
    metadata = load_config(CONFIGS / "good-metadata-only.yaml", environ={})
    assert metadata.tags == () and not metadata.recorded.enabled
    assert metadata.source.auth.token.reveal() == "token-from-default"
    assert metadata.destination.uri == "s3://bucket/lakehouse"
    assert metadata.af.databases == ("\\\\PIAF01\\TinyDB",)
    assert metadata.event_frames.start == "2026-11-01"


def test_config_pickles_and_compares():
    config = load_config(CONFIGS / "full.yaml", environ={})
    again = pickle.loads(pickle.dumps(config))
    assert again == config and again.source.auth.password.reveal() == "change-me"
    assert hash(again) == hash(config)


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_gives_line_and_field(path):
    expected = re.match(r"# expect: (\d+): (\S+): (.*)", path.read_text().splitlines()[0])
    assert expected, f"{path.name}: the first line must read '# expect: <line>: <field>: <message>'"
    line, field, message = int(expected[1]), expected[2], expected[3]
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    error = info.value
    assert (error.line, error.field) == (line, field), str(error)
    assert message in str(error)
    assert str(error).startswith(f"{path}:{line}: {field}: ")
    assert error.exit_code == 2


def test_every_problem_is_reported_first_by_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("source:\n  url: ftp://x\n  timeout: -1\ndestination: {}\nrecorded: {method: fast}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{path}:2: source.url: must be an http(s) URL")
    assert any(f"{path}:3: source.timeout: must be > 0" in line for line in lines)
    assert any(f"{path}:4: destination.uri: is required" in line for line in lines)
    assert any(f"{path}:5: recorded.method: must be one of: streamsets, batch" in line for line in lines)
    assert len(info.value.more) == 3


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(tmp_path / "list.yaml")


def test_verify_accepts_an_existing_bundle_relative_to_the_file(tmp_path):
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path = tmp_path / "c.yaml"
    path.write_text("source: {url: 'https://pi/piwebapi', verify: ca.pem}\ndestination: {uri: lake}\n"
                    "tags: [{names: [A]}]\n")
    config = load_config(path, environ={})
    assert config.source.verify == str(tmp_path / "ca.pem")
    assert config.destination.uri == str(tmp_path / "lake")


# --------------------------------------------------------------------------- secrets


def test_secrets_never_in_repr_str_or_errors():
    environ = {"PI_PASSWORD": "hunter2-password", "AWS_SECRET_ACCESS_KEY": "aws-secret-value"}
    config = load_config(CONFIGS / "full.yaml", environ=environ)
    for text in (repr(config), str(config), repr(config.source), repr(config.source.auth),
                 repr(config.destination)):
        assert "hunter2-password" not in text and "aws-secret-value" not in text
    assert repr(Secret("x")) == "Secret('***')" and str(Secret("x")) == "***"
    bearer = ConnectorConfig.from_dict(minimal(source={"url": "http://h/piwebapi",
                                                      "auth": {"type": "bearer", "token": "tok-123"}}))
    assert "tok-123" not in repr(bearer)
    with pytest.raises(ConfigError) as info:  # a secret of the wrong type is not echoed
        auth = {"type": "basic", "username": "u", "password": 987654}
        ConnectorConfig.from_dict(minimal(source={"url": "http://h/piwebapi", "auth": auth}))
    assert "987654" not in str(info.value) and "source.auth.password: must be a string" in str(info.value)


def test_auth_fields_must_fit_the_type():
    with pytest.raises(ConfigError, match=r"source.auth.token: is not used by basic authentication"):
        ConnectorConfig.from_dict(minimal(source={"url": "http://h/piwebapi", "auth": {
            "type": "basic", "username": "u", "password": "p", "token": "t"}}))
    with pytest.raises(ConfigError, match=r"source.auth.token: is required for bearer"):
        ConnectorConfig.from_dict(minimal(source={"url": "http://h/piwebapi", "auth": {"type": "Bearer"}}))


# --------------------------------------------------------------------------- from_dict and env


def test_from_dict_defaults_and_errors_without_lines(tmp_path):
    config = ConnectorConfig.from_dict(minimal(), base_dir=tmp_path)
    assert config.file == "<dict>" and config.destination.uri == str(tmp_path / "lake")
    assert config.source.retry.attempts == 6 and config.af.enabled and not config.interpolated.enabled
    with pytest.raises(ConfigError) as info:
        ConnectorConfig.from_dict(minimal(recorded={"lookback": "10 parsecs"}), source="lakeflow options")
    assert str(info.value).startswith(
        "lakeflow options: recorded.lookback: interval '10 parsecs' has an unknown unit 'parsecs'")
    assert info.value.line is None


def test_env_substitution(tmp_path):
    environ = {"PI_URL": "http://127.0.0.1:9/piwebapi", "EMPTY": ""}
    config = ConnectorConfig.from_dict(minimal(source={"url": "${PI_URL}", "timeout": "${T:-15}"}),
                                       environ=environ, base_dir=tmp_path)
    assert config.source.url == "http://127.0.0.1:9/piwebapi" and config.source.timeout == 15.0
    assert substitute("a$$b ${EMPTY:-x} ${EMPTY}.", environ) == "a$b x ."
    with pytest.raises(KeyError):
        substitute("${MISSING}", {})
    with pytest.raises(ValueError, match="malformed"):
        substitute("${not closed", {})
    with pytest.raises(ConfigError, match=r"<dict>: destination.uri: environment variable LAKE is not set"):
        ConnectorConfig.from_dict(minimal(destination={"uri": "${LAKE}"}), environ={})


# --------------------------------------------------------------------------- times and durations


@pytest.mark.parametrize("text, expected", [
    ("*", NOW),
    ("mon", dt.datetime(2026, 11, 23, tzinfo=UTC)),  # weekday names, as PI reads them (the simulator's parser)
    ("2026-11-24T06:00:00+10:00", dt.datetime(2026, 11, 23, 20, tzinfo=UTC)),  # an offset is honoured
    ("*-1d", NOW - dt.timedelta(days=1)),
    ("* - 90m", NOW - dt.timedelta(minutes=90)),
    ("-2h", NOW - dt.timedelta(hours=2)),
    ("*+1.5h", NOW + dt.timedelta(hours=1.5)),
    ("t", dt.datetime(2026, 11, 25, tzinfo=UTC)),
    ("today", dt.datetime(2026, 11, 25, tzinfo=UTC)),
    ("T+6h", dt.datetime(2026, 11, 25, 6, tzinfo=UTC)),
    ("y", dt.datetime(2026, 11, 24, tzinfo=UTC)),
    ("yesterday-1h", dt.datetime(2026, 11, 23, 23, tzinfo=UTC)),
    ("*-1mo", dt.datetime(2026, 10, 25, 13, 45, 30, tzinfo=UTC)),
    ("*-1y", dt.datetime(2025, 11, 25, 13, 45, 30, tzinfo=UTC)),
    ("*-1w+2d", NOW - dt.timedelta(days=5)),
    ("2026-11-24", dt.datetime(2026, 11, 24, tzinfo=UTC)),
    ("2026-11-24T06:30:00Z", dt.datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),
    ("2026-11-24T08:30:00+02:00", dt.datetime(2026, 11, 24, 6, 30, tzinfo=UTC)),
    ("2026-11-24T06:30:00.1234567Z", dt.datetime(2026, 11, 24, 6, 30, 0, 123456, tzinfo=UTC)),
])
def test_resolve_time(text, expected):
    assert resolve_time(text, NOW) == expected


def test_resolve_time_month_end_and_naive_now():
    assert resolve_time("*-1mo", dt.datetime(2026, 3, 31)) == dt.datetime(2026, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "tomorrow", "*-1x", "*-d", "t+", "2026-13-01", "*-1.5mo", "now"])
def test_resolve_time_rejects(text):
    with pytest.raises(ValueError):
        resolve_time(text, NOW)


@pytest.mark.parametrize("text, expected", [
    ("10m", dt.timedelta(minutes=10)), ("1h", dt.timedelta(hours=1)), ("1.5d", dt.timedelta(hours=36)),
    ("30 s", dt.timedelta(seconds=30)), ("2w", dt.timedelta(days=14)), ("3 hours", dt.timedelta(hours=3)),
    ("0s", dt.timedelta(0)), ("250ms", dt.timedelta(milliseconds=250)), ("01:30:00", dt.timedelta(minutes=90)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["10", "h", "-1h", "1mo", "1y", "1 parsec", "1h30m", "-00:30:00"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_unquoted_yaml_times_stay_text(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("source: {url: 'http://h/piwebapi'}\ndestination: {uri: lake}\ntags: [{names: [A]}]\n"
                    "recorded: {start: 2026-11-01T00:00:00Z}\nevent_frames: {start: 2026-10-01}\n")
    config = load_config(path, environ={})
    assert resolve_time(config.recorded.start, NOW) == dt.datetime(2026, 11, 1, tzinfo=UTC)
    assert config.event_frames.start == "2026-10-01"


def test_yaml_1_2_booleans_only(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("source: {url: 'http://h/piwebapi'}\ndestination: {uri: lake}\ntags: [{names: [A]}]\n"
                    "af: {enabled: yes}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(info.value) == f"{path}:4: af.enabled: must be true or false, got 'yes'"
