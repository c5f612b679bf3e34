"""simulator.archive.values: `Values`, the columnar result of every archive read.

One row per timed value: ticks, a numeric value, a system-state code (or -1), quality flags.
Digital points keep their own state code in `value`; string points keep an index into the
point's vocabulary. Routes never see anything else.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_STATE = -1
QUESTIONABLE = 1
SUBSTITUTED = 2
ANNOTATED = 4


@dataclass(frozen=True)
class Values:
    """Parallel arrays of equal length; `state` >= 0 marks a system state (Good false)."""

    ticks: np.ndarray  # int64, 100 ns since the epoch
    value: np.ndarray  # float64
    state: np.ndarray  # int32, NO_STATE or a system-state code
    flags: np.ndarray  # uint8, QUESTIONABLE | SUBSTITUTED | ANNOTATED

    def __len__(self) -> int:
        return int(self.ticks.shape[0])

    @classmethod
    def empty(cls) -> Values:
        return cls(np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int32),
                   np.empty(0, np.uint8))

    @classmethod
    def of_state(cls, ticks: np.ndarray, code: int) -> Values:
        """System-state values (e.g. No Data) at the given times."""
        n = len(ticks)
        return cls(np.asarray(ticks, np.int64), np.zeros(n), np.full(n, code, np.int32),
                   np.zeros(n, np.uint8))

    def take(self, index) -> Values:
        """Rows by index array, slice or boolean mask."""
        return Values(self.ticks[index], self.value[index], self.state[index], self.flags[index])

    def reversed(self) -> Values:
        return self.take(slice(None, None, -1))

    @property
    def good(self) -> np.ndarray:
        return self.state < 0

    @staticmethod
    def concat(parts: list[Values]) -> Values:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Values.empty()
        if len(parts) == 1:
            return parts[0]
        return Values(np.concatenate([p.ticks for p in parts]), np.concatenate([p.value for p in parts]),
                      np.concatenate([p.state for p in parts]), np.concatenate([p.flags for p in parts]))
