"""simulator.serving.auth: the scenario's authentication methods and PI's CSRF defence, as request hooks.

Anonymous (when enabled) lets everyone in, as in PI Web API. Otherwise every /piwebapi route needs
valid Basic credentials or a Bearer token, and a failure is a 401 that carries one
WWW-Authenticate challenge per enabled method. With CSRF defence on, POST/PUT/PATCH/DELETE without
an X-Requested-With header get 403 (after authentication and routing, as in PI: an anonymous caller
sees the 401, a method the resource does not allow the 405).
/health is the simulator's own and stays open.

The admin API (/__admin, WireMock's side) is guarded separately, like WireMock's admin auth: once the
scenario's data routes need credentials (or `admin: {auth: required}`), every /__admin route needs
the scenario's `admin` Basic credentials or a Bearer admin token (`admin.tokens`, `--admin-token`),
else 401. `admin: {auth: none}` or `--admin-open` opens it to everyone (local QA only).
"""
from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from flask import g
from flask import request

from ..pi.errors import CsrfError
from ..pi.errors import UnauthorizedError
from ..scenario.model import Admin
from ..scenario.model import Auth
from ..scenario.model import User

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ADMIN_REALM = "pi-sim admin"


@dataclass(frozen=True)
class AdminAccess:
    """Who may use /__admin: everyone (`open`), or holders of these Basic credentials or Bearer tokens."""

    open: bool
    users: tuple[User, ...] = ()
    tokens: tuple[str, ...] = ()


def admin_access(auth: Auth, admin: Admin, *, token: str | None = None, open_: bool = False) -> AdminAccess:
    """The admin guard a scenario and the settings ask for (see the module docstring)."""
    tokens = admin.tokens + ((token,) if token else ())
    if open_ or admin.auth == "none":
        return AdminAccess(open=True)
    if admin.auth == "auto" and "anonymous" in auth.methods:
        return AdminAccess(open=True)
    return AdminAccess(open=False, users=admin.users, tokens=tokens)


def is_admin(path: str) -> bool:
    lowered = path.lower()
    return lowered == "/__admin" or lowered.startswith("/__admin/")


def check_admin(access: AdminAccess, headers) -> None:
    """Nothing for an admin caller (or an open admin API); 401 with Basic and Bearer challenges otherwise."""
    if access.open:
        return
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    scheme = scheme.lower()
    if scheme == "basic" and _basic_user(access.users, credentials.strip()) is not None:
        return
    if scheme == "bearer" and _known_token(access.tokens, credentials.strip()):
        return
    raise UnauthorizedError("The admin API requires admin credentials (Basic) or an admin token (Bearer).",
                            headers={"WWW-Authenticate": f'Bearer realm="{ADMIN_REALM}", Basic realm="{ADMIN_REALM}"'})


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
        user = _basic_user(auth.users, credentials.strip())
        if user is not None:
            return user
    elif scheme == "bearer" and "bearer" in auth.methods:
        if _known_token(auth.tokens, credentials.strip()):
            return "bearer-client"
    raise UnauthorizedError("Authorization has been denied for this request.", headers=_challenges(auth))


def _known_token(tokens: tuple[str, ...], token: str) -> bool:
    return any(hmac.compare_digest(token.encode(), known.encode()) for known in tokens)


def _basic_user(users: tuple[User, ...], credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    for user in users:
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


def init_app(app, auth: Auth, admin: AdminAccess | None = None) -> None:
    admin = admin or AdminAccess(open=True)
    app.extensions["pisim.admin"] = admin

    @app.before_request
    def authenticate():
        if is_admin(request.path):
            check_admin(admin, request.headers)
            return
        g.pisim_user = check(auth, request.method, request.path, request.headers,
                             routed=request.routing_exception is None)
