"""simulator.auth: the scenario's authentication methods and PI's CSRF defence, as request hooks.

Anonymous (when enabled) lets everyone in, as in PI Web API. Otherwise every /piwebapi route needs
valid Basic credentials or a Bearer token, and a failure is a 401 that carries one
WWW-Authenticate challenge per enabled method. With CSRF defence on, POST/PUT/PATCH/DELETE without
an X-Requested-With header get 403 (after authentication and routing, as in PI: an anonymous caller
sees the 401, a method the resource does not allow the 405).
/health and /__admin are the simulator's own and stay open.
"""
from __future__ import annotations

import base64
import binascii
import hmac

from flask import g
from flask import request

from .errors import CsrfError
from .errors import UnauthorizedError
from .scenario.model import Auth

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def protected(path: str) -> bool:
    return path.lower().startswith("/piwebapi")


def check(auth: Auth, method: str, path: str, headers, *, routed: bool = True) -> str | None:
    """The authenticated user name (None for anonymous); raises 401/403 errors.

    `routed` is false for a request no route accepts: it still needs credentials, but then gets
    its 404 or 405 rather than the CSRF 403 (PI checks CSRF on the action it selected).
    """
    if not protected(path):
        return None
    user = _authenticate(auth, headers)
    if routed and auth.csrf and method.upper() in WRITE_METHODS and not headers.get("X-Requested-With"):
        raise CsrfError("The request requires the header 'X-Requested-With' (CSRF defence is enabled).")
    return user


def _authenticate(auth: Auth, headers) -> str | None:
    """Who is asking (None for anonymous); 401 with the challenges when nobody valid is."""
    if "anonymous" in auth.methods:
        return None
    header = headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic" and "basic" in auth.methods:
        user = _basic_user(auth, credentials.strip())
        if user is not None:
            return user
    elif scheme == "bearer" and "bearer" in auth.methods:
        token = credentials.strip()
        if any(hmac.compare_digest(token.encode(), known.encode()) for known in auth.tokens):
            return "bearer-client"
    raise UnauthorizedError("Authorization has been denied for this request.", headers=_challenges(auth))


def _basic_user(auth: Auth, credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    for user in auth.users:
        if (hmac.compare_digest(username.lower().encode(), user.username.lower().encode())
                and hmac.compare_digest(password.encode(), user.password.encode())):
            return user.username
    return None


def _challenges(auth: Auth) -> dict[str, str]:
    values = []
    if "bearer" in auth.methods:
        values.append(f'Bearer realm="{auth.realm}"')
    if "basic" in auth.methods:
        values.append(f'Basic realm="{auth.realm}"')
    return {"WWW-Authenticate": ", ".join(values)}


def init_app(app, auth: Auth) -> None:
    @app.before_request
    def authenticate():
        g.pisim_user = check(auth, request.method, request.path, request.headers,
                             routed=request.routing_exception is None)
