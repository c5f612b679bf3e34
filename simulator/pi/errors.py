"""simulator.pi.errors: every error the simulator raises on purpose, and how PI renders it.

A PI Web API error body is ``{"Errors": ["message", ...]}``. `register(app)` makes Flask render
every `PIError`, and werkzeug's own 404/405 (keeping ``Allow``), that way.
"""
from __future__ import annotations

import typing as t

import orjson


class SimulatorError(Exception):
    """Base for every deliberate simulator error."""


class ScenarioError(SimulatorError):
    """A scenario file is wrong. The message names file, line, column and the field path."""

    exit_code = 2

    def __init__(self, message: str, *, file: str = "<scenario>", line: int | None = None,
                 column: int | None = None, path: str = "") -> None:
        self.file, self.line, self.column, self.path, self.message = file, line, column, path, message
        where = file
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


class PIError(SimulatorError):
    """An error answered to a client as ``{"Errors": [...]}`` with `status` and extra `headers`."""

    status = 500

    def __init__(self, *messages: str, status: int | None = None,
                 headers: t.Mapping[str, str] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})

    def body(self) -> bytes:
        return orjson.dumps({"Errors": self.messages})


class InvalidParameterError(PIError):
    """400: a query parameter or body is malformed or out of range."""

    status = 400


class TooManyValuesError(InvalidParameterError):
    """400: the request would return more than MaxReturnedItemsPerCall items."""


class UnauthorizedError(PIError):
    """401 with a ``WWW-Authenticate`` challenge per enabled method."""

    status = 401


class CsrfError(PIError):
    """403: a write without ``X-Requested-With`` while CSRF defence is on."""

    status = 403


class UnknownWebIdError(PIError):
    """404: a well-formed WebID or path that names nothing in this scenario."""

    status = 404


class ConflictError(PIError):
    """409: e.g. a batch sub-request whose parent failed."""

    status = 409


class InjectedFault(PIError):
    """A fault the scenario asked for (429/5xx, optional Retry-After); raised only by mock.faults."""


def error_response(error: PIError):
    """A Flask response for `error`."""
    from flask import Response

    response = Response(error.body(), status=error.status, mimetype="application/json")
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def register(app) -> None:
    """Render PIError and werkzeug HTTP errors as PI error bodies."""
    from werkzeug.exceptions import HTTPException

    app.register_error_handler(PIError, error_response)

    def http_error(exc: HTTPException):
        error = PIError(exc.description or exc.name, status=exc.code or 500)
        response = error_response(error)
        for name, value in exc.get_headers():
            if name.lower() == "allow":
                response.headers["Allow"] = value
        return response

    app.register_error_handler(HTTPException, http_error)
