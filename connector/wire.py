"""connector.wire: msgspec structs for the PI Web API JSON the connector decodes on its hot paths.

Decoding straight into structs is several times faster than building dicts, and a value's JSON
type (number, string, digital-state object) is kept as it came: a digital or system state stays a
`StateValue`, never a NULL.
"""
from __future__ import annotations

from typing import Any
from typing import Union

import msgspec


class StateValue(msgspec.Struct, gc=False):
    """A JSON object as a value: a digital state (one of the point's own set, or a SYSTEM state when
    IsSystem), or a bad value PI reports as `{"Errors": [...]}` (no Name)."""

    Name: str | None = None
    Value: int | None = 0
    IsSystem: bool = False
    Errors: list[Any] | None = None


#: a value as PI sends it: a number, bool, string, state or error object, an array (array points), or null
PIValue = Union[float, int, bool, str, StateValue, list, None]


class PropertyError(msgspec.Struct, gc=False):
    """One of a TimedValue's `Errors`: PI's PropertyError."""

    FieldName: str | None = None
    Message: list[Any] | None = None


class TimedValue(msgspec.Struct, gc=False):
    Timestamp: str
    Value: PIValue = None
    UnitsAbbreviation: str | None = None
    Good: bool = True
    Questionable: bool = False
    Substituted: bool = False
    Annotated: bool = False
    Errors: list[PropertyError] | None = None


class WebException(msgspec.Struct, gc=False):
    StatusCode: int = 0
    Errors: list[str] = []


class TimedValues(msgspec.Struct, gc=False):
    Items: list[TimedValue] = []
    UnitsAbbreviation: str | None = None


class StreamValues(msgspec.Struct, gc=False):
    """One member of a stream set: its identity, its values or its error."""

    WebId: str = ""
    Name: str = ""
    Path: str = ""
    Items: list[TimedValue] = []
    UnitsAbbreviation: str | None = None
    WebException: WebException | None = None


class StreamSet(msgspec.Struct, gc=False):
    Items: list[StreamValues] = []


class SubResponse(msgspec.Struct, gc=False):
    """One answer inside a batch response; Content is decoded later by what the caller expects."""

    Status: int
    Content: msgspec.Raw = msgspec.Raw(b"null")


class Errors(msgspec.Struct, gc=False):
    Errors: list[str] = []


TIMED_VALUES = msgspec.json.Decoder(TimedValues)
STREAM_SET = msgspec.json.Decoder(StreamSet)
BATCH = msgspec.json.Decoder(dict[str, SubResponse])
ERRORS = msgspec.json.Decoder(Errors)


def error_messages(raw: bytes | msgspec.Raw) -> list[str]:
    """PI's {"Errors": [...]} messages from a body, or its text when it is something else."""
    try:
        return ERRORS.decode(raw).Errors or [bytes(raw).decode("utf-8", "replace")[:500]]
    except (msgspec.DecodeError, msgspec.ValidationError):
        return [bytes(raw).decode("utf-8", "replace")[:500]]
