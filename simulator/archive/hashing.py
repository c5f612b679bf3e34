"""simulator.archive.hashing: counter-based random numbers, a pure function of (key, counter).

The archive never keeps a random generator's state: every random draw is `mix(key, counter)` where
the key names (seed, point, purpose) and the counter names the slot or event. Any window of the
archive can then be computed on its own, in any process, and gives the same numbers.
"""
from __future__ import annotations

import hashlib

import typing as t

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / float(1 << 53)


def key(*parts: object) -> int:
    """A 64-bit key from any printable parts (seed, point name, purpose...)."""
    text = "\x1f".join(str(part) for part in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def derive(bases, purposes: tuple[str, ...]) -> np.ndarray:
    """The keys of points' purposes ("noise", "keep"...) from their base keys: one row per base,
    one column per purpose (uint64).

    One blake2b per point (its base key) and one vectorised splitmix64 for every point and purpose
    at once, so a scenario's 30,000 points get their keys in milliseconds.
    """
    numbers = np.array([_purpose(p) for p in purposes], np.int64)
    return mix(np.asarray(bases, np.uint64).reshape(-1, 1), numbers)


_PURPOSES: dict[str, int] = {}


def _purpose(name: str) -> int:
    number = _PURPOSES.get(name)
    if number is None:
        number = _PURPOSES.setdefault(name, key("purpose", name) & 0x7FFFFFFFFFFFFFFF)
    return number


#: a key, or one per row (an array broadcast against the counters)
Key = t.Union[int, np.ndarray]


def mix(key_: Key, counters: np.ndarray) -> np.ndarray:
    """splitmix64 of (key + counter * golden): uint64 array, one per counter."""
    x = counters.astype(np.uint64, copy=False) * _GOLDEN + (key_ if isinstance(key_, np.ndarray) else np.uint64(key_))
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def uniform(key_: Key, counters: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1), one per counter."""
    return (mix(key_, counters) >> _S11).astype(np.float64) * _TO_UNIT


def normal(key_: Key, counters: np.ndarray) -> np.ndarray:
    """Standard normal floats, one per counter (Box-Muller over two independent uniforms)."""
    u1 = uniform(key_, counters)
    u2 = uniform(key_ ^ 0x5851F42D4C957F2D, counters)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def uniform1(key_: Key, counter: int) -> float:
    """One uniform float in [0, 1)."""
    return float(uniform(key_, np.array([counter], dtype=np.int64))[0])
