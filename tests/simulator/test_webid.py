"""Tests for simulator.pi.webid: WebID 2.0 encode/decode against documented examples, and fuzzing."""
from __future__ import annotations

import base64
import string
import struct
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the package is not installed in the venv; run from a checkout
    sys.path.insert(0, str(REPO))

from simulator.pi import webid  # noqa: E402
from simulator.pi.webid import LAYOUTS  # noqa: E402
from simulator.pi.webid import WEB_ID_TYPES  # noqa: E402
from simulator.pi.webid import InvalidWebIdError  # noqa: E402
from simulator.pi.webid import WebIdInfo  # noqa: E402
from simulator.pi.webid import decode  # noqa: E402
from simulator.pi.webid import encode  # noqa: E402
from simulator.pi.webid import normalize_type  # noqa: E402

SYSTEM = "96f9a00e-4d80-471f-aba9-ea89a1db402c"
DATABASE = "a3a5ebaa-37ae-42dc-9d1e-b6bb7ec98bd2"
ELEMENT = "cbb28260-853d-11e4-80c5-00155d844304"
ATTRIBUTE = "75de231b-b591-49b1-b138-e725a77165c2"

# facts §4.3: (WebID, type, marker, owner, guids, point id, path)
DOCUMENTED = [
    ("I1DPa70Wf0zBA06CLkV9ovNQgQCAAAAA", "IDOnly", "DP", "",
     ("7f16bd6b-c14c-4e03-822e-457da2f35081",), 8, None),
    ("F1DP2D-mFxStdkup8XJDcSGY4AIAwAAAU0NSUElQMDFcTUFQQ1NDUlVCR1JBU1MzMzUx", "Full", "DP", "",
     ("17a63fd8-ad14-4b76-a9f1-7243712198e0",), 3104, "SCRPIP01\\MAPCSCRUBGRASS3351"),
    ("F1DPEmoryo_bV0GzilxLXH31pgjowAAAQUJDX1BJX09QU1xBSUM2ODEwNTkuUFY", "Full", "DP", "",
     ("ca2b6a12-db8f-4157-b38a-5c4b5c7df5a6",), 35982, "ABC_PI_OPS\\AIC681059.PV"),
    ("I1DS1km7hQHxB0i6-VfC-9MwAA", "IDOnly", "DS", "", ("85bb49d6-f101-4807-baf9-57c2fbd33000",), None, None),
    ("I1RSDqD5loBNH0erqeqJodtALA", "IDOnly", "RS", "", (SYSTEM,), None, None),
    ("I1RDDqD5loBNH0erqeqJodtALAquulo6433EKdHra7fsmL0g", "IDOnly", "RD", "", (SYSTEM, DATABASE), None, None),
    ("I1EmDqD5loBNH0erqeqJodtALAYIKyyz2F5BGAxQAVXYRDBA", "IDOnly", "Em", "", (SYSTEM, ELEMENT), None, None),
    ("I1AbEDqD5loBNH0erqeqJodtALAYIKyyz2F5BGAxQAVXYRDBAGyPedZG1sUmxOOclp3Flwg", "IDOnly", "Ab", "E",
     (SYSTEM, ELEMENT, ATTRIBUTE), None, None),
    ("F1DSBd9Ab83Y90SNSjy4JtD5fQVk0tVFMtUEk", "Full", "DS", "",
     ("6f40df05-d8cd-44f7-8d4a-3cb826d0f97d",), None, "VM-TS-PI"),
]


def reencode(info: WebIdInfo) -> str:
    """Encode the parts of a decoded WebID again."""
    return encode(info.marker, guids=info.guids, point_id=info.point_id, path=info.full_path,
                  owner=info.owner, web_id_type=info.web_id_type)


@pytest.mark.parametrize(("web_id", "kind", "marker", "owner", "guids", "point_id", "path"), DOCUMENTED)
def test_documented_examples_decode_and_round_trip(web_id, kind, marker, owner, guids, point_id, path):
    info = decode(web_id)
    assert info == WebIdInfo(kind, marker, owner, guids, point_id, path)
    assert reencode(info) == web_id


def test_builders_reproduce_documented_examples():
    assert webid.point("7f16bd6b-c14c-4e03-822e-457da2f35081", 8, "ANY", "ANY", "IDOnly") == DOCUMENTED[0][0]
    assert webid.point("17a63fd8-ad14-4b76-a9f1-7243712198e0", 3104, "scrpip01",
                       "MapcScrubGrass3351") == DOCUMENTED[1][0]
    assert webid.point(uuid.UUID("ca2b6a12-db8f-4157-b38a-5c4b5c7df5a6"), 35982, "\\\\ABC_PI_OPS",
                       "aic681059.pv", "full") == DOCUMENTED[2][0]
    assert webid.data_server("85bb49d6-f101-4807-baf9-57c2fbd33000", "X", "IDOnly") == DOCUMENTED[3][0]
    assert webid.asset_server(SYSTEM, "AF", "IDOnly") == DOCUMENTED[4][0]
    assert webid.database(SYSTEM, DATABASE, "\\\\AF\\DB", "IDOnly") == DOCUMENTED[5][0]
    assert webid.element(SYSTEM, ELEMENT, "\\\\AF\\DB\\E", "IDOnly") == DOCUMENTED[6][0]
    attribute = webid.element_attribute(SYSTEM, ELEMENT, ATTRIBUTE, "\\\\AF\\DB\\E|A", "IDOnly")
    assert attribute == DOCUMENTED[7][0]
    assert webid.data_server("6f40df05-d8cd-44f7-8d4a-3cb826d0f97d", "vm-ts-pi") == DOCUMENTED[8][0]


def test_path_payload_and_types():
    path = "\\\\PISRV01\\sinusoid"
    payload = base64.urlsafe_b64encode(b"PISRV01\\SINUSOID").decode().rstrip("=")
    server = "17a63fd8-ad14-4b76-a9f1-7243712198e0"
    full = webid.point(server, 12, "PISRV01", "sinusoid")
    assert full == "F1DP" + webid.encode_guid(server) + webid.encode_int(12) + payload
    assert webid.point(server, 12, "PISRV01", "sinusoid", "PathOnly") == "P1DP" + payload
    assert webid.point(server, 12, "PISRV01", "SINUSOID", "IDOnly") == "I1DP" + full[4:32]
    assert webid.point(server, 12, "PISRV01", "SINUSOID", "LocalIDOnly") == "L1DP" + webid.encode_int(12)
    assert webid.point(server, 12, "PISRV01", "SINUSOID", "DefaultIDOnly") == "D1DP" + webid.encode_int(12)
    assert decode("P1DP" + payload).path == "PISRV01\\SINUSOID"
    assert decode("P1DP" + payload).full_path == "\\\\PISRV01\\SINUSOID"
    assert webid.path_payload(path) == webid.path_payload(path.upper()) == webid.path_payload(path[2:])


def test_local_and_default_id_only():
    attribute = webid.element_attribute(SYSTEM, ELEMENT, ATTRIBUTE, "\\\\AF\\DB\\E|A", "LocalIDOnly")
    assert attribute == "L1AbE" + webid.encode_guid(ATTRIBUTE)
    info = decode(attribute)
    assert info.guids == (ATTRIBUTE,) and info.owner == "E" and info.path is None
    assert info.object_id == ATTRIBUTE
    element = encode("Em", guids=(ELEMENT,), web_id_type="DefaultIDOnly")
    assert element == "D1Em" + webid.encode_guid(ELEMENT)
    point = decode(encode("DP", point_id=42, web_id_type="LocalIDOnly"))
    assert (point.guids, point.point_id, point.object_id) == ((), 42, 42)


def test_event_frame_and_templates():
    ef = "6f40df05-d8cd-44f7-8d4a-3cb826d0f97d"
    path = "\\\\AF\\DB\\EventFrames[Batch 1]"
    assert decode(webid.event_frame(SYSTEM, ef, path)).marker == "Fm"
    info = decode(webid.event_frame_attribute(SYSTEM, ef, ATTRIBUTE, path + "|Product"))
    assert (info.marker, info.owner, info.guids, info.path) == (
        "Ab", "F", (SYSTEM, ef, ATTRIBUTE), "AF\\DB\\EVENTFRAMES[BATCH 1]|PRODUCT")
    assert decode(webid.element_template(SYSTEM, ef, "\\\\AF\\DB\\ElementTemplates[Pump]")).marker == "ET"
    template_path = "\\\\AF\\DB\\ElementTemplates[Pump]|Flow"
    template = decode(webid.attribute_template(SYSTEM, ef, ATTRIBUTE, template_path))
    assert (template.marker, template.owner, len(template.guids)) == ("AT", "E", 3)
    states = decode(webid.enumeration_set(SYSTEM, ef, "\\\\PISRV01\\UnitState"))
    assert (states.marker, states.owner, states.path) == ("MS", "D", "PISRV01\\UNITSTATE")


def test_convert_between_types():
    full = DOCUMENTED[1][0]
    assert webid.convert(full, "IDOnly") == "I1DP" + full[4:32]
    assert decode(webid.convert(full, "PathOnly")).path == "SCRPIP01\\MAPCSCRUBGRASS3351"
    id_only = webid.convert(full, "IDOnly")
    assert webid.convert(id_only, "Full", path="\\\\SCRPIP01\\MAPCSCRUBGRASS3351") == full
    with pytest.raises(InvalidWebIdError, match="needs a path"):
        webid.convert(webid.convert(full, "IDOnly"), "Full")


def test_upper_invariant_is_one_to_one():
    assert webid.upper_invariant("straße|µ") == "STRAßE|Μ"
    assert webid.upper_invariant("abc") == "ABC"


@pytest.mark.parametrize(("name", "canonical"), [
    ("Full", "Full"), ("full", "Full"), ("IDONLY", "IDOnly"), ("idonly", "IDOnly"), ("PathOnly", "PathOnly"),
    (" localidonly ", "LocalIDOnly"), ("DefaultIDOnly", "DefaultIDOnly"),
])
def test_normalize_type(name, canonical):
    assert normalize_type(name) == canonical


@pytest.mark.parametrize("name", ["", "Fullish", "ID", "Path Only", None, 1])
def test_normalize_type_unknown(name):
    with pytest.raises(ValueError, match="unknown webIdType"):
        normalize_type(name)


GUID = "7f16bd6b-c14c-4e03-822e-457da2f35081"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"marker": "ZZ", "guids": (GUID,)}, "unknown WebID marker 'ZZ'"),
    ({"marker": "DS", "guids": (GUID,), "path": "\\\\S", "web_id_type": "Partial"}, "unknown webIdType"),
    ({"marker": "DS", "guids": (GUID, GUID), "path": "\\\\S"}, "needs 1 GUID"),
    ({"marker": "Em", "guids": (GUID,), "path": "\\\\S\\D\\E"}, "needs 2 GUID"),
    ({"marker": "DS", "guids": (GUID,)}, "needs a path"),
    ({"marker": "DS", "web_id_type": "PathOnly"}, "needs a path"),
    ({"marker": "DS", "guids": ("not-a-guid",), "path": "\\\\S"}, "'not-a-guid'"),
    ({"marker": "DS", "guids": (GUID,), "path": "\\\\"}, "path"),
    ({"marker": "DS", "guids": (GUID,), "path": "\\\\\ud800"}, "UTF-8"),
    ({"marker": "DP", "guids": (GUID,), "path": "\\\\S\\T"}, "needs a point id"),
    ({"marker": "DP", "guids": (GUID,), "point_id": -1, "path": "\\\\S\\T"}, "point id -1"),
    ({"marker": "DP", "guids": (GUID,), "point_id": 2**31, "path": "\\\\S\\T"}, "point id 2147483648"),
    ({"marker": "DP", "guids": (GUID,), "point_id": True, "path": "\\\\S\\T"}, "point id True"),
    ({"marker": "DS", "guids": (GUID,), "point_id": 1, "path": "\\\\S"}, "takes no point id"),
    ({"marker": "Ab", "guids": (GUID, GUID, GUID), "path": "\\\\A|B"}, "needs an owner marker"),
    ({"marker": "Ab", "guids": (GUID, GUID, GUID), "path": "\\\\A|B", "owner": "D"}, "got 'D'"),
    ({"marker": "Ab", "guids": (GUID, GUID, GUID), "path": "\\\\A|B", "owner": "EF"}, "got 'EF'"),
    ({"marker": "Em", "guids": (GUID, GUID), "path": "\\\\A", "owner": "E"}, "takes no owner"),
    ({"marker": "Em", "guids": (), "web_id_type": "LocalIDOnly"}, "needs the object GUID"),
    ({"marker": "DP", "guids": (GUID,), "web_id_type": "LocalIDOnly"}, "needs a point id"),
])
def test_encode_errors(kwargs, message):
    marker = kwargs.pop("marker")
    with pytest.raises(InvalidWebIdError, match=message.replace("(", r"\(")):
        encode(marker, **kwargs)


GUID_TEXT = webid.encode_guid(GUID)
_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
NON_CANONICAL_GUID = GUID_TEXT[:-1] + _B64[_B64.index(GUID_TEXT[-1]) | 1]  # sets an unused low bit


@pytest.mark.parametrize(("text", "message"), [
    ("", "too short"),
    ("F1D", "too short"),
    ("X1DS" + GUID_TEXT + "UA", "unknown type character 'X'"),
    ("f1DS" + GUID_TEXT + "UA", "unknown type character 'f'"),
    ("I0DS" + GUID_TEXT, "WebID 1.0 is not supported"),
    ("I2DS" + GUID_TEXT, "expected '1'"),
    ("I1ZZ" + GUID_TEXT, "unknown marker 'ZZ'"),
    ("I1em" + GUID_TEXT * 2, "unknown marker 'em'"),
    ("I1DS" + GUID_TEXT[:-1], "22 id characters, got 21"),
    ("I1DS" + GUID_TEXT + "A", "22 id characters, got 23"),
    ("I1DS" + NON_CANONICAL_GUID, "not canonical"),
    ("I1DS" + "!" * 22, "outside URL-safe base64"),
    ("I1DS" + GUID_TEXT[:-2] + "==", "outside URL-safe base64"),
    ("I1DS" + GUID_TEXT[:-1] + "é", "non-ASCII"),
    ("I1AbX" + GUID_TEXT * 3, "owner marker"),
    ("I1Ab" + GUID_TEXT * 3, "owner marker"),
    ("F1Em" + GUID_TEXT * 2, "too short for a Full"),
    ("F1DS" + GUID_TEXT + "A", "impossible base64 length"),
    ("F1DS" + GUID_TEXT + base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="), "not UTF-8"),
    ("P1DS", "empty path payload"),
    ("I1DP" + GUID_TEXT + webid._b64(struct.pack("<i", -5)), "negative"),
    ("I1DP" + GUID_TEXT + "AAAA", "28 id characters, got 26"),
    ("L1DP" + GUID_TEXT, "6 id characters, got 22"),
    ("L1Em" + webid.encode_int(5), "22 id characters, got 6"),
])
def test_decode_errors(text, message):
    with pytest.raises(InvalidWebIdError, match=message) as info:
        decode(text)
    assert repr(text) in str(info.value) or text == ""


@pytest.mark.parametrize("value", [None, b"I1DS1km7hQHxB0i6-VfC-9MwAA", 5])
def test_decode_not_a_string(value):
    with pytest.raises(InvalidWebIdError, match="must be a string"):
        decode(value)


def test_layout_table():
    for marker in ("DS", "DP", "RS", "RD", "Em", "Fm", "Ab", "ET", "AT", "EC", "AC", "MS", "MV", "Ut", "UC",
                   "Xs", "Bl"):
        assert marker in LAYOUTS
    assert (LAYOUTS["Ab"].guids, LAYOUTS["Ab"].owners) == (3, "EF")
    assert (LAYOUTS["DP"].guids, LAYOUTS["DP"].point_id) == (1, True)
    assert (LAYOUTS["MV"].guids, LAYOUTS["MV"].owners) == (3, "DR")


# --------------------------------------------------------------------------------------------------
# properties

guids = st.uuids().map(str)
path_segments = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\\"),
                        min_size=1, max_size=12)
paths = st.lists(path_segments, min_size=1, max_size=4).map(lambda parts: "\\\\" + "\\".join(parts))


@st.composite
def web_id_parts(draw):
    marker = draw(st.sampled_from(sorted(LAYOUTS)))
    layout = LAYOUTS[marker]
    return {
        "marker": marker,
        "guids": tuple(draw(guids) for _ in range(layout.guids)),
        "point_id": draw(st.integers(0, 2**31 - 1)) if layout.point_id else None,
        "path": draw(paths),
        "owner": draw(st.sampled_from(layout.owners)) if layout.owners else "",
        "web_id_type": draw(st.sampled_from(WEB_ID_TYPES)),
    }


@settings(max_examples=300, deadline=None)
@given(web_id_parts())
def test_round_trip_every_marker_and_type(parts):
    text = encode(**parts)
    assert text.isascii() and "=" not in text
    info = decode(text)
    kind = parts["web_id_type"]
    assert (info.web_id_type, info.marker, info.owner) == (kind, parts["marker"], parts["owner"])
    with_ids = kind in ("Full", "IDOnly")
    with_path = kind in ("Full", "PathOnly")
    if with_ids:
        assert info.guids == parts["guids"]
        assert info.point_id == parts["point_id"]
    elif kind == "PathOnly":
        assert (info.guids, info.point_id) == ((), None)
    elif parts["point_id"] is not None:
        assert (info.guids, info.point_id) == ((), parts["point_id"])
    else:
        assert (info.guids, info.point_id) == (parts["guids"][-1:], None)
    assert info.path == (webid.upper_invariant(parts["path"][2:]) if with_path else None)
    assert reencode(info) == text


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_decode_random_text_raises_only_invalid_web_id(text):
    try:
        decode(text)
    except InvalidWebIdError:
        pass


B64_ALPHABET = string.ascii_letters + string.digits + "-_"
headers = st.builds(lambda kind, marker, owner: kind + "1" + marker + owner, st.sampled_from("FIPLD"),
                    st.sampled_from(sorted(LAYOUTS)), st.sampled_from(["", "E", "F", "D", "R", "X", "T"]))


@settings(max_examples=600, deadline=None)
@given(headers, st.text(alphabet=B64_ALPHABET + "=+/.é\x00", max_size=100))
def test_decode_plausible_text_raises_only_invalid_web_id(header, body):
    try:
        info = decode(header + body)
    except InvalidWebIdError:
        return
    if info.path is not None and (info.path != webid.upper_invariant(info.path) or not info.path.strip("\\")):
        return  # a hand-made payload in lower case (or only backslashes): accepted, but not canonical
    # whatever decodes canonically must re-encode to the same string
    assert reencode(info) == header + body
