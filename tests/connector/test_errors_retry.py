"""Tests of connector.errors and connector.retry: the error tree, backoff, Retry-After, classify, run()."""
from __future__ import annotations

import datetime as dt
import email.utils
import random
import socket
import time

import pytest
import requests

from connector import errors
from connector.errors import AuthError
from connector.errors import BadRequestError
from connector.errors import ConfigError
from connector.errors import ConnectionFailedError
from connector.errors import FatalError
from connector.errors import PIRequestError
from connector.errors import RetriableError
from connector.errors import SkippableError
from connector.errors import UnknownPointError
from connector.errors import redact_url
from connector.retry import RetryPolicy
from connector.retry import parse_retry_after


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_response(status: int, body: bytes = b"", url: str = "http://127.0.0.1:1/piwebapi/x",
                  headers: dict | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.url = url
    response.reason = {404: "Not Found", 503: "Service Unavailable"}.get(status, "")
    response.headers.update(headers or {})
    response.request = requests.Request("GET", url).prepare()
    return response


# --------------------------------------------------------------------------- the tree


def test_exit_codes_and_tree():
    assert errors.ConnectorError.exit_code == 1
    assert ConfigError.exit_code == 2
    assert issubclass(RetriableError, PIRequestError)
    assert issubclass(ConnectionFailedError, PIRequestError) and ConnectionFailedError.exit_code == 1
    assert issubclass(AuthError, FatalError) and issubclass(BadRequestError, FatalError)
    assert issubclass(UnknownPointError, SkippableError)
    assert not issubclass(SkippableError, FatalError)
    for cls in (errors.IntegrityError, errors.SinkError, ConfigError, PIRequestError):
        assert issubclass(cls, errors.ConnectorError)


def test_config_error_format():
    error = ConfigError("must be one of: a, b", file="c.yaml", line=12, field="source.auth.type")
    assert str(error) == "c.yaml:12: source.auth.type: must be one of: a, b"
    assert (error.file, error.line, error.field) == ("c.yaml", 12, "source.auth.type")
    assert str(ConfigError("bad", file="<dict>", line=None, field="tags")) == "<dict>: tags: bad"
    later = ConfigError("y", file="c.yaml", line=9, field="b")
    more = ConfigError("x", file="c.yaml", line=3, field="a", more=[later])
    assert str(more) == "c.yaml:3: a: x\nc.yaml:9: b: y"


def test_message_names_url_status_and_pi_errors():
    body = b'{"Errors": ["The specified point was not found.", "Second."]}'
    response = fake_response(404, body, url="http://user:pw@127.0.0.1:1/piwebapi/points/X?token=abc&a=1")
    error = UnknownPointError.from_response(response)
    assert str(error) == ("GET http://127.0.0.1:1/piwebapi/points/X?token=***&a=1: 404 Not Found: "
                          "The specified point was not found. Second.")
    assert error.status == 404 and error.errors == ["The specified point was not found.", "Second."]
    assert "pw" not in str(error) and "abc" not in str(error)


def test_pi_errors_non_json_and_web_exception():
    assert errors.pi_errors(b"<html>\n  <b>Bad   gateway</b></html>") == ["<html> <b>Bad gateway</b></html>"]
    web_exception = b'{"WebException": {"Errors": ["stream broke"], "StatusCode": 500}}'
    assert errors.pi_errors(web_exception) == ["stream broke"]
    assert errors.pi_errors(b"") == []
    assert len(errors.pi_errors(b"x" * 1000)[0]) == errors.BODY_SNIPPET + 3


@pytest.mark.parametrize("url, logged", [
    ("https://u:p@pi.example.com/piwebapi", "https://pi.example.com/piwebapi"),
    ("https://pi/piwebapi/x?access_token=s3cr3t&webId=A&webId=B",
     "https://pi/piwebapi/x?access_token=***&webId=A&webId=B"),
    ("https://pi/piwebapi/x?Password=x", "https://pi/piwebapi/x?Password=***"),
    ("https://pi/piwebapi/x?nameFilter=SYD*", "https://pi/piwebapi/x?nameFilter=SYD*"),
])
def test_redact_url(url, logged):
    assert redact_url(url) == logged


# --------------------------------------------------------------------------- delays


def test_backoff_grows_exponentially_and_is_capped():
    policy = RetryPolicy(backoff=0.5, max_backoff=4.0, jitter=False)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_full_jitter_is_bounded_and_reproducible():
    first = RetryPolicy(backoff=1.0, max_backoff=30.0, rng=random.Random(7))
    second = RetryPolicy(backoff=1.0, max_backoff=30.0, rng=random.Random(7))
    draws = [first.delay(n) for n in range(1, 9)]
    assert draws == [second.delay(n) for n in range(1, 9)]
    for n, value in enumerate(draws, start=1):
        assert 0.0 <= value <= min(30.0, 2.0 ** (n - 1))
    many = [RetryPolicy(backoff=1.0, rng=random.Random(n)).delay(4) for n in range(200)]
    assert min(many) < 2.0 < max(many) <= 8.0  # spread over [0, 8], not clustered at the cap


def test_retry_after_seconds_wins_over_backoff_and_is_capped():
    policy = RetryPolicy(backoff=0.5, jitter=False, max_retry_after=120.0)
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(5, retry_after="7") == 7.0
    assert policy.delay(1, retry_after=9999) == 120.0
    assert policy.delay(2, retry_after="not a date") == 1.0  # unreadable: plain backoff


def test_retry_after_http_date():
    now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.timezone.utc)
    header = email.utils.format_datetime(now + dt.timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(header, now=now) == 42.0
    past = email.utils.format_datetime(now - dt.timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
    for unreadable in (None, "", "soon"):
        assert parse_retry_after(unreadable) is None
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)
    later = email.utils.format_datetime(soon, usegmt=True)
    assert 25.0 <= RetryPolicy().delay(1, retry_after=later) <= 30.0


def test_policy_validates_its_fields():
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="backoff"):
        RetryPolicy(backoff=-1)


# --------------------------------------------------------------------------- classify


@pytest.mark.parametrize("status, expected", [
    (200, None), (207, None), (400, BadRequestError), (401, AuthError), (403, AuthError),
    (404, UnknownPointError), (409, SkippableError), (429, RetriableError), (500, RetriableError),
    (502, RetriableError), (503, RetriableError), (504, RetriableError), (405, FatalError), (501, FatalError),
])
def test_classify(status, expected):
    policy = RetryPolicy()
    assert policy.classify(status) is expected
    assert policy.classify(fake_response(status)) is expected


def test_classify_honours_retry_statuses():
    assert RetryPolicy(retry_statuses=(503,)).classify(500) is FatalError


# --------------------------------------------------------------------------- run


def retriable(status: int = 503, retry_after: float | None = None) -> RetriableError:
    error = RetriableError.from_response(fake_response(status))
    error.retry_after = retry_after
    return error


def test_run_retries_then_succeeds():
    outcomes = [retriable(), retriable(429, retry_after=2.0), requests.ConnectionError("reset"), "done"]
    slept, told = [], []

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(attempts=6, backoff=0.1, jitter=False)
    result = policy.run(call, sleep=slept.append, on_retry=lambda n, e, d: told.append((n, type(e), d)))
    assert result == "done"
    assert slept == [0.1, 2.0, 0.4]
    assert told == [(1, RetriableError, 0.1), (2, RetriableError, 2.0), (3, requests.ConnectionError, 0.4)]


def test_run_exhausts_and_raises_the_last_retriable_error():
    calls = []

    def call():
        calls.append(1)
        raise retriable(503)

    slept = []
    with pytest.raises(RetriableError) as info:
        RetryPolicy(attempts=3, backoff=0.01, jitter=False).run(call, sleep=slept.append)
    assert len(calls) == 3 and len(slept) == 2
    assert info.value.attempts == 3 and info.value.status == 503
    assert "gave up after 3 attempts" in str(info.value)


def test_run_does_not_retry_fatal_or_skippable_errors():
    for error in (AuthError("no"), UnknownPointError("gone"), BadRequestError("bad")):
        calls = []

        def call(error=error):
            calls.append(1)
            raise error

        with pytest.raises(type(error)):
            RetryPolicy(attempts=5).run(call, sleep=lambda s: None)
        assert calls == [1]


def test_connection_refused_becomes_connection_failed_error():
    port = closed_port()
    url = f"http://127.0.0.1:{port}/piwebapi/system/userinfo?token=hidden"
    slept = []
    started = time.monotonic()
    with requests.Session() as session, pytest.raises(ConnectionFailedError) as info:
        RetryPolicy(attempts=3, backoff=0.01).run(lambda: session.get(url, timeout=2), sleep=slept.append)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "connection refused" in message
    assert "after 3 attempts" in message
    assert "hidden" not in message
    assert len(slept) == 2 and isinstance(info.value.__cause__, requests.ConnectionError)


def test_timeouts_and_broken_streams_are_retried():
    outcomes = [requests.ReadTimeout("slow"), requests.exceptions.ChunkedEncodingError("cut"), 1]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert RetryPolicy(backoff=0.0).run(call, sleep=lambda s: None) == 1


def test_tls_errors_are_not_retried():
    calls = []

    def call():
        calls.append(1)
        raise requests.exceptions.SSLError("certificate verify failed")

    with pytest.raises(ConnectionFailedError, match="TLS"):
        RetryPolicy(attempts=4).run(call, sleep=lambda s: None)
    assert calls == [1]


@pytest.mark.parametrize("error, reason", [
    (requests.ConnectionError(socket.gaierror(-2, "Name or service not known")), "host name not resolved"),
    (requests.ConnectTimeout("connect"), "connection timed out"),
    (requests.ReadTimeout("read"), "no answer within the read timeout"),
    (requests.exceptions.ChunkedEncodingError("cut"), "the connection broke while the response was being read"),
    (requests.ConnectionError(ConnectionResetError(104, "reset")), "connection reset by the server"),
    (requests.ConnectionError(OSError("odd")), "OSError"),
])
def test_describe_names_the_transport_failure(error, reason):
    from connector.retry import describe

    assert describe(error) == reason


def test_describe_gives_the_certificate_problem():
    import ssl

    from connector.retry import describe

    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    error = requests.exceptions.SSLError(cause)
    assert describe(error) == "TLS handshake failed: self-signed certificate (check source.verify)"


def test_repeat_rounds_until_done_honouring_retry_after():
    answers = [{"a", "b"}, {"b"}, set()]
    slept, told = [], []
    result = RetryPolicy(attempts=5, backoff=0.1, jitter=False).repeat(
        lambda: answers.pop(0), again=bool, retry_after=lambda again: 3.0 if "a" in again else None,
        sleep=slept.append, on_retry=lambda n, again, delay: told.append((n, sorted(again), delay)))
    assert result == set() and slept == [3.0, 0.2]
    assert told == [(1, ["a", "b"], 3.0), (2, ["b"], 0.2)]


def test_repeat_returns_the_last_result_when_attempts_run_out():
    calls = []

    def call():
        calls.append(1)
        return {"still failing"}

    slept = []
    result = RetryPolicy(attempts=3, backoff=0.0).repeat(call, again=bool, retry_after=lambda r: None,
                                                         sleep=slept.append)
    assert result == {"still failing"} and len(calls) == 3 and len(slept) == 2
