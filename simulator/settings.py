"""simulator.settings: frozen Settings from defaults, PISIM_* environment variables and CLI flags.

This is the only module that reads os.environ. Per-call overrides win over the environment, which
wins over the defaults.
"""
from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace

PREFIX = "PISIM_"


@dataclass(frozen=True)
class Settings:
    scenario: str = "default"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 1  # per worker; more than 1 serves with gunicorn's gthread worker
    validate_responses: bool = False
    now: str | None = None  # pins the clock here, over the scenario's ("2026-11-25T00:00:00Z", "*-1d")
    clock_speed: float = 1.0  # simulated seconds per real second (a moving clock only)
    clock_start: str | None = None  # a moving clock's start (default: the scenario's clock.now, else real time)
    journal_size: int = 10_000
    mappings_dir: str | None = None
    admin_token: str | None = None  # a Bearer token for /__admin, besides the scenario's admin credentials
    admin_open: bool = False  # /__admin open to everyone whatever the scenario says (local QA only)
    updates_lifetime: int = 600  # seconds a Stream Updates marker stays valid after it was issued

    @classmethod
    def load(cls, environ: t.Mapping[str, str] | None = None, **overrides: t.Any) -> Settings:
        source = os.environ if environ is None else environ
        values: dict[str, t.Any] = {}
        for f in fields(cls):
            raw = source.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw, f.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(cls(), **values)


def _coerce(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{PREFIX}{name.upper()}={raw!r}: expected true or false")
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{name.upper()}={raw!r}: expected a number") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{name.upper()}={raw!r}: expected a whole number") from None
    return raw
