"""simulator.backend.write_paths: PI's write paths (streams/{webId}/value, streams/{webId}/recorded,
streamsets/recorded) from request body to archive writes, with PI's per-value substatuses.

A TimedValue body becomes one `Event` of the point's own kind: a number, a digital state of the
point's set (by name, code or {"Name", "Value"}), a string of the point's vocabulary, or a SYSTEM
state ({"Name": "Shutdown", "IsSystem": true}) for any point. Timestamp defaults to now, as in PI.
A value that cannot apply (NoReplace over an existing value, ReplaceOnly or Remove where there is
none) or cannot be read fails on its own; the caller answers 207 with each value's substatus.
"""
from __future__ import annotations

import math
import threading
import typing as t
from dataclasses import dataclass
from pathlib import Path

import orjson
from flask import current_app
from flask import request

from picommon import pitime
from ..pi import states
from ..archive.values import QUESTIONABLE
from ..archive.writes import BUFFER_OPTIONS
from ..archive.writes import UPDATE_OPTIONS
from ..archive.writes import Event
from ..archive.writes import WriteRefused
from ..archive.writes import Writes
from ..pi.errors import ConflictError
from ..pi.errors import InvalidParameterError
from ..pi.errors import PIError
from ..pi.errors import ScenarioError
from ..pi.params import Args
from .streams import Stream

if t.TYPE_CHECKING:
    from ..archive.archive import PointArchive

MISSING = object()
FieldRule = tuple[str, type, str]  # (field, the type it must have, how an error names that type)
TYPED_FIELDS: tuple[FieldRule, ...] = (
    ("Good", bool, "true or false"), ("Questionable", bool, "true or false"),
    ("Substituted", bool, "true or false"), ("Annotated", bool, "true or false"),
    ("UnitsAbbreviation", str, "a string"), ("Timestamp", str, "a string (ISO 8601 or a PI time)"))
STATE_FIELDS: tuple[FieldRule, ...] = (("Name", str, "a string"), ("Value", int, "an integer"),
                                       ("IsSystem", bool, "true or false"))


@dataclass(frozen=True)
class Options:
    """updateOption and bufferOption of one write request."""

    update: str
    buffer: str

    @classmethod
    def from_args(cls, a: Args) -> Options:
        return cls(a.choice("updateOption", UPDATE_OPTIONS, "Replace"),
                   a.choice("bufferOption", BUFFER_OPTIONS, "BufferIfPossible"))

    @property
    def success_status(self) -> int:
        """202 when the value may go through the buffer (PI's answer to a buffered write), 204 otherwise."""
        return 204 if self.buffer == "DoNotBuffer" else 202


def substatus(status: int, message: str | None = None) -> dict:
    """PI's Substatus of one value: the status, and for a failure its message and WebException."""
    if message is None:
        return {"Substatus": status}
    return {"Substatus": status, "Message": message, "WebException": {"StatusCode": status, "Errors": [message]}}


def writable(stream: Stream) -> PointArchive:
    """The archive a stream writes to; 409 for a stream PI cannot write to here (a static AF attribute)."""
    if stream.archive is None:
        raise ConflictError(f"The attribute '{stream.source.name}' has no data reference that supports writing "
                            "values (only PI Point streams can be written to in the simulator).")
    return stream.archive


def write_one(writes: Writes, sim, stream: Stream, item: object, options: Options, now: int) -> None:
    """Write one TimedValue; raises InvalidParameterError (400) or WriteRefused."""
    event = event_of(sim, stream, item, now)
    source = writable(stream).source
    current = Event.rows(source.window(event.ticks, event.ticks, now=now))
    writes.write(source, options.update, event, current)
    if writes.file is not None:
        writes.file.append(stream.source.web_id(), options.update, event)


def write_many(writes: Writes, sim, stream: Stream, items: object, options: Options, now: int) -> list[dict]:
    """Write each TimedValue of a list; one Substatus per value, in order."""
    out = []
    for item in check_values(items):
        try:
            write_one(writes, sim, stream, item, options, now)
        except InvalidParameterError as exc:
            out.append(substatus(400, "; ".join(exc.messages)))
        except WriteRefused as exc:
            out.append(substatus(exc.status, str(exc)))
        else:
            out.append(substatus(options.success_status))
    return out


def event_of(sim, stream: Stream, item: object, now: int) -> Event:
    """The Event a TimedValue body stands for; 400 naming the field for anything else."""
    fields = {str(k).lower(): v for k, v in check_shape(item).items()}
    stamp = fields.get("timestamp")
    if stamp is None:
        ticks = now
    elif isinstance(stamp, str):
        try:
            ticks = pitime.parse_time(stamp, now=now, tz=sim.timezone)
        except pitime.TimeParseError as exc:
            raise InvalidParameterError(f"The Timestamp '{stamp}' is not a valid time: {exc}") from None
    else:
        raise InvalidParameterError(f"The Timestamp {stamp!r} must be a string (ISO 8601 or a PI time).")
    value = fields.get("value", MISSING)
    if value is MISSING:
        raise InvalidParameterError("A TimedValue to write needs a 'Value'.")
    flags = QUESTIONABLE if fields.get("questionable") is True else 0
    code = _system_state(value)
    if code is not None:
        return Event(ticks, 0.0, code, 0)
    return Event(ticks, _number(sim, stream, value), -1, flags)


def check_shape(item: object) -> dict:
    """The body item as a TimedValue dict; 400 for anything else (PI's model binding rejects the whole request)."""
    if not isinstance(item, dict):
        raise InvalidParameterError("A value must be a TimedValue object ({\"Timestamp\": ..., \"Value\": ...}).")
    fields = {str(k).lower(): v for k, v in item.items()}
    for name, kind, label in TYPED_FIELDS:
        if name.lower() in fields and not isinstance(fields[name.lower()], kind):
            raise InvalidParameterError(f"The field '{name}' of a TimedValue must be {label}.")
    value = fields.get("value")
    if isinstance(value, list):
        raise InvalidParameterError("The Value of a TimedValue to write cannot be an array.")
    if isinstance(value, dict):
        for name, kind, label in STATE_FIELDS:
            if name in value and (not isinstance(value[name], kind) or (kind is int and isinstance(value[name], bool))):
                raise InvalidParameterError(f"The field 'Value.{name}' of a TimedValue must be {label}.")
    return item


def check_values(items: object) -> list:
    """The body of a multi-value write, checked whole before anything is written (400 otherwise)."""
    if not isinstance(items, list):
        raise InvalidParameterError("The request body must be a JSON array of TimedValue objects.")
    for item in items:
        check_shape(item)
    return items


def check_streams(members: object) -> list:
    """The body of a stream-set write, checked whole before anything is written (400 otherwise)."""
    if not isinstance(members, list):
        raise InvalidParameterError("The request body must be a JSON array of {\"WebId\", \"Items\"} objects.")
    for member in members:
        if not isinstance(member, dict) or not isinstance(member.get("WebId"), str) \
                or not isinstance(member.get("Items"), list):
            raise InvalidParameterError("Each stream to write needs a 'WebId' (string) and 'Items' (a list).")
        check_values(member["Items"])
    return members


def _system_state(value: object) -> int | None:
    """The SYSTEM state code a value names ({"Name", "IsSystem": true} or {"Value", "IsSystem": true})."""
    if not isinstance(value, dict) or value.get("IsSystem") is not True:
        return None
    for key in ("Value", "Name"):
        if key in value:
            try:
                return states.lookup(value[key])
            except ValueError as exc:
                raise InvalidParameterError(f"The Value {value!r}: {exc}.") from None
    raise InvalidParameterError(f"The SYSTEM state {value!r} needs a 'Name' or a 'Value'.")


def _number(sim, stream: Stream, value: object) -> float:
    """The archive's number for a value of the point's type (a code, a vocabulary index)."""
    point = writable(stream).point
    kind = point.point_type
    if kind == "Digital":
        return float(_digital_code(sim, point, value))
    if kind == "String":
        vocabulary = sim.archive.vocabulary(point)
        if isinstance(value, str) and value in vocabulary:
            return float(vocabulary.index(value))
        raise InvalidParameterError(f"The Value {value!r} is not one of the strings the simulator's point "
                                    f"'{point.name}' can hold: {', '.join(vocabulary[:8])}"
                                    + (", ..." if len(vocabulary) > 8 else "") + ".")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidParameterError(f"The Value {value!r} is not a number, as the {kind} point '{point.name}' "
                                    "needs.")
    if kind in ("Int16", "Int32") and value != int(value):
        raise InvalidParameterError(f"The Value {value!r} is not a whole number, as the {kind} point "
                                    f"'{point.name}' needs.")
    return float(value)


def _digital_code(sim, point, value: object) -> int:
    digital = sim.catalog.digital_set(point.digital_set)
    known = dict(digital.states) if digital else {}
    by_name = {name.lower(): code for code, name in known.items()}
    if isinstance(value, dict):
        value = value.get("Name", value.get("Value"))
    if isinstance(value, str) and value.lower() in by_name:
        return by_name[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in known:
        return value
    names = ", ".join(name for _, name in sorted(known.items()))
    raise InvalidParameterError(f"The Value {value!r} is not a state of the digital set '{point.digital_set}' "
                                f"({names}).")


EXTENSION = "pisim.writes"
_FILE_LOCK = threading.Lock()


def install(app, simulator) -> t.Callable[[], None]:
    """Give `app` its store of writes (with the writes of the scenario's `writes.file` replayed);
    returns what clears it (for /__admin/reset, which empties that file too)."""
    writes = Writes()
    app.extensions[EXTENSION] = writes
    if simulator.scenario.writes_file:
        writes.file = file = WriteFile(simulator.scenario.writes_file)
        file.replay(writes, simulator)

    def clear() -> None:
        writes.clear()
        if writes.file is not None:
            writes.file.truncate()
    return clear


class WriteFile:
    """The scenario's `writes: {file: ...}`: one JSON line per accepted write, appended as it is
    accepted and replayed in order when the server starts. Each gunicorn worker appends its own
    writes to the same file and reads the others' only at its next start."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def append(self, web_id: str, option: str, event: Event) -> None:
        line = orjson.dumps({"WebId": web_id, "updateOption": option, "Ticks": event.ticks, "Value": event.value,
                             "State": event.state, "Flags": event.flags})
        with _FILE_LOCK, self.path.open("ab") as out:
            out.write(line + b"\n")

    def truncate(self) -> None:
        with _FILE_LOCK:
            if self.path.exists():
                self.path.write_bytes(b"")

    def replay(self, writes: Writes, sim) -> None:
        if not self.path.exists():
            return
        for number, line in enumerate(self.path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                stream = sim.stream(row["WebId"])
                event = Event(int(row["Ticks"]), float(row["Value"]), int(row["State"]), int(row["Flags"]))
                option = row["updateOption"]
                if option not in UPDATE_OPTIONS or stream.archive is None:
                    raise ValueError(f"updateOption {option!r} or the stream cannot be written")
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, PIError) as exc:
                raise ScenarioError(f"not a write the simulator made: {exc}", file=str(self.path),
                                    line=number) from None
            source = stream.archive.source
            try:
                held = source.window(event.ticks, event.ticks, now=sim.now())
                writes.write(source, option, event, Event.rows(held))
            except WriteRefused:
                pass  # refused when it was made too: it never applied


def store() -> Writes:
    return current_app.extensions[EXTENSION]


def body() -> object:
    """The request's JSON body; 400 when there is none or it is not JSON."""
    raw = request.get_data(cache=True)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterError(f"The request body is not valid JSON: {exc}.") from None


def write_stream(writes: Writes, sim, member: dict, options: Options, now: int) -> list[dict]:
    """One checked {WebId, Items} of a stream-set write; a stream that cannot be written fails each value."""
    try:
        stream = sim.stream(member["WebId"])
        writable(stream)
    except PIError as exc:
        return [substatus(exc.status, "; ".join(exc.messages))] * max(1, len(member["Items"]))
    return write_many(writes, sim, stream, member["Items"], options, now)
