"""connector.config.problems: marshmallow's nested error messages -> ConfigErrors at file:line: field.

marshmallow reports {"source": {"timeout": ["..."]}}; `located` walks that beside the marked tree
to find each field's line, rewords marshmallow's own messages ("Missing data for required
field." -> "is required"), suggests the closest key for an unknown one, and never echoes a secret.
`raise_first` raises one ConfigError for the first problem by line, carrying the others.
"""
from __future__ import annotations

import difflib
import typing as t

from marshmallow import Schema
from marshmallow import fields
from picommon.markedyaml import format_path

from ..errors import ConfigError
from .fields import shown
from .model import SECRET_FIELDS
from .tree import FieldPath
from .tree import child_line

_MESSAGES = {
    "Missing data for required field.": "is required",
    "Field may not be null.": "must not be null",
    "Not a valid list.": "must be a list",
    "Invalid input type.": "must be a mapping",
    "Not a valid mapping type.": "must be a mapping",
}


def located(messages: object, tree: object, schema: Schema, file: str) -> list[ConfigError]:
    """One ConfigError per problem in marshmallow's `messages` for the marked `tree`."""
    return [ConfigError(problem, file=file, line=line, field=format_path(path) or "(config)")
            for line, path, problem in _walk(messages, tree, schema, (), None)]


def raise_first(errors: list[ConfigError]) -> t.NoReturn:
    """Raise the first error by line (those without one last), with the others as `more`."""
    ordered = sorted(errors, key=lambda e: (e.line is None, e.line or 0, e.field))
    first, rest = ordered[0], ordered[1:]
    raise ConfigError(first.problem, file=first.file, line=first.line, field=first.field, more=rest)


def _child_schema(schema: Schema | None, key: object) -> Schema | None:
    if schema is None or not isinstance(key, str):
        return schema if isinstance(key, int) else None
    found = schema.fields.get(key)
    if isinstance(found, fields.List):
        found = found.inner
    return found.schema if isinstance(found, fields.Nested) else None


def _walk(messages: object, raw: object, schema: Schema | None, path: FieldPath,
          line: int | None) -> t.Iterator[tuple[int | None, FieldPath, str]]:
    """(line, field path, problem) for marshmallow's nested error messages."""
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, (dict, list)):
                yield from _walk(message, raw, schema, path, line)
            else:
                yield line, path, _humanize(str(message), raw, format_path(path))
        return
    if not isinstance(messages, dict):
        yield line, path, str(messages)
        return
    for key, sub in messages.items():
        if key == "_schema":
            yield from _walk(sub, raw, schema, path, line)
            continue
        here, at, child = (*path, key), line, None
        if (isinstance(key, int) and isinstance(raw, list) and key < len(raw)) or \
                (isinstance(raw, dict) and key in raw):
            child, at = raw[key], child_line(raw, key, line)
        if sub == ["Unknown field."] and schema is not None:
            known = sorted(schema.fields)
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
            yield at, here, f"unknown key; {hint}"
            continue
        yield from _walk(sub, child, _child_schema(schema, key), here, at)


def _humanize(message: str, raw: object, path: str) -> str:
    text = _MESSAGES.get(message)
    if text is None:
        return message
    if text == "must be a mapping" and raw is not None and not any(path.startswith(s) for s in SECRET_FIELDS):
        text += f", got {shown(raw)}"
    return text
