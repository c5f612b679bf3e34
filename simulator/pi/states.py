"""simulator.pi.states: PI's SYSTEM digital state set (code -> display name) and lookups by name.

Codes and names follow the AF SDK `AFSystemStateCode` enumeration (codes 210-259) and the
display names PI Web API returns (`{"Name": "I/O Timeout", "Value": 246, "IsSystem": true}`);
"Bad" 307 and "Intf Shut" 311 are as observed in real PI Web API answers. Codes 193-320 are
reserved for SYSTEM states. See shared/reference/piwebapi-facts.md section 3.3.
"""
from __future__ import annotations

import difflib
import re

SET_NAME = "SYSTEM"

SYSTEM: dict[int, str] = {
    210: "AccessDenied",
    211: "No Sample",
    212: "No Result",
    213: "Unit Down",
    214: "Sample Bad",
    215: "Equip Fail",
    216: "No Lab Data",
    217: "Trace",
    233: "DCS failed",
    237: "Bad Output",
    238: "Scan Off",
    239: "Scan On",
    240: "Configure",
    241: "Failed",
    242: "Error",
    243: "Execute",
    244: "Filtered",
    245: "Calc Off",
    246: "I/O Timeout",
    247: "Set to Bad",
    248: "No Data",
    249: "Calc Failed",
    250: "Calc Overflw",
    251: "Under Range",
    252: "Over Range",
    253: "Pt Created",
    254: "Shutdown",
    255: "Bad Input",
    256: "Bad Total",
    257: "No Alarm",
    258: "Over UCL",
    259: "Under LCL",
    307: "Bad",
    311: "Intf Shut",
}

# The codes the simulator itself uses by name.
IO_TIMEOUT = 246
NO_DATA = 248
PT_CREATED = 253
SHUTDOWN = 254
BAD_INPUT = 255

# Other spellings people write: the AF SDK enumeration names and unabbreviated forms.
_ALIASES = {
    "calcoverflow": 250,
    "calculationsoff": 245,
    "ioerror": 246,
    "pointcreated": 253,
}


def _key(name: str) -> str:
    """Lower case, without spaces, slashes, dashes or underscores: "I/O Timeout" -> "iotimeout"."""
    return re.sub(r"[\s/_\-]+", "", name).lower()


_BY_KEY: dict[str, int] = {**_ALIASES, **{_key(name): code for code, name in SYSTEM.items()}}


def name_of(code: int) -> str:
    """The display name of a SYSTEM state code; KeyError when it is not one."""
    return SYSTEM[code]


def is_system(code: int) -> bool:
    return code in SYSTEM


def code_of(name: str) -> int | None:
    """The code of a SYSTEM state by name, ignoring case, spaces and "/"; None when unknown.

    "I/O Timeout", "i/o timeout", "IOTimeout" and "io_timeout" all give 246.
    """
    return _BY_KEY.get(_key(name))


def lookup(value: object) -> int:
    """A SYSTEM state code from a name or a code; ValueError naming the value when unknown."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a SYSTEM state")
    if isinstance(value, int):
        if value in SYSTEM:
            return value
        raise ValueError(f"{value} is not a SYSTEM state code (known codes: {min(SYSTEM)}-{max(SYSTEM)})")
    if isinstance(value, str):
        code = code_of(value)
        if code is not None:
            return code
        hint = suggest(value)
        raise ValueError(f"unknown SYSTEM state {value!r}" + (f"; did you mean {hint!r}?" if hint else ""))
    raise ValueError(f"{value!r} is not a SYSTEM state name or code")


def suggest(name: str) -> str | None:
    """The closest SYSTEM state name to `name`, for "did you mean" hints."""
    close = difflib.get_close_matches(name.lower(), [n.lower() for n in SYSTEM.values()], n=1, cutoff=0.6)
    if not close:
        return None
    return next(n for n in SYSTEM.values() if n.lower() == close[0])
