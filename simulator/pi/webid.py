"""WebID 2.0 encoding and decoding (PI Web API "webid-encoding"); pure functions."""
from __future__ import annotations

import base64
import binascii
import re
import struct
import typing as t
import uuid
from dataclasses import dataclass

WEB_ID_TYPES = ("Full", "IDOnly", "PathOnly", "LocalIDOnly", "DefaultIDOnly")
VERSION = "1"

_TYPE_CHARS = {"Full": "F", "IDOnly": "I", "PathOnly": "P", "LocalIDOnly": "L", "DefaultIDOnly": "D"}
_TYPES_BY_CHAR = {char: name for name, char in _TYPE_CHARS.items()}
_TYPES_BY_LOWER = {name.lower(): name for name in WEB_ID_TYPES}
_GUID_CHARS = 22
_INT_CHARS = 6
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class InvalidWebIdError(ValueError):
    """A string that is not a well-formed WebID 2.0 (or arguments that cannot make one)."""


@dataclass(frozen=True)
class Layout:
    """What follows the header for one marker.

    Attributes:
        name: the PI object type, for messages.
        guids: how many GUIDs a Full/IDOnly WebID holds (server/system first, object last).
        point_id: True when an Int32 PI point id follows the GUIDs (the object id of a PI point).
        owners: the allowed owner-marker letters; empty when the type has no owner marker.
    """

    name: str
    guids: int
    point_id: bool = False
    owners: str = ""


#: Marker -> layout (facts §4.2). Only markers whose layout is documented are included.
LAYOUTS: dict[str, Layout] = {
    "DS": Layout("PI Data Server", 1),
    "DP": Layout("PI Point", 1, point_id=True),
    "RS": Layout("AF Asset Server", 1),
    "RD": Layout("AF Database", 2),
    "Em": Layout("AF Element", 2),
    "Fm": Layout("AF Event Frame", 2),
    "Ab": Layout("AF Attribute", 3, owners="EF"),
    "ET": Layout("AF Element Template", 2),
    "AT": Layout("AF Attribute Template", 3, owners="E"),
    "EC": Layout("AF Element Category", 2),
    "AC": Layout("AF Attribute Category", 2),
    "XC": Layout("AF Analysis Category", 2),
    "BC": Layout("AF Table Category", 2),
    "MS": Layout("Enumeration Set", 2, owners="DR"),
    "MV": Layout("Enumeration Value", 3, owners="DR"),
    "Xs": Layout("AF Analysis", 2),
    "XT": Layout("AF Analysis Template", 2),
    "XP": Layout("AF Analysis Rule Plug-in", 2),
    "TR": Layout("AF Time Rule", 3, owners="XT"),
    "TP": Layout("AF Time Rule Plug-in", 2),
    "Bl": Layout("AF Table", 2),
    "SI": Layout("AF Security Identity", 2),
    "SM": Layout("AF Security Mapping", 2),
    "Ut": Layout("AF Unit", 2),
    "UC": Layout("AF Unit Class", 2),
}


@dataclass(frozen=True)
class WebIdInfo:
    """The parts of a decoded WebID.

    Attributes:
        web_id_type: "Full", "IDOnly", "PathOnly", "LocalIDOnly" or "DefaultIDOnly".
        marker: the two-character object type, e.g. "DP", "Em", "Ab".
        owner: the owner-marker letter ("E", "F", "D", "R", "X", "T") or "".
        guids: lower-case hyphenated GUIDs in layout order (server/system, [owner], object). A
            LocalIDOnly/DefaultIDOnly WebID holds only the object GUID (none for a PI point).
        point_id: the PI point id of a "DP" WebID that carries ids, else None.
        path: the decoded name payload (PI upper-cases it; no leading backslashes), or None.
    """

    web_id_type: str
    marker: str
    owner: str
    guids: tuple[str, ...]
    point_id: int | None
    path: str | None

    @property
    def layout(self) -> Layout:
        """The marker's layout."""
        return LAYOUTS[self.marker]

    @property
    def object_id(self) -> str | int | None:
        """The object's own id: the point id of a PI point, else the last GUID (None for PathOnly)."""
        if self.point_id is not None:
            return self.point_id
        return self.guids[-1] if self.guids else None

    @property
    def full_path(self) -> str | None:
        """The path with its leading two backslashes, e.g. "\\\\PISRV01\\SINUSOID"."""
        return None if self.path is None else "\\\\" + self.path


def normalize_type(name: str) -> str:
    """The canonical WebID type name for `name`, matched case-insensitively.

    Raises:
        ValueError: `name` is not one of WEB_ID_TYPES.
    """
    canonical = _TYPES_BY_LOWER.get(name.strip().lower()) if isinstance(name, str) else None
    if canonical is None:
        msg = f"unknown webIdType {name!r}: expected one of {', '.join(WEB_ID_TYPES)}"
        raise ValueError(msg)
    return canonical


# --------------------------------------------------------------------------------------------------
# the four encodings (facts §4.1)

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str, what: str, web_id: str) -> bytes:
    if len(text) % 4 == 1:
        msg = f"WebID {web_id!r}: {what} {text!r} has an impossible base64 length {len(text)}"
        raise InvalidWebIdError(msg)
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        msg = f"WebID {web_id!r}: {what} {text!r} is not URL-safe base64 ({exc})"
        raise InvalidWebIdError(msg) from None
    if _b64(data) != text:
        msg = f"WebID {web_id!r}: {what} {text!r} is not canonical base64 (unused bits are set)"
        raise InvalidWebIdError(msg)
    return data


def _guid_text(value: str | uuid.UUID) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        msg = f"GUID {value!r} is not a valid GUID such as '7f16bd6b-c14c-4e03-822e-457da2f35081'"
        raise InvalidWebIdError(msg) from None


def encode_guid(value: str | uuid.UUID) -> str:
    """22 characters: the .NET (little-endian) byte order of the GUID, URL-safe base64."""
    return _b64(_guid_text(value).bytes_le)


def encode_int(value: int) -> str:
    """6 characters: a PI point id as little-endian Int32, URL-safe base64."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0x7FFF_FFFF:
        msg = f"point id {value!r} must be an integer in 0..2147483647"
        raise InvalidWebIdError(msg)
    return _b64(struct.pack("<i", value))


def upper_invariant(text: str) -> str:
    """Upper-case like .NET ToUpperInvariant: one character to one (so "ß" stays "ß")."""
    upper = text.upper()
    if len(upper) == len(text):
        return upper
    return "".join(c if len(c.upper()) != 1 else c.upper() for c in text)


def path_payload(path: str) -> str:
    """The name payload of a path: leading "\\\\" removed, upper-cased, UTF-8, URL-safe base64."""
    if not isinstance(path, str) or not path.strip("\\"):
        msg = f"path {path!r} must be a non-empty string such as '\\\\\\\\PISRV01\\\\SINUSOID'"
        raise InvalidWebIdError(msg)
    stripped = path[2:] if path.startswith("\\\\") else path
    try:
        return _b64(upper_invariant(stripped).encode("utf-8"))
    except UnicodeEncodeError:
        msg = f"path {path!r} cannot be encoded as UTF-8"
        raise InvalidWebIdError(msg) from None


# --------------------------------------------------------------------------------------------------
# encode / decode

def _layout(marker: str) -> Layout:
    layout = LAYOUTS.get(marker)
    if layout is None:
        msg = f"unknown WebID marker {marker!r}: expected one of {', '.join(LAYOUTS)}"
        raise InvalidWebIdError(msg)
    return layout


def encode(marker: str, *, guids: t.Sequence[str | uuid.UUID] = (), point_id: int | None = None,
           path: str | None = None, owner: str = "", web_id_type: str = "Full") -> str:
    """Build a WebID 2.0.

    Full = ids + path payload; IDOnly = ids; PathOnly = path payload; LocalIDOnly and DefaultIDOnly =
    the object's own id only (its GUID, or the point id of a PI point). DefaultIDOnly is laid out like
    LocalIDOnly here: the docs describe both as "object ID only".

    Args:
        marker: the two-character object type ("DP", "Em", "Ab", ...).
        guids: GUIDs in layout order (server/system, [owner object], object). For LocalIDOnly and
            DefaultIDOnly either the full tuple or just the object GUID may be given.
        point_id: the PI point id (marker "DP" only).
        path: the full path, with or without the leading "\\\\".
        owner: the owner-marker letter for owned types ("E"/"F" for attributes, "D"/"R" for
            enumeration sets and values, ...).
        web_id_type: one of WEB_ID_TYPES (case-insensitive).

    Returns:
        The WebID string.

    Raises:
        InvalidWebIdError: the parts do not fit the marker's layout or the type.
    """
    try:
        kind = normalize_type(web_id_type)
    except ValueError as exc:
        raise InvalidWebIdError(str(exc)) from None
    layout = _layout(marker)
    if layout.owners:
        if len(owner) != 1 or owner not in layout.owners:
            msg = f"marker {marker!r} needs an owner marker, one of {', '.join(layout.owners)}; got {owner!r}"
            raise InvalidWebIdError(msg)
    elif owner:
        msg = f"marker {marker!r} takes no owner marker; got {owner!r}"
        raise InvalidWebIdError(msg)
    if point_id is not None and not layout.point_id:
        msg = f"marker {marker!r} takes no point id; got {point_id!r}"
        raise InvalidWebIdError(msg)
    header = _TYPE_CHARS[kind] + VERSION + marker + owner
    guids = tuple(guids)
    if kind == "PathOnly":
        return header + _required_path(path, kind)
    if kind in ("LocalIDOnly", "DefaultIDOnly"):
        if layout.point_id:
            return header + encode_int(_required_point_id(point_id, marker))
        if not guids or len(guids) not in (1, layout.guids):
            msg = f"{kind} {marker!r} WebID needs the object GUID (or all {layout.guids}); got {len(guids)}"
            raise InvalidWebIdError(msg)
        return header + encode_guid(guids[-1])
    if len(guids) != layout.guids:
        msg = f"{kind} {marker!r} WebID needs {layout.guids} GUID(s); got {len(guids)}"
        raise InvalidWebIdError(msg)
    ids = "".join(encode_guid(guid) for guid in guids)
    if layout.point_id:
        ids += encode_int(_required_point_id(point_id, marker))
    if kind == "Full":
        return header + ids + _required_path(path, kind)
    return header + ids


def _required_path(path: str | None, kind: str) -> str:
    if path is None:
        msg = f"a {kind} WebID needs a path"
        raise InvalidWebIdError(msg)
    return path_payload(path)


def _required_point_id(point_id: int | None, marker: str) -> int:
    if point_id is None:
        msg = f"marker {marker!r} needs a point id"
        raise InvalidWebIdError(msg)
    return point_id


def decode(web_id: str) -> WebIdInfo:
    """Split a WebID 2.0 into its parts.

    Args:
        web_id: the WebID string.

    Returns:
        The `WebIdInfo`.

    Raises:
        InvalidWebIdError: the string is not a well-formed WebID 2.0 (the only exception raised).
    """
    if not isinstance(web_id, str):
        msg = f"WebID {web_id!r} must be a string"
        raise InvalidWebIdError(msg)
    if len(web_id) < 4:
        msg = f"WebID {web_id!r} is too short: expected a type, version '1' and a two-character marker"
        raise InvalidWebIdError(msg)
    if not web_id.isascii():
        msg = f"WebID {web_id!r} contains non-ASCII characters"
        raise InvalidWebIdError(msg)
    kind = _TYPES_BY_CHAR.get(web_id[0])
    if kind is None:
        msg = f"WebID {web_id!r} has an unknown type character {web_id[0]!r}: expected one of F, I, P, L, D"
        raise InvalidWebIdError(msg)
    if web_id[1] != VERSION:
        version = "WebID 1.0 is not supported" if web_id[1] == "0" else "expected '1' (WebID 2.0)"
        msg = f"WebID {web_id!r} has version {web_id[1]!r}: {version}"
        raise InvalidWebIdError(msg)
    marker = web_id[2:4]
    layout = LAYOUTS.get(marker)
    if layout is None:
        msg = f"WebID {web_id!r} has an unknown marker {marker!r}"
        raise InvalidWebIdError(msg)
    position = 4
    owner = ""
    if layout.owners:
        owner = web_id[4:5]
        if not owner or owner not in layout.owners:
            msg = (f"WebID {web_id!r}: marker {marker!r} needs an owner marker, one of "
                   f"{', '.join(layout.owners)}; got {owner!r}")
            raise InvalidWebIdError(msg)
        position = 5
    body = web_id[position:]
    if not _BASE64URL.fullmatch(body):
        msg = f"WebID {web_id!r} contains characters outside URL-safe base64"
        raise InvalidWebIdError(msg)

    if kind == "PathOnly":
        return WebIdInfo(kind, marker, owner, (), None, _decode_path(body, web_id))
    if kind in ("LocalIDOnly", "DefaultIDOnly"):
        size = _INT_CHARS if layout.point_id else _GUID_CHARS
        _expect_length(body, size, web_id, kind)
        if layout.point_id:
            return WebIdInfo(kind, marker, owner, (), _decode_int(body, web_id), None)
        return WebIdInfo(kind, marker, owner, (_decode_guid(body, web_id),), None, None)

    ids_length = layout.guids * _GUID_CHARS + (_INT_CHARS if layout.point_id else 0)
    if kind == "IDOnly":
        _expect_length(body, ids_length, web_id, kind)
    elif len(body) <= ids_length:
        msg = (f"WebID {web_id!r} is too short for a Full {marker!r} WebID: expected {ids_length} id "
               f"characters and a path payload, got {len(body)} characters")
        raise InvalidWebIdError(msg)
    guids = tuple(_decode_guid(body[i * _GUID_CHARS:(i + 1) * _GUID_CHARS], web_id)
                  for i in range(layout.guids))
    point_id = None
    if layout.point_id:
        start = layout.guids * _GUID_CHARS
        point_id = _decode_int(body[start:start + _INT_CHARS], web_id)
    path = _decode_path(body[ids_length:], web_id) if kind == "Full" else None
    return WebIdInfo(kind, marker, owner, guids, point_id, path)


def _expect_length(body: str, size: int, web_id: str, kind: str) -> None:
    if len(body) != size:
        msg = f"WebID {web_id!r}: a {kind} WebID of this type has {size} id characters, got {len(body)}"
        raise InvalidWebIdError(msg)


def _decode_guid(text: str, web_id: str) -> str:
    return str(uuid.UUID(bytes_le=_unb64(text, "GUID", web_id)))


def _decode_int(text: str, web_id: str) -> int:
    value = struct.unpack("<i", _unb64(text, "point id", web_id))[0]
    if value < 0:
        msg = f"WebID {web_id!r}: point id {value} is negative"
        raise InvalidWebIdError(msg)
    return value


def _decode_path(text: str, web_id: str) -> str:
    if not text:
        msg = f"WebID {web_id!r} has an empty path payload"
        raise InvalidWebIdError(msg)
    try:
        return _unb64(text, "path payload", web_id).decode("utf-8")
    except UnicodeDecodeError:
        msg = f"WebID {web_id!r}: the path payload is not UTF-8"
        raise InvalidWebIdError(msg) from None


def convert(web_id: str, web_id_type: str, *, path: str | None = None) -> str:
    """Re-encode a WebID as another type; `path` supplies the path when `web_id` carries none.

    Raises:
        InvalidWebIdError: `web_id` is malformed, or lacks the ids or path the target type needs.
    """
    info = decode(web_id)
    return encode(info.marker, guids=info.guids, point_id=info.point_id,
                  path=path if path is not None else info.full_path, owner=info.owner,
                  web_id_type=web_id_type)


# --------------------------------------------------------------------------------------------------
# builders with readable names

def _server_path(name: str) -> str:
    return name if name.startswith("\\\\") else "\\\\" + name


def data_server(server_id: str | uuid.UUID, server_name: str, web_id_type: str = "Full") -> str:
    """WebID of a PI Data Server ("DS"): server GUID + "\\\\NAME"."""
    return encode("DS", guids=(server_id,), path=_server_path(server_name), web_id_type=web_id_type)


def point(server_id: str | uuid.UUID, point_id: int, server_name: str, tag: str,
          web_id_type: str = "Full") -> str:
    """WebID of a PI point ("DP"): server GUID + point id + "\\\\SERVER\\TAG"."""
    path = _server_path(server_name) + "\\" + tag
    return encode("DP", guids=(server_id,), point_id=point_id, path=path, web_id_type=web_id_type)


def asset_server(system_id: str | uuid.UUID, name: str, web_id_type: str = "Full") -> str:
    """WebID of an AF server / PISystem ("RS"): system GUID + "\\\\NAME"."""
    return encode("RS", guids=(system_id,), path=_server_path(name), web_id_type=web_id_type)


def database(system_id: str | uuid.UUID, db_id: str | uuid.UUID, path: str,
             web_id_type: str = "Full") -> str:
    """WebID of an AF database ("RD"); `path` like "\\\\AF\\DB"."""
    return encode("RD", guids=(system_id, db_id), path=path, web_id_type=web_id_type)


def element(system_id: str | uuid.UUID, element_id: str | uuid.UUID, path: str,
            web_id_type: str = "Full") -> str:
    """WebID of an AF element ("Em"); `path` like "\\\\AF\\DB\\Plant\\Unit1"."""
    return encode("Em", guids=(system_id, element_id), path=path, web_id_type=web_id_type)


def event_frame(system_id: str | uuid.UUID, ef_id: str | uuid.UUID, path: str,
                web_id_type: str = "Full") -> str:
    """WebID of an AF event frame ("Fm")."""
    return encode("Fm", guids=(system_id, ef_id), path=path, web_id_type=web_id_type)


def element_attribute(system_id: str | uuid.UUID, element_id: str | uuid.UUID,
                      attribute_id: str | uuid.UUID, path: str, web_id_type: str = "Full") -> str:
    """WebID of an element's attribute ("Ab" owner "E"); `path` like "\\\\AF\\DB\\Unit1|Temperature"."""
    return encode("Ab", guids=(system_id, element_id, attribute_id), path=path, owner="E",
                  web_id_type=web_id_type)


def event_frame_attribute(system_id: str | uuid.UUID, event_frame_id: str | uuid.UUID,
                          attribute_id: str | uuid.UUID, path: str, web_id_type: str = "Full") -> str:
    """WebID of an event frame's attribute ("Ab" owner "F")."""
    return encode("Ab", guids=(system_id, event_frame_id, attribute_id), path=path, owner="F",
                  web_id_type=web_id_type)


def element_template(system_id: str | uuid.UUID, template_id: str | uuid.UUID, path: str,
                     web_id_type: str = "Full") -> str:
    """WebID of an AF element template ("ET")."""
    return encode("ET", guids=(system_id, template_id), path=path, web_id_type=web_id_type)


def attribute_template(system_id: str | uuid.UUID, template_id: str | uuid.UUID,
                       attribute_template_id: str | uuid.UUID, path: str, web_id_type: str = "Full") -> str:
    """WebID of an attribute template of an element template ("AT" owner "E")."""
    return encode("AT", guids=(system_id, template_id, attribute_template_id), path=path, owner="E",
                  web_id_type=web_id_type)


def enumeration_set(server_id: str | uuid.UUID, set_id: str | uuid.UUID, path: str, *,
                    owner: str = "D", web_id_type: str = "Full") -> str:
    """WebID of an enumeration (digital state) set ("MS"), owner "D" (data server) or "R" (AF)."""
    return encode("MS", guids=(server_id, set_id), path=path, owner=owner, web_id_type=web_id_type)


class Identified:
    """An object with a WebID: subclasses say what goes into it (`_web_id_parts`); the strings are
    computed once per WebID type and kept (stream sets name thousands of objects per call)."""

    _web_ids: dict[str, str] | None = None

    def _web_id_parts(self) -> dict:
        raise NotImplementedError

    def web_id(self, web_id_type: str = "Full") -> str:
        cache = self._web_ids
        if cache is None:
            cache = self._web_ids = {}
        found = cache.get(web_id_type)
        if found is None:
            found = cache[web_id_type] = encode(web_id_type=web_id_type, **self._web_id_parts())
        return found
