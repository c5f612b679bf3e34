"""simulator.mock.faults: seeded fault rules (status, Retry-After, delay) and socket-level faults.

Every random choice is a counter-based hash of (seed, rule name, n), n counting the rule's matches
from 1, so the same seed and the same request sequence give the same faults. The counters live in
the process: under gunicorn with several workers each worker counts on its own (tests use one).
"""
from __future__ import annotations

import dataclasses
import errno
import math
import re
import socket
import struct
import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import fields

from ..pi.errors import InjectedFault
from ..pi.errors import InvalidParameterError
from ..scenario.model import Delay
from ..scenario.model import SOCKET_FAULTS
from ..scenario.model import Fault

MASK64 = (1 << 64) - 1
SCOPES = ("request", "batch", "any")
DELAY_KINDS = ("fixed", "uniform", "lognormal")

#: What PI Web API says for the statuses a fault usually answers.
MESSAGES = {
    400: "The request is invalid.",
    401: "Authorization has been denied for this request.",
    403: "Access to the requested resource is forbidden.",
    404: "The requested resource was not found.",
    408: "The request timed out.",
    429: "Too many requests have been made. Retry the request after the indicated time.",
    500: "An unexpected error has occurred. Contact your administrator.",
    502: "The server received an invalid response from an upstream server.",
    503: "The service is temporarily unavailable. Try the request again later.",
    504: "The upstream server did not respond in time.",
}


# --------------------------------------------------------------------------- counter-based hashing


def splitmix64(x: int) -> int:
    """One splitmix64 step: a 64-bit avalanche of x."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def fnv1a64(text: str) -> int:
    """FNV-1a of the UTF-8 bytes of text: a stable (unlike hash()) 64-bit name key."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def unit(seed: int, name: str, n: int, stream: int = 0) -> float:
    """A number in [0, 1) that depends only on (seed, name, n, stream)."""
    x = splitmix64(seed & MASK64)
    for part in (fnv1a64(name), n & MASK64, stream & MASK64):
        x = splitmix64(x ^ part)
    return (x >> 11) * (1.0 / (1 << 53))


def sample_delay(delay: Delay | None, seed: int, name: str, n: int) -> float:
    """Milliseconds to wait for draw n of `delay` under key `name` (0.0 for None)."""
    if delay is None:
        return 0.0
    if delay.kind == "fixed":
        return float(delay.ms)
    if delay.kind == "uniform":
        return delay.lower + unit(seed, name, n, 1) * (delay.upper - delay.lower)
    for attempt in range(16):  # lognormal: resample above the cap, as WireMock's maxValue does
        u1 = max(unit(seed, name, n, 2 + 2 * attempt), 1e-300)
        u2 = unit(seed, name, n, 3 + 2 * attempt)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        ms = delay.median * math.exp(delay.sigma * z)
        if delay.cap is None or ms <= delay.cap:
            return ms
    return float(delay.cap if delay.cap is not None else ms)  # every draw was above the cap


# --------------------------------------------------------------------------- parsing and validation


def _number(value: object, where: str, *, minimum: float = 0.0, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and int(value) != value):
        kind = "an integer" if integer else "a number"
        raise InvalidParameterError(f"{where}: must be {kind}, got {value!r}")
    if value < minimum or math.isnan(value) or math.isinf(value):
        raise InvalidParameterError(f"{where}: must be a finite number >= {minimum:g}, got {value!r}")
    return int(value) if integer else float(value)


def validate_delay(delay: Delay, where: str) -> Delay:
    if delay.kind not in DELAY_KINDS:
        kinds = ", ".join(DELAY_KINDS)
        raise InvalidParameterError(f"{where}.kind: must be one of {kinds}, got {delay.kind!r}")
    for name in ("ms", "lower", "upper", "median", "sigma"):
        _number(getattr(delay, name), f"{where}.{name}")
    if delay.kind == "uniform" and delay.upper < delay.lower:
        raise InvalidParameterError(f"{where}.upper: {delay.upper:g} is below lower {delay.lower:g}")
    if delay.cap is not None:
        _number(delay.cap, f"{where}.cap")
    return delay


def parse_delay(spec: object, where: str = "delay") -> Delay:
    """A Delay from admin JSON: a number of ms; the scenario-file forms {fixed: ms},
    {uniform: [lower, upper]}, {lognormal: {median, sigma, cap}}; or {kind, ms | lower, upper |
    median, sigma, cap}."""
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return validate_delay(Delay("fixed", ms=_number(spec, where)), where)
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: must be a number of ms or an object, got {spec!r}")
    if len(spec) == 1 and next(iter(spec)) in ("fixed", "uniform", "lognormal"):
        return _scenario_form(spec, where)
    names = {f.name for f in fields(Delay)}
    unknown = sorted(set(spec) - names)
    if unknown:
        raise InvalidParameterError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(names)}")
    try:
        delay = Delay(**spec)
    except TypeError as exc:
        raise InvalidParameterError(f"{where}: {exc}") from exc
    return validate_delay(delay, where)


def _scenario_form(spec: dict, where: str) -> Delay:
    """The delay as scenario files write it, so the admin API takes the same text."""
    kind, value = next(iter(spec.items()))
    if kind == "fixed":
        return validate_delay(Delay("fixed", ms=_number(value, f"{where}.fixed")), where)
    if kind == "uniform":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidParameterError(f"{where}.uniform: must be [lower, upper] in ms, got {value!r}")
        return validate_delay(Delay("uniform", lower=_number(value[0], f"{where}.uniform[0]"),
                                    upper=_number(value[1], f"{where}.uniform[1]")), where)
    if not isinstance(value, dict) or set(value) - {"median", "sigma", "cap"}:
        raise InvalidParameterError(f"{where}.lognormal: must be {{median, sigma, cap?}} in ms, got {value!r}")
    cap = value.get("cap")
    return validate_delay(Delay("lognormal", median=_number(value.get("median"), f"{where}.lognormal.median"),
                                sigma=_number(value.get("sigma"), f"{where}.lognormal.sigma"),
                                cap=None if cap is None else _number(cap, f"{where}.lognormal.cap")), where)


def parse_distribution(spec: object, where: str = "delayDistribution") -> Delay:
    """A Delay from WireMock's delayDistribution: {"type": "lognormal", median, sigma, maxValue?}."""
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"{where}: must be an object, got {spec!r}")
    kind = spec.get("type")
    if kind == "lognormal":
        cap = spec.get("maxValue")
        delay = Delay("lognormal", median=_number(spec.get("median"), f"{where}.median"),
                      sigma=_number(spec.get("sigma"), f"{where}.sigma"),
                      cap=None if cap is None else _number(cap, f"{where}.maxValue"))
    elif kind == "uniform":
        delay = Delay("uniform", lower=_number(spec.get("lower"), f"{where}.lower"),
                      upper=_number(spec.get("upper"), f"{where}.upper"))
    elif kind == "fixed":
        delay = Delay("fixed", ms=_number(spec.get("milliseconds"), f"{where}.milliseconds"))
    else:
        raise InvalidParameterError(f"{where}.type: must be lognormal, uniform or fixed, got {kind!r}")
    return validate_delay(delay, where)


def validate_fault(fault: Fault, where: str = "fault") -> Fault:
    """Check a Fault's fields; the error names the field and the bad value."""
    if not isinstance(fault.name, str) or not fault.name.strip():
        raise InvalidParameterError(f"{where}.name: must be a non-empty string, got {fault.name!r}")
    where = f"{where} {fault.name!r}"
    if not isinstance(fault.method, str) or not re.fullmatch(r"\*|[A-Za-z]+", fault.method):
        raise InvalidParameterError(f"{where}.method: must be an HTTP method or '*', got {fault.method!r}")
    if not isinstance(fault.path, str) or not fault.path:
        raise InvalidParameterError(f"{where}.path: must be a non-empty glob, got {fault.path!r}")
    if fault.rate is not None and fault.every is not None:
        raise InvalidParameterError(f"{where}: give rate or every, not both (rate={fault.rate!r}, "
                                    f"every={fault.every!r})")
    if fault.rate is not None and not 0.0 <= _number(fault.rate, f"{where}.rate") <= 1.0:
        raise InvalidParameterError(f"{where}.rate: must be between 0 and 1, got {fault.rate!r}")
    if fault.every is not None:
        _number(fault.every, f"{where}.every", minimum=1, integer=True)
    if fault.times is not None:
        _number(fault.times, f"{where}.times", integer=True)
    if fault.status is not None and not 100 <= _number(fault.status, f"{where}.status", integer=True) <= 599:
        raise InvalidParameterError(f"{where}.status: must be an HTTP status 100-599, got {fault.status!r}")
    if fault.retry_after is not None:
        _number(fault.retry_after, f"{where}.retry_after")
    if fault.message is not None and not isinstance(fault.message, str):
        raise InvalidParameterError(f"{where}.message: must be a string, got {fault.message!r}")
    if fault.delay is not None:
        validate_delay(fault.delay, f"{where}.delay")
    if fault.status is None and fault.delay is None and fault.socket is None:
        raise InvalidParameterError(f"{where}: needs a status, a delay or a socket fault")
    if fault.scope not in SCOPES:
        raise InvalidParameterError(f"{where}.scope: must be one of {', '.join(SCOPES)}, got {fault.scope!r}")
    if fault.socket is not None:
        if fault.socket not in SOCKET_FAULTS:
            raise InvalidParameterError(f"{where}.socket: must be one of {', '.join(SOCKET_FAULTS)}, "
                                        f"got {fault.socket!r}")
        if fault.scope != "request":
            raise InvalidParameterError(f"{where}.socket: breaks a connection, so scope must be request, "
                                        f"got {fault.scope!r}")
        return dataclasses.replace(fault, status=None, retry_after=None)
    return fault


def parse_fault(spec: object) -> Fault:
    """A validated Fault from admin JSON (the scenario's field names; delay in ms)."""
    if not isinstance(spec, dict):
        raise InvalidParameterError(f"fault: must be an object, got {spec!r}")
    names = {f.name for f in fields(Fault)}
    unknown = sorted(set(spec) - names)
    if unknown:
        raise InvalidParameterError(f"fault: unknown key(s) {unknown}; expected some of {sorted(names)}")
    if "name" not in spec:
        raise InvalidParameterError("fault.name: is required")
    values = dict(spec)
    if values.get("socket") is not None and values.get("status") is not None:
        raise InvalidParameterError(f"fault {spec['name']!r}: give a status or a socket fault, not both")
    if values.get("delay") is not None:
        values["delay"] = parse_delay(values["delay"], f"fault {spec['name']!r}.delay")
    return validate_fault(Fault(**values))


def fault_to_json(fault: Fault) -> dict:
    out = {f.name: getattr(fault, f.name) for f in fields(Fault)}
    if fault.delay is not None:
        out["delay"] = {f.name: getattr(fault.delay, f.name) for f in fields(Delay)}
    return out


# --------------------------------------------------------------------------- rules


def compile_glob(glob: str) -> re.Pattern:
    """A path glob as a regex: `*` one segment, `**` any number of them; case-insensitive.

    A glob that is just "*" or "**" matches every path.
    """
    if glob in ("*", "**", "/**"):
        return re.compile(r".*", re.DOTALL)
    parts = glob.strip("/").split("/")
    regex = ""
    for i, part in enumerate(parts):
        if part == "**":
            regex += "(?:/[^/]*)*" if i else "(?:/[^/]*)*?"
            continue
        regex += "/" + ("[^/]+" if part == "*" else "[^/]*".join(re.escape(p) for p in part.split("*")))
    return re.compile((regex or "/") + "/?", re.IGNORECASE)


@dataclass
class Hit:
    """What a firing rule does to one request: wait `delay_ms`, then raise `error` (if any)."""

    rule: str
    n: int
    delay_ms: float
    error: InjectedFault | None
    socket: str | None = None  # a socket fault to break the connection with, after the delay


class Rule:
    """A Fault plus its compiled glob and its counters (matches seen, times fired)."""

    def __init__(self, fault: Fault, origin: str) -> None:
        self.fault, self.origin = fault, origin
        self.glob = compile_glob(fault.path)
        self.matched = 0
        self.fired = 0

    def applies(self, method: str, path: str, batch: bool) -> bool:
        scope = self.fault.scope
        if (scope == "request" and batch) or (scope == "batch" and not batch):
            return False
        if self.fault.method != "*" and self.fault.method.upper() != method.upper():
            return False
        return self.glob.fullmatch(path) is not None

    def decide(self, seed: int) -> Hit | None:
        """Count one more match and say whether the rule fires on it."""
        self.matched += 1
        n, fault = self.matched, self.fault
        if fault.times is not None and self.fired >= fault.times:
            return None
        if fault.every is not None:
            fires = n % fault.every == 0
        elif fault.rate is not None:
            fires = unit(seed, fault.name, n) < fault.rate
        else:
            fires = True
        if not fires:
            return None
        self.fired += 1
        return Hit(fault.name, n, sample_delay(fault.delay, seed, fault.name, n), self.error(), fault.socket)

    def error(self) -> InjectedFault | None:
        fault = self.fault
        if fault.status is None:
            return None
        headers = {"X-PISim-Fault": fault.name}
        if fault.retry_after is not None:  # Retry-After takes whole seconds (RFC 9110)
            headers["Retry-After"] = str(math.ceil(fault.retry_after))
        message = fault.message or MESSAGES.get(fault.status, f"The server answered {fault.status}.")
        return InjectedFault(message, status=fault.status, headers=headers)

    def to_json(self) -> dict:
        return {**fault_to_json(self.fault), "origin": self.origin, "matched": self.matched,
                "fired": self.fired}


class FaultRules:
    """The scenario's rules and those added at runtime, with one on/off switch for all."""

    def __init__(self, seed: int, faults: t.Iterable[Fault] = ()) -> None:
        self.seed = seed
        self._startup = [validate_fault(f, "scenario fault") for f in faults]
        self._lock = threading.Lock()
        self.enabled = True
        self._rules: list[Rule] = []
        self.reset()

    def reset(self) -> None:
        """Back to the start-up state: scenario rules only, counters at zero, switched on."""
        with self._lock:
            self._rules = [Rule(f, "scenario") for f in self._startup]
            self.enabled = True

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def add(self, fault: Fault) -> Rule:
        validate_fault(fault)
        with self._lock:
            if any(rule.fault.name == fault.name for rule in self._rules):
                raise InvalidParameterError(f"fault.name: a rule named {fault.name!r} already exists")
            rule = Rule(fault, "runtime")
            self._rules.append(rule)
            return rule

    def remove(self, name: str) -> bool:
        with self._lock:
            kept = [rule for rule in self._rules if rule.fault.name != name]
            found = len(kept) != len(self._rules)
            self._rules = kept
            return found

    def evaluate(self, method: str, path: str, *, batch: bool = False) -> list[Hit]:
        """The hits for one request, in rule order, stopping after the first that answers a status."""
        if not self.enabled or not self._rules:
            return []
        hits = []
        with self._lock:
            for rule in self._rules:
                if not rule.applies(method, path, batch):
                    continue
                hit = rule.decide(self.seed)
                if hit is not None:
                    hits.append(hit)
                    if hit.error is not None or hit.socket is not None:
                        break
        return hits

    def to_json(self) -> dict:
        return {"enabled": self.enabled, "faults": [rule.to_json() for rule in self.rules()]}


def apply(hits: list[Hit], sleep: t.Callable[[float], None] | None = None) -> None:
    """Wait each hit's delay, then raise the first error."""
    for hit in hits:
        if hit.delay_ms > 0:
            (sleep or time.sleep)(hit.delay_ms / 1000.0)
        if hit.error is not None:
            raise hit.error


# --------------------------------------------------------------------------- socket-level faults


def garbage(seed: int, key: str, size: int = 256) -> bytes:
    """`size` seeded random bytes (the same for the same seed and key)."""
    return bytes(int(unit(seed, key, i) * 256) for i in range(size))


class SocketFault:
    """A WSGI response iterable that breaks the connection instead of answering (WireMock `fault`).

    Under gunicorn (sync, gthread and gevent workers expose `environ["gunicorn.socket"]`):
    EMPTY_RESPONSE closes with a FIN and nothing sent; CONNECTION_RESET_BY_PEER sets SO_LINGER 0
    and closes, so the peer gets an RST; RANDOM_DATA_THEN_CLOSE writes seeded garbage, then closes;
    MALFORMED_RESPONSE_CHUNK lets the server send the 200 status line, headers and one good chunk,
    then writes garbage that is no chunk and closes. The iterable then raises ConnectionResetError,
    which gunicorn logs at debug level and drops.

    Under werkzeug's dev server (`environ["werkzeug.socket"]`) the socket cannot be closed while the
    server holds file objects on it, so every kind ends as a shutdown (FIN, then an RST when the
    server closes). Without a socket (Flask test client, batch sub-requests) nothing is touched and
    the iterable just raises ConnectionResetError, which the test client passes to the caller.
    """

    def __init__(self, kind: str, environ: t.Mapping[str, object], junk: bytes) -> None:
        self.kind, self.junk = kind, junk
        self.sock = None if environ.get("pisim.batch") else t.cast(
            "socket.socket | None", environ.get("gunicorn.socket") or environ.get("werkzeug.socket"))
        self.owned = "gunicorn.socket" in environ
        self.state = 0

    def __iter__(self) -> SocketFault:
        return self

    def __next__(self) -> bytes:
        self.state += 1
        if self.kind == "MALFORMED_RESPONSE_CHUNK" and self.state == 1:
            return b"lorem ipsum dolor sit amet\n"  # a good first chunk: status and headers go out
        if self.state > 2:
            raise StopIteration
        self._break()
        raise ConnectionResetError(errno.ECONNRESET, f"simulated fault {self.kind}")

    def _break(self) -> None:
        sock = self.sock
        if sock is None:
            return
        reset = self.kind == "CONNECTION_RESET_BY_PEER"
        try:
            if self.kind in ("RANDOM_DATA_THEN_CLOSE", "MALFORMED_RESPONSE_CHUNK"):
                sock.sendall(self.junk)
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if not (reset and self.owned):
                sock.shutdown(socket.SHUT_RDWR)  # FIN (a reset skips it: close with linger 0 is RST)
            if self.owned:
                sock.close()
        except OSError:
            pass  # the peer went first; the connection is broken either way

    def close(self) -> None:
        """WSGI close(): nothing to release."""


def dribble(body: bytes, chunks: int, total_ms: float,
            sleep: t.Callable[[float], None] | None = None) -> t.Iterator[bytes]:
    """Yield headers at once (an empty chunk), then `body` in `chunks` pieces spread over total_ms."""
    chunks = max(1, min(chunks, len(body) or 1))
    size = math.ceil(len(body) / chunks) if body else 0
    pause = total_ms / 1000.0 / chunks
    yield b""
    for i in range(chunks):
        (sleep or time.sleep)(pause)
        yield body[i * size:(i + 1) * size]
