"""Errors the connector raises on purpose, grouped by what the runner does next."""
from __future__ import annotations

import re
import typing as t
from urllib.parse import unquote_plus
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import msgspec

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

#: Query parameters whose values never appear in logs or messages (compared case-insensitively).
SECRET_PARAMS = frozenset({
    "access_token", "api_key", "apikey", "auth", "authorization", "client_secret", "code", "id_token",
    "key", "passwd", "password", "pwd", "refresh_token", "secret", "sig", "signature", "token",
})
REDACTED = "***"
#: At most this many characters of a non-JSON error body go into a message.
BODY_SNIPPET = 200


def redact_url(url: str) -> str:
    """The URL as it may appear in logs: no user:password@, secret query values replaced by ***.

    Args:
        url: any URL (absolute or not).

    Returns:
        The same URL without credentials; other parts are kept as they were.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    pieces = []
    for piece in parts.query.split("&") if parts.query else ():
        name, equals, _ = piece.partition("=")
        if equals and unquote_plus(name).lower() in SECRET_PARAMS:
            piece = f"{name}={REDACTED}"
        pieces.append(piece)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pieces), parts.fragment))


def pi_errors(body: bytes | str | None) -> list[str]:
    """PI's messages from an error body: the strings of {"Errors": [...]} (or of a WebException).

    A body that is not PI's error JSON gives its first characters, whitespace collapsed; an empty
    body gives [].
    """
    if not body:
        return []
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        document = msgspec.json.decode(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        lowered = {str(k).lower(): v for k, v in document.items()}
        if isinstance(lowered.get("webexception"), dict):
            lowered = {str(k).lower(): v for k, v in lowered["webexception"].items()}
        errors = lowered.get("errors")
        if isinstance(errors, list) and errors:
            return [str(e) for e in errors]
        if isinstance(lowered.get("message"), str):
            return [lowered["message"]]
    snippet = re.sub(r"\s+", " ", text).strip()
    if not snippet:
        return []
    return [snippet if len(snippet) <= BODY_SNIPPET else snippet[:BODY_SNIPPET] + "..."]


class ConnectorError(Exception):
    """Base for every deliberate connector error."""

    exit_code = 1


class ConfigError(ConnectorError):
    """The configuration is wrong; nothing ran. Reads `file:line: field: problem`.

    Attributes:
        file: the configuration file (or "<dict>" for a mapping).
        line: 1-based line of the offending key, or None when unknown.
        field: dotted path of the field, e.g. "source.auth.type" or "tags[1].names".
        problem: the message without the location.
        more: further errors found in the same file (already part of the message).
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str, line: int | None, field: str,
                 more: Sequence[ConfigError] = ()) -> None:
        self.file, self.line, self.field, self.problem = file, line, field, message
        self.more = tuple(more)
        text = self.location() + f": {message}"
        if self.more:
            text += "".join(f"\n{error.location()}: {error.problem}" for error in self.more)
        super().__init__(text)

    def location(self) -> str:
        """`file:line: field` (`file: field` without a line)."""
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}"


class PIRequestError(ConnectorError):
    """A PI Web API call failed; carries what was sent and what came back (as requests does).

    Attributes:
        request: the requests.PreparedRequest, if any.
        response: the requests.Response, if one came back.
        url: the URL without credentials.
        status: the HTTP status (None when no response came back).
        errors: PI's messages from {"Errors": [...]}.
    """

    def __init__(self, message: str, *, request: requests.PreparedRequest | None = None,
                 response: requests.Response | None = None, url: str | None = None,
                 status: int | None = None, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.request, self.response = request, response
        self.url = redact_url(url) if url else None
        self.status = status
        self.errors = list(errors)

    @classmethod
    def from_response(cls, response: requests.Response, *, hint: str = "") -> PIRequestError:
        """The error for a non-2xx response: `GET <url>: 404 Not Found: <PI's messages>`."""
        request = response.request
        method = request.method if request is not None else "?"
        url = redact_url(response.url or (request.url if request is not None else "") or "")
        errors = pi_errors(response.content)
        message = f"{method} {url}: {response.status_code}"
        if response.reason:
            message += f" {response.reason}"
        if errors:
            message += ": " + " ".join(errors)
        if hint:
            message += f" ({hint})"
        return cls(message, request=request, response=response, url=url,
                   status=response.status_code, errors=errors)


class RetriableError(PIRequestError):
    """429, 5xx, timeout or reset: back off (honouring retry_after) and try again.

    Raised out of RetryPolicy.run only once the attempts are spent; `attempts` then says how many.
    """

    retry_after: float | None = None
    attempts: int = 1


class ConnectionFailedError(PIRequestError):
    """The server could not be reached (refused, DNS, TLS, timeouts) even after retries."""


class FatalError(PIRequestError):
    """Other 4xx (and unexpected answers): stop the run, move no checkpoint."""


class AuthError(FatalError):
    """401 or 403: wrong credentials, no access, or a POST refused by CSRF defence."""


class BadRequestError(FatalError):
    """400: PI refused the request's parameters; `errors` holds PI's messages."""


class SkippableError(PIRequestError):
    """Note it in run_log, skip the tag (or object), go on."""


class UnknownPointError(SkippableError):
    """404 for a WebID or path that does not exist (any more)."""


#: PI's words for a WebID or path that names nothing (a 400 carrying them is a "not found" too).
NOT_FOUND_TEXT = ("not found", "does not exist")


def stream_error(web_id: str, status: int, messages: Sequence[str]) -> PIRequestError:
    """The error of one stream inside a bigger answer (a stream set member, a batch child).

    Only a real "not found" (404, or PI's not-found text) is an UnknownPointError, which lets the
    caller skip the tag; anything else (a 400 for bad parameters, a 5xx, no status) must fail the run.
    """
    text = f"tag {web_id}: HTTP {status}: {'; '.join(messages) or 'no message'}"
    if status == 404 or any(word in message.lower() for message in messages for word in NOT_FOUND_TEXT):
        return UnknownPointError(text, status=status, errors=messages)
    return PIRequestError(text, status=status, errors=messages)


class IntegrityError(ConnectorError):
    """A page seam or sort check failed: abort before any checkpoint moves."""


class SinkError(ConnectorError):
    """A Delta write failed (wraps deltalake.exceptions.DeltaError, names the table)."""
