"""RetryPolicy: attempts, exponential backoff with full jitter, Retry-After, and status classification;
the retrying itself is tenacity's."""
from __future__ import annotations

import datetime as dt
import email.utils
import random
import socket
import ssl
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

import requests
import tenacity

from .errors import AuthError
from .errors import BadRequestError
from .errors import ConnectionFailedError
from .errors import FatalError
from .errors import PIRequestError
from .errors import RetriableError
from .errors import SkippableError
from .errors import UnknownPointError
from .errors import redact_url

T = t.TypeVar("T")
R = t.TypeVar("R")

#: Transport failures worth another try (the server may come back, the network may settle).
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
#: Transport failures no retry can cure (a bad certificate stays bad).
PERMANENT = (requests.exceptions.SSLError, requests.exceptions.InvalidURL)


def parse_retry_after(value: str | float | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 10.2.3).

    Args:
        value: the header value (a number is taken as seconds).
        now: the current time for HTTP-dates (default: the clock).

    Returns:
        Seconds, never negative; None when the value is absent or unreadable.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return max(0.0, float(value))
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def describe(exc: BaseException) -> str:
    """A short reason for a transport failure, without URLs (their query could carry a token)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    found: list[BaseException] = []
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        nested = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            nested.append(reason)
        nested += [e for e in (current.__cause__, current.__context__) if e is not None]
        stack.extend(nested)
    kinds = [type(e) for e in found]
    if any(issubclass(k, ConnectionRefusedError) for k in kinds):
        return "connection refused"
    if any(issubclass(k, socket.gaierror) for k in kinds):
        return "host name not resolved"
    if any(issubclass(k, (ssl.SSLError, requests.exceptions.SSLError)) for k in kinds):
        verify = next((e for e in found if isinstance(e, ssl.SSLCertVerificationError)), None)
        detail = f": {verify.verify_message}" if verify is not None and verify.verify_message else ""
        return f"TLS handshake failed{detail} (check source.verify)"
    if any(issubclass(k, requests.ConnectTimeout) for k in kinds):
        return "connection timed out"
    if any(issubclass(k, requests.ReadTimeout) for k in kinds):
        return "no answer within the read timeout"
    if any(issubclass(k, requests.exceptions.ChunkedEncodingError) for k in kinds):
        return "the connection broke while the response was being read"
    if any(issubclass(k, ConnectionResetError) for k in kinds):
        return "connection reset by the server"
    deepest = found[-1]
    return f"{type(deepest).__name__}"


def _url_of(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return redact_url(url) if url else "the PI Web API server"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a call.

    Attributes:
        attempts: tries in all (1 = no retry).
        backoff: the first backoff in seconds; attempt n waits up to backoff * 2**(n-1).
        max_backoff: the cap of one backoff, seconds.
        jitter: full jitter (a uniform draw in [0, backoff]) instead of the exact backoff.
        retry_statuses: HTTP statuses that are retried.
        max_retry_after: the cap on a server's Retry-After, seconds.
        rng: the random source of the jitter (seed it for reproducible tests).
    """

    attempts: int = 6
    backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: bool = True
    retry_statuses: tuple[int, ...] = (429, 500, 502, 503, 504)
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts: must be an integer >= 1, got {self.attempts!r}")
        for name in ("backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"RetryPolicy.{name}: must be a number >= 0, got {value!r}")
        object.__setattr__(self, "retry_statuses", tuple(self.retry_statuses))

    def delay(self, attempt: int, retry_after: float | str | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        Args:
            attempt: how many attempts have failed so far.
            retry_after: the server's Retry-After (seconds or an HTTP-date); when given it wins
                over the backoff, capped at max_retry_after.

        Returns:
            The delay in seconds.
        """
        if retry_after is not None:
            seconds = parse_retry_after(retry_after)
            if seconds is not None:
                return min(seconds, self.max_retry_after)
        cap = min(self.max_backoff, self.backoff * 2.0 ** max(0, attempt - 1))
        return self.rng.uniform(0.0, cap) if self.jitter else cap

    def classify(self, response: requests.Response | int) -> type[PIRequestError] | None:
        """The error class for a response (or a bare status); None for success (2xx).

        429 and 5xx in retry_statuses are RetriableError; 401/403 AuthError; 400 BadRequestError;
        404 UnknownPointError; 409 (an operation the object does not support, or a batch child of a
        failed parent) SkippableError; anything else FatalError.
        """
        status = response if isinstance(response, int) else response.status_code
        if 200 <= status < 300:
            return None
        if status in self.retry_statuses:
            return RetriableError
        if status in (401, 403):
            return AuthError
        if status == 400:
            return BadRequestError
        if status == 404:
            return UnknownPointError
        if status == 409:
            return SkippableError
        return FatalError

    def run(self, call: t.Callable[[], T], *, sleep: t.Callable[[float], object] = time.sleep,
            on_retry: t.Callable[[int, BaseException, float], object] | None = None) -> T:
        """Call `call()` until it returns, retrying RetriableError and transient transport errors.

        Args:
            call: performs one attempt; raises RetriableError (with retry_after) to ask for another.
            sleep: waits between attempts (patch it in tests).
            on_retry: told (attempt, error, delay) before each wait.

        Returns:
            What `call` returned.

        Raises:
            RetriableError: the last one, when every attempt failed with one.
            ConnectionFailedError: when the last attempt failed in transport (refused, timed out,
                reset), or at once for TLS errors and invalid URLs.
            PIRequestError: any other error of `call`, at once.
        """
        attempts = 0

        def counted() -> T:
            nonlocal attempts
            attempts += 1
            return call()

        def wait(state: tenacity.RetryCallState) -> float:
            error = t.cast(tenacity.Future, state.outcome).exception()
            return self.delay(state.attempt_number, error.retry_after if isinstance(error, RetriableError) else None)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if on_retry is not None:
                error = t.cast(tenacity.Future, state.outcome).exception()
                on_retry(state.attempt_number, t.cast(BaseException, error),
                         t.cast(float, getattr(state.next_action, "sleep", 0.0)))

        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(self.attempts),
                                     retry=tenacity.retry_if_exception(_worth_another_try), wait=wait,
                                     sleep=t.cast(t.Callable[[float], None], sleep), before_sleep=before_sleep,
                                     reraise=True)
        try:
            return retrying(counted)
        except RetriableError as exc:
            exc.attempts = attempts
            if attempts > 1 and exc.args:
                exc.args = (f"{exc.args[0]} (gave up after {attempts} attempts)", *exc.args[1:])
            raise
        except PERMANENT as exc:
            raise ConnectionFailedError(f"cannot reach {_url_of(exc)}: {describe(exc)}",
                                        request=getattr(exc, "request", None), url=_url_of(exc)) from exc
        except TRANSIENT as exc:
            url = _url_of(exc)
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            raise ConnectionFailedError(f"cannot reach {url}{tries}: {describe(exc)}",
                                        request=getattr(exc, "request", None), url=url) from exc

    def repeat(self, call: t.Callable[[], R], *, again: t.Callable[[R], bool],
               retry_after: t.Callable[[R], float | None], sleep: t.Callable[[float], object] = time.sleep,
               on_retry: t.Callable[[int, R, float], object] | None = None) -> R:
        """Call `call()` while `again(result)` holds, up to `attempts` calls, waiting as `delay` says.

        For answers that succeed as a whole but ask for part of the work to be done again (a batch
        whose sub-requests failed): no exception, the last result is returned when attempts run out.

        Args:
            call: one round; returns what the caller needs to decide on another.
            again: whether a result asks for another round.
            retry_after: the server's Retry-After (seconds) carried by a result, or None.
            sleep: waits between rounds (patch it in tests).
            on_retry: told (round, result, delay) before each wait.
        """
        def wait(state: tenacity.RetryCallState) -> float:
            return self.delay(state.attempt_number, retry_after(t.cast(tenacity.Future, state.outcome).result()))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if on_retry is not None:
                on_retry(state.attempt_number, t.cast(tenacity.Future, state.outcome).result(),
                         t.cast(float, getattr(state.next_action, "sleep", 0.0)))

        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(self.attempts),
                                     retry=tenacity.retry_if_result(again), wait=wait,
                                     sleep=t.cast(t.Callable[[float], None], sleep),
                                     before_sleep=before_sleep,
                                     retry_error_callback=lambda state: t.cast(tenacity.Future,
                                                                               state.outcome).result())
        return retrying(call)


def _worth_another_try(error: BaseException) -> bool:
    """RetriableError (429, 5xx) and transport failures a retry can cure (not TLS, not a bad URL)."""
    return isinstance(error, RetriableError) or (isinstance(error, TRANSIENT) and not isinstance(error, PERMANENT))
