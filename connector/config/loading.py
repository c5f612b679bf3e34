"""connector.config.loading: the one way in: a YAML file or a mapping -> ${ENV} -> schema -> ConnectorConfig.

`load_config` (the CLI, the demo) reads a file with picommon.markedyaml, so every node knows its
line; `load_mapping` (ConnectorConfig.from_dict: Lakeflow and Spark options, tests) takes a
mapping and gives it the same nodes without lines. Both then substitute ${NAME} over the tree and
validate it with the same schema, so a file and a mapping obey the same rules and their errors
read alike (`file:line: field: problem`, or `source: field: problem`).
"""
from __future__ import annotations

import os
import typing as t
from collections.abc import Mapping
from pathlib import Path

from marshmallow import ValidationError
from picommon import markedyaml

from ..errors import ConfigError
from .fields import BASE_DIR
from .model import ConnectorConfig
from .problems import located
from .problems import raise_first
from .schema import ConfigSchema
from .tree import field_lines
from .tree import mark_free
from .tree import substitute_env


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> ConnectorConfig:
    """Read and validate a YAML configuration file.

    Args:
        path: the YAML file.
        environ: variables for ${NAME} (default: os.environ).

    Raises:
        ConfigError: `file:line: field: problem` (exit code 2), for the first problem by line and
            then the others.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=file, line=None,
                          field="(file)") from None
    except UnicodeDecodeError:
        raise ConfigError("cannot read the file: it is not UTF-8 text", file=file, line=None,
                          field="(file)") from None
    try:
        raw = markedyaml.read_yaml(text)
    except markedyaml.YAMLProblem as exc:
        raise ConfigError(exc.message, file=file, line=exc.line, field="(yaml)") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"must be a mapping with source and destination, got {type(raw).__name__}",
                          file=file, line=1, field="(config)")
    return _build(raw, file, os.environ if environ is None else environ, Path(path).resolve().parent)


def load_mapping(mapping: Mapping[str, t.Any], source: str = "<dict>", *,
                 environ: Mapping[str, str] | None = None,
                 base_dir: str | Path | None = None) -> ConnectorConfig:
    """Validate a mapping; relative paths are taken from base_dir (default: the cwd).

    Raises:
        ConfigError: `source: field: problem` (a mapping has no lines).
    """
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"must be a mapping, got {type(mapping).__name__}", file=source, line=None,
                          field="(config)")
    return _build(t.cast(dict, mark_free(mapping)), source, os.environ if environ is None else environ,
                  Path(base_dir) if base_dir is not None else Path.cwd())


def _build(raw: dict, file: str, environ: Mapping[str, str], base_dir: Path) -> ConnectorConfig:
    errors = substitute_env(raw, file, environ)
    if errors:
        raise_first(errors)
    token = BASE_DIR.set(base_dir)
    try:
        data = ConfigSchema().load(raw)
    except ValidationError as exc:
        raise_first(located(exc.messages, raw, ConfigSchema(), file))
    finally:
        BASE_DIR.reset(token)
    return ConnectorConfig(**data, file=file, lines=field_lines(raw))
