"""bench: throughput and memory figures for the simulator and the connector (`make bench`).

Each suite is a module with `NAME` (the JSON file's name) and `run(options) -> list[Figure]`;
`bench.run` runs the suites, prints one table per suite and writes `.bench/<NAME>.json`.
"""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / ".bench"


@dataclass(frozen=True)
class Options:
    """What every suite may read from the command line."""

    repeats: int = 7
    warmup: int = 2
    quick: bool = False  # fewer repeats, skip the slowest figures (a smoke run)


@dataclass(frozen=True)
class Figure:
    """One row of the table.

    `ratio` is what the row compares against, spelled out in `ratio_of` ("value/goal",
    "serve/floor"...); `goal` is text (">= 1,000,000", "<= 300") or "" when the row only informs.
    """

    name: str
    value: float
    unit: str
    goal: str = ""
    ratio: float | None = None
    ratio_of: str = ""
    note: str = ""


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: list[Figure], title: str) -> str:
    """A fixed-width table: figure, value, unit, goal, ratio."""
    rows = [("figure", "value", "unit", "goal", "ratio")]
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:.2f} ({f.ratio_of})" if f.ratio_of else f"{f.ratio:.2f}"
        rows.append((f.name, _number(f.value), f.unit, f.goal, ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    right = (False, True, False, False, False)
    lines = [title, "=" * len(title)]
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  [{i}] {f.name}: {f.note}" for i, f in enumerate(figures, 1) if f.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def write_json(name: str, figures: list[Figure], meta: dict | None = None) -> Path:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    payload = {"meta": meta or {}, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
