"""simulator.archive.signals: a point's value at given times, a pure function of (key, time, event).

Closed-form shapes (daily cycle, sine, ramp...) plus mean-reverting "value noise": random knots
on a fixed time grid, interpolated smoothly. The knots depend only on their index, so the noise at a
time does not depend on the query window.
"""
from __future__ import annotations

import numpy as np

from ..scenario.model import TICKS_PER_SECOND
from ..scenario.model import Point
from . import hashing

_TICKS_PER_HOUR = 3600 * TICKS_PER_SECOND


def point_key(seed: int, point: Point) -> int:
    """The base key of a point's randomness: its identity within the scenario's seed."""
    return hashing.key(seed, point.server.upper(), point.id)


def _smooth_noise(key: int, ticks: np.ndarray, timescale: int) -> np.ndarray:
    """Stationary noise with unit variance at the knots and correlation time `timescale`."""
    knot = ticks // timescale
    frac = (ticks - knot * timescale) / timescale
    s = frac * frac * (3.0 - 2.0 * frac)
    if not len(knot):
        return s
    first, last = int(knot.min()), int(knot.max())
    if last - first + 2 <= len(knot):
        # a window touches few knots (timescale >> spacing): draw each knot once, then look up
        table = hashing.normal(key, np.arange(first, last + 2, dtype=np.int64))
        left = table[knot - first]
        right = table[knot - first + 1]
    else:
        left = hashing.normal(key, knot)
        right = hashing.normal(key, knot + 1)
    return left + (right - left) * s


class Signal:
    """The value recipe of one point, with its random keys fixed once."""

    __slots__ = ("point", "spec", "digital_codes", "vocabulary_size", "integer", "k_noise", "k_noise2", "k_white",
                 "k_anomaly", "k_anomaly_size", "k_state")

    PURPOSES = ("noise", "noise2", "white", "anomaly", "anomaly-size", "state")

    def __init__(self, point: Point, seed: int, digital_codes: tuple[int, ...] = (), vocabulary_size: int = 0,
                 keys: list[int] | None = None):
        self.point = point
        self.spec = point.signal
        self.digital_codes = np.asarray(digital_codes or (0,), dtype=np.float64)
        self.vocabulary_size = max(1, vocabulary_size)
        if keys is None:
            keys = hashing.derive([point_key(seed, point)], self.PURPOSES)[0].tolist()
        self.k_noise: int
        self.k_noise2: int
        self.k_white: int
        self.k_anomaly: int
        self.k_anomaly_size: int
        self.k_state: int
        (self.k_noise, self.k_noise2, self.k_white, self.k_anomaly, self.k_anomaly_size, self.k_state) = keys
        self.integer = point.point_type in ("Int16", "Int32")

    def values(self, ticks: np.ndarray, ident: np.ndarray) -> np.ndarray:
        """Values at `ticks`; `ident` names each event (for per-event randomness)."""
        kind = self.spec.kind
        if kind == "digital":
            return self._digital(ticks)
        if kind == "string":
            return self._string(ticks)
        values = self._shape(kind, ticks)
        spec = self.spec
        if spec.noise:
            noise = _smooth_noise(self.k_noise, ticks, max(1, spec.timescale))
            noise += 0.5 * _smooth_noise(self.k_noise2, ticks, max(1, spec.timescale // 5))
            noise += 0.25 * hashing.normal(self.k_white, ident)
            values = values + noise * (spec.noise / 1.1456)
        if spec.anomalies:
            hit = hashing.uniform(self.k_anomaly, ident) < spec.anomalies
            if hit.any():
                size = hashing.uniform(self.k_anomaly_size, ident[hit])
                scale = max(spec.noise, abs(spec.amplitude) * 0.2, abs(spec.mean) * 0.05, 1e-3)
                sign = np.where(size < 0.5, -1.0, 1.0)
                values = values.copy()
                values[hit] += sign * (4.0 + 8.0 * np.abs(size - 0.5)) * scale
        if spec.minimum is not None or spec.maximum is not None:
            values = np.clip(values, spec.minimum, spec.maximum)
        if self.integer:
            values = np.rint(values)
        elif spec.decimals is not None:
            values = np.round(values, spec.decimals)
        if self.point.point_type == "Float32":
            values = values.astype(np.float32).astype(np.float64)
        elif self.point.point_type == "Float16":
            values = values.astype(np.float16).astype(np.float64)
        return values

    def _shape(self, kind: str, ticks: np.ndarray) -> np.ndarray:
        spec = self.spec
        period = max(1, spec.period)
        cycle = (ticks % period) / period + spec.phase
        if kind in ("daily", "sine"):
            return spec.mean + spec.amplitude * np.sin(2.0 * np.pi * cycle)
        if kind == "square":
            return spec.mean + spec.amplitude * np.where((cycle % 1.0) < 0.5, 1.0, -1.0)
        if kind == "sawtooth":
            return spec.mean + spec.amplitude * (2.0 * (cycle % 1.0) - 1.0)
        if kind in ("ramp", "counter"):
            since = ticks % period if spec.period else ticks - (self.point.created or 0)
            return spec.mean + spec.rate * (since / _TICKS_PER_HOUR)
        if kind == "random_walk":
            wander = _smooth_noise(self.k_noise ^ 0x1234, ticks, max(1, spec.timescale) * 8)
            return spec.mean + spec.amplitude * wander
        return np.full(ticks.shape, float(spec.mean))

    def _digital(self, ticks: np.ndarray) -> np.ndarray:
        dwell = max(1, self.spec.dwell)
        pick = hashing.uniform(self.k_state, ticks // dwell)
        index = np.minimum((pick * len(self.digital_codes)).astype(np.int64), len(self.digital_codes) - 1)
        return self.digital_codes[index]

    def _string(self, ticks: np.ndarray) -> np.ndarray:
        """Indexes into the vocabulary; like a digital state, a word holds for `dwell`."""
        pick = hashing.uniform(self.k_state, ticks // max(1, self.spec.dwell))
        return np.minimum(pick * self.vocabulary_size, self.vocabulary_size - 1).astype(np.int64).astype(np.float64)
