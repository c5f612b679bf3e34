"""PIClient: one requests.Session per thread, with auth, timeouts, gzip, TLS, CSRF header and retries.

Every call goes through RetryPolicy.run: 429/5xx, resets and timeouts are retried with backoff
(honouring Retry-After); every other non-2xx answer becomes an error of connector.errors. Paths are
relative to the PI Web API root (".../piwebapi"); PI's absolute Links work too. The session's
connection pool holds `concurrency` connections, so one client can serve a thread pool.
"""
from __future__ import annotations

import logging
import threading
import time
import typing as t
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import msgspec
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.auth import HTTPBasicAuth

from .errors import ConfigError
from .errors import FatalError
from .errors import PIRequestError
from .errors import RetriableError
from .errors import redact_url
from .retry import RetryPolicy
from .retry import parse_retry_after

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Mapping

    from .config import AuthConfig
    from .config import ConnectorConfig

log = logging.getLogger("connector.client")


class _RedactQueries(logging.Filter):
    """Hides secret query values in urllib3's own debug lines ("GET /path?token=... HTTP/1.1")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "?" in a for a in record.args):
            record.args = tuple(redact_url(a) if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


if not any(isinstance(f, _RedactQueries) for f in logging.getLogger("urllib3.connectionpool").filters):
    logging.getLogger("urllib3.connectionpool").addFilter(_RedactQueries())

AUTH_TYPES = ("anonymous", "basic", "bearer", "kerberos", "ntlm")


class BearerAuth(AuthBase):
    """Authorization: Bearer <token> on every request; the token stays out of repr()."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(token='***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BearerAuth) and other._token == self._token

    __hash__ = None  # type: ignore[assignment]


def build_auth(kind: str, *, username: str | None = None, password: str | None = None,
               token: str | None = None,
               where: tuple[str, int | None] = ("<arguments>", None)) -> AuthBase | None:
    """The requests auth object for an authentication type.

    Args:
        kind: anonymous, basic, bearer, kerberos or ntlm.
        username: for basic and ntlm (ntlm: "DOMAIN\\user").
        password: for basic and ntlm.
        token: for bearer.
        where: (file, line) of source.auth.type, for ConfigError messages.

    Raises:
        ConfigError: unknown type, missing credentials, or the optional package is not installed.
    """
    file, line = where
    if kind not in AUTH_TYPES:
        raise ConfigError(f"must be one of: {', '.join(AUTH_TYPES)}; got {kind!r}",
                          file=file, line=line, field="source.auth.type")
    if kind in ("basic", "ntlm") and (username is None or password is None):
        raise ConfigError(f"{kind} authentication needs username and password",
                          file=file, line=line, field="source.auth")
    if kind == "bearer" and not token:
        raise ConfigError("bearer authentication needs a token", file=file, line=line, field="source.auth")
    if kind == "anonymous":
        return None
    if kind == "basic":
        return HTTPBasicAuth(t.cast(str, username), t.cast(str, password))
    if kind == "bearer":
        return BearerAuth(t.cast(str, token))
    if kind == "kerberos":
        try:
            from requests_kerberos import OPTIONAL
            from requests_kerberos import HTTPKerberosAuth
        except ImportError:
            raise ConfigError("kerberos authentication needs the requests-kerberos package: "
                              "pip install pi-lakehouse[kerberos]", file=file, line=line,
                              field="source.auth.type") from None
        return HTTPKerberosAuth(mutual_authentication=OPTIONAL)
    try:
        from requests_ntlm import HttpNtlmAuth
    except ImportError:
        raise ConfigError("ntlm authentication needs the requests-ntlm package: "
                          "pip install pi-lakehouse[ntlm]", file=file, line=line,
                          field="source.auth.type") from None
    return HttpNtlmAuth(username, password)


def _wire(value: object) -> object:
    """A query value as PI expects it: booleans lower-case, lists kept (repeated parameters)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    return value


class PIClient:
    """A PI Web API client over one requests.Session per thread that uses it.

    Args:
        url: the PI Web API root, e.g. "https://pi.example.com/piwebapi".
        auth: a requests auth object (see build_auth), or None for anonymous.
        verify: TLS verification: True, False, or a CA bundle path.
        timeout: read timeout in seconds.
        connect_timeout: connect timeout in seconds (default: min(10, timeout)).
        concurrency: connections kept in the pool (the most threads that share this client).
        retry: the RetryPolicy (default: RetryPolicy()).
        web_id_type: "Full" or "IDOnly"; sent as webIdType by the listing methods when not Full.
        sleep: waits between retries (patch it in tests).
        auth_label: how messages name the authentication ("basic", "bearer"...).
    """

    def __init__(self, url: str, *, auth: AuthBase | None = None, verify: bool | str = True,
                 timeout: float = 60.0, connect_timeout: float | None = None, concurrency: int = 4,
                 retry: RetryPolicy | None = None, web_id_type: str = "Full",
                 sleep: t.Callable[[float], object] = time.sleep, auth_label: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"PIClient url: must be an http(s) URL, got {redact_url(url)!r}")
        if concurrency < 1:
            raise ValueError(f"PIClient concurrency: must be >= 1, got {concurrency!r}")
        from . import __version__

        self.base_url = url.rstrip("/")
        self._base = urlsplit(self.base_url)
        self.timeout = (connect_timeout if connect_timeout is not None else min(10.0, timeout), timeout)
        self.retry = retry or RetryPolicy()
        self.web_id_type = web_id_type
        self.concurrency = concurrency
        self._sleep = sleep
        self._auth_label = auth_label or ("anonymous" if auth is None else type(auth).__name__)
        self._auth, self._verify = auth, verify
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "X-Requested-With": "XMLHttpRequest",
            "User-Agent": f"pi-connector/{__version__} python-requests/{requests.__version__}",
        }
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        """The calling thread's requests.Session (one per thread: a Session, its auth handshakes
        and its pool are not shared across threads), made on first use with the client's settings."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=self.concurrency, pool_maxsize=self.concurrency, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.auth = self._auth
            session.verify = self._verify
            session.headers.update(self._headers)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    @classmethod
    def from_config(cls, config: ConnectorConfig, *,
                    sleep: t.Callable[[float], object] = time.sleep) -> PIClient:
        """A client for `config.source` (auth, TLS, timeouts, pool size, retries)."""
        source = config.source
        auth = auth_from_config(source.auth, where=(config.file, config.line_of("source.auth.type")))
        policy = RetryPolicy(attempts=source.retry.attempts, backoff=source.retry.backoff,
                             max_backoff=source.retry.max_backoff,
                             max_retry_after=source.retry.max_retry_after)
        return cls(source.url, auth=auth, verify=source.verify, timeout=source.timeout,
                   connect_timeout=source.connect_timeout, concurrency=source.concurrency, retry=policy,
                   web_id_type=source.web_id_type, sleep=sleep, auth_label=source.auth.type)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> PIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every thread's session and its pooled connections."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"PIClient({self.logged_url(self.base_url)!r}, auth={self._auth_label})"

    # ------------------------------------------------------------------ URLs

    def url_for(self, path: str) -> str:
        """The absolute URL of a path relative to the root, or of an absolute URL (a PI Link).

        A Link that names another host (PI behind a proxy often names its own) is moved onto the
        configured host when its path lies under the root, so credentials only go to that host.

        Raises:
            FatalError: an absolute URL outside the configured PI Web API.
        """
        if not path.lower().startswith(("http://", "https://")):
            return f"{self.base_url}/{path.lstrip('/')}"
        parts = urlsplit(path)
        base = self._base
        if (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower()):
            return path
        root = base.path.rstrip("/").lower()
        tail = root.rsplit("/", 1)[-1]
        lowered = parts.path.lower()
        if root and lowered.startswith(root):
            rest = parts.path[len(root):]
        elif tail and f"/{tail}/" in lowered + "/":
            at = (lowered + "/").index(f"/{tail}/")
            rest = parts.path[at + len(tail) + 1:]
        else:
            root_url = self.logged_url(self.base_url)
            raise FatalError(f"{redact_url(path)}: not under the PI Web API root {root_url}", url=path)
        return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + rest, parts.query, ""))

    @staticmethod
    def logged_url(url: str) -> str:
        """The URL as it may appear in logs: no credentials, no tokens in the query string."""
        return redact_url(url)

    # ------------------------------------------------------------------ requests

    def _request(self, method: str, path: str, *, params: Mapping[str, object] | None = None,
                 body: bytes | None = None, parse: t.Callable[[bytes], t.Any] | None = None) -> t.Any:
        url = self.url_for(path)
        wire: dict[str, t.Any] | None = {k: _wire(v) for k, v in params.items() if v is not None} if params else None
        headers = {"Content-Type": "application/json"} if body is not None else None

        def attempt() -> t.Any:
            started = time.perf_counter()
            try:
                response = self.session.request(method, url, params=wire, data=body, headers=headers,
                                                timeout=self.timeout, stream=True)
                content = _read_body(response)
            except requests.RequestException as exc:
                log.debug("%s %s failed after %.1f ms: %s", method, self.logged_url(url),
                          (time.perf_counter() - started) * 1000, type(exc).__name__)
                raise
            log.debug("%s %s -> %s in %.1f ms, %d bytes", method, self.logged_url(response.url),
                      response.status_code, (time.perf_counter() - started) * 1000, len(content))
            kind = self.retry.classify(response)
            if kind is not None:
                raise self._error(kind, response)
            if b'"WebException"' in content:
                self._check_web_exception(response)
            return parse(content) if parse is not None else content

        return self.retry.run(attempt, sleep=self._sleep, on_retry=self._log_retry)

    def _error(self, kind: type[PIRequestError], response: requests.Response,
               status: int | None = None) -> PIRequestError:
        hint = ""
        if response.status_code == 401:
            hint = f"authentication: {self._auth_label}; check source.auth"
        elif response.status_code == 403:
            hint = "access denied for this account, or CSRF defence refused the request"
        error = kind.from_response(response, hint=hint)
        if status is not None:
            error.status = status
        if isinstance(error, RetriableError):
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return error

    def _check_web_exception(self, response: requests.Response) -> None:
        """PI's WebException: a 2xx whose stream broke mid-way; its StatusCode is the real status."""
        try:
            document = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            return
        if not isinstance(document, dict) or not isinstance(document.get("WebException"), dict):
            return
        status = document["WebException"].get("StatusCode")
        status = status if isinstance(status, int) and status >= 400 else 500
        kind = self.retry.classify(status) or FatalError
        error = self._error(kind, response, status=status)
        error.args = (f"{error.args[0]} (WebException {status} in a {response.status_code} answer)",)
        raise error

    def _log_retry(self, attempt: int, error: BaseException, delay: float) -> None:
        reason = str(error) if isinstance(error, PIRequestError) else type(error).__name__
        log.info("attempt %d of %d failed (%s); retrying in %.2f s", attempt, self.retry.attempts, reason,
                 delay)

    def get_bytes(self, path: str, params: Mapping[str, object] | None = None) -> bytes:
        """GET a path (or Link); the raw, decompressed body (for msgspec decoding on hot paths)."""
        return self._request("GET", path, params=params)

    def get_json(self, path: str, params: Mapping[str, object] | None = None) -> t.Any:
        """GET a path (or Link); the body parsed with msgspec."""
        return self._request("GET", path, params=params, parse=self._parse)

    def post_json(self, path: str, body: object = None, *, params: Mapping[str, object] | None = None) -> t.Any:
        """POST `body` as JSON (no body when None; PI takes some POSTs' arguments in the query, `params`);
        the answer parsed with msgspec (None for an empty body)."""
        return self._request("POST", path, params=params, body=None if body is None else msgspec.json.encode(body),
                             parse=self._parse)

    @staticmethod
    def _parse(content: bytes) -> t.Any:
        if not content:
            return None
        try:
            return msgspec.json.decode(content)
        except msgspec.DecodeError as exc:
            raise FatalError(f"the answer is not JSON ({exc}); first bytes: {content[:80]!r}") from None

    # ------------------------------------------------------------------ PI resources

    def home(self) -> dict:
        """GET / : the landing page (Links to the controllers)."""
        return self.get_json("")

    def userinfo(self) -> dict:
        """GET system/userinfo: who the server thinks we are."""
        return self.get_json("system/userinfo")

    def check(self) -> dict:
        """Fail fast before anything is written: the server answers and accepts our credentials.

        Returns:
            The userinfo document (IdentityType, Name, IsAuthenticated...).

        Raises:
            ConnectionFailedError: the server cannot be reached.
            AuthError: the credentials are refused.
        """
        return self.userinfo()

    def _list_params(self, params: Mapping[str, object] | None = None) -> dict[str, object]:
        out = dict(params or {})
        if self.web_id_type and self.web_id_type.lower() != "full":
            out.setdefault("webIdType", self.web_id_type)
        return out

    def data_servers(self) -> list[dict]:
        """GET dataservers: every data server's document."""
        return self.get_json("dataservers", self._list_params()).get("Items") or []

    def data_server(self, name: str | None = None) -> dict:
        """The data server called `name` (case-insensitive), or the first when name is None.

        Raises:
            FatalError: no such data server (the message lists the known ones).
        """
        servers = self.data_servers()
        if not servers:
            where = self.logged_url(self.url_for("dataservers"))
            raise FatalError(f"{where}: the server lists no data servers")
        if name is None:
            return servers[0]
        for server in servers:
            if str(server.get("Name", "")).lower() == name.lower():
                return server
        known = ", ".join(str(s.get("Name")) for s in servers)
        where = self.logged_url(self.base_url)
        raise FatalError(f"data server {name!r} not found at {where}; it has: {known}")

    def paged(self, path: str, params: Mapping[str, object] | None = None,
              page_size: int = 1000) -> Iterator[dict]:
        """Every item of a list endpoint, paging with startIndex/maxCount until a short page.

        A first page shorter than asked may be a server-side cap rather than the end (a PI server
        can be set to page below maxCount), so it is followed by one more request; after that a
        page shorter than the first one ends the listing.

        Args:
            path: the list endpoint (elements, attributes, event frames, points...).
            params: its other query parameters.
            page_size: maxCount of each page.
        """
        if page_size < 1:
            raise ValueError(f"page_size: must be >= 1, got {page_size!r}")
        query = self._list_params(params)
        start = 0
        full: int | None = None
        while True:
            page = self.get_json(path, {**query, "startIndex": start, "maxCount": page_size})
            items = (page or {}).get("Items") or []
            yield from items
            if not items or (full is not None and len(items) < full):
                return
            if full is None:
                full = len(items)  # the server's page: page_size, or its own cap
            start += len(items)

    def points(self, server_web_id: str, name_filter: str = "*", page_size: int = 10_000,
               selected_fields: str | None = None) -> Iterator[dict]:
        """The points of a data server whose names match a PI wildcard (* and ?)."""
        params = {"nameFilter": name_filter, "selectedFields": selected_fields}
        return self.paged(f"dataservers/{server_web_id}/points", params, page_size)

    def point_by_path(self, path: str) -> dict:
        """GET points?path=\\\\SERVER\\TAG. Raises UnknownPointError when there is no such point."""
        return self.get_json("points", self._list_params({"path": path}))

    # ------------------------------------------------------------------ batch

    def batch(self, requests: dict[str, dict]) -> dict[str, dict]:
        """POST batch; sub-requests that failed with a retriable status are re-sent with backoff.

        A sub-request whose Status is in the policy's retry_statuses is re-sent in a new, smaller
        batch, together with its dependants (the 409 children of a failed parent) and with every
        parent those need (a dependent sub-request is always re-sent with its parents, never alone,
        so its JSONPath Resource still resolves). Rounds continue up to the policy's attempts, the
        wait honouring the largest Retry-After among the failures.

        Args:
            requests: id -> {Method, Resource, Parameters, ParentIds, RequestTemplate, Content, Headers}.

        Returns:
            id -> {Status, Headers, Content} for every id; a sub-request that still fails keeps its
            failing Status (404s and other final statuses are never retried); the caller decides.
        """
        results: dict[str, dict] = {}
        outbox = [requests]  # what the next round sends: everything, then the sub-requests to re-send

        def send() -> set[str]:
            results.update(self.post_json("batch", outbox[-1]) or {})
            again = self._batch_retry_set(requests, results)
            outbox.append({key: requests[key] for key in requests if key in again})
            return again

        def retry_after(again: set[str]) -> float | None:
            waits = [parse_retry_after(_header(results[k], "Retry-After")) for k in again if k in results]
            return max((s for s in waits if s is not None), default=None)

        def on_retry(attempt: int, again: set[str], delay: float) -> None:
            failed = sorted(k for k in again if results.get(k, {}).get("Status") in self.retry.retry_statuses)
            log.info("batch: %d sub-request(s) failed (%s); re-sending %d in %.2f s", len(failed),
                     ", ".join(failed), len(again), delay)

        self.retry.repeat(send, again=bool, retry_after=retry_after, sleep=self._sleep, on_retry=on_retry)
        missing = [key for key in requests if key not in results]
        for key in missing:
            results[key] = {"Status": 500, "Headers": {},
                            "Content": {"Errors": [f"the batch answer has no entry for {key!r}"]}}
        return {key: results[key] for key in requests}

    def _batch_retry_set(self, requests: dict[str, dict], results: dict[str, dict]) -> set[str]:
        parents = {key: list(t.cast(list, _field(spec, "ParentIds") or [])) for key, spec in requests.items()}
        failed = {key for key in requests if results.get(key, {}).get("Status") in self.retry.retry_statuses}
        if not failed:
            return set()
        children: dict[str, list[str]] = {}
        for key, ids in parents.items():
            for parent in ids:
                children.setdefault(parent, []).append(key)
        chosen = set(failed)
        stack = list(failed)
        while stack:  # the dependants of a failed sub-request never ran (409): re-send them too
            for child in children.get(stack.pop(), ()):
                if child not in chosen:
                    chosen.add(child)
                    stack.append(child)
        stack = list(chosen)
        while stack:  # and every parent they need, so JSONPath Resources resolve again
            for parent in parents.get(stack.pop(), ()):
                if parent not in chosen and parent in requests:
                    chosen.add(parent)
                    stack.append(parent)
        return chosen


def _field(spec: Mapping[str, object], name: str) -> object:
    """A sub-request field, matched case-insensitively as PI does."""
    lowered = name.lower()
    return next((v for k, v in spec.items() if str(k).lower() == lowered), None)


def _header(result: Mapping[str, object], name: str) -> str | None:
    headers = result.get("Headers") if isinstance(result, dict) else None
    if not isinstance(headers, dict):
        return None
    value = _field(headers, name)
    return str(value) if value is not None else None


def auth_from_config(auth: AuthConfig, *,
                     where: tuple[str, int | None] = ("<config>", None)) -> AuthBase | None:
    """The requests auth object for a config's source.auth (secrets revealed only here)."""
    return build_auth(auth.type, username=auth.username,
                      password=auth.password.reveal() if auth.password is not None else None,
                      token=auth.token.reveal() if auth.token is not None else None, where=where)


def _read_body(response: requests.Response) -> bytes:
    """The whole body in one read (requests' default reads 10 KB at a time: slow for 20 MB answers).

    Decompression (gzip, deflate) is urllib3's; transport failures surface as requests' exceptions,
    as they would from `response.content`, and the bytes are kept on the response for later use.
    """
    try:
        content = response.raw.read(decode_content=True)
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    finally:
        response.close()
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]
    return content
