"""Event-frame attribute values are a pure function of (seed, schedule, frame): the same whatever
thread computes them and whatever runs beside it (a Faker shared across threads made concurrent reads
of the default scenario's {faker: name} attributes differ)."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from simulator.backend.catalog import Catalog

FRAMES = list(range(60))


def _values(index, number: int, frames) -> list[tuple]:
    out = []
    for i in frames:
        frame = index._make(number, index.schedules[number], i)
        out.append((i, tuple((a.name, a.value) for a in frame.attributes)))
    return sorted(out)


@pytest.fixture()
def tiny_switch_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave often, as under a loaded threaded gunicorn
    yield
    sys.setswitchinterval(before)


def test_forty_concurrent_reads_agree_with_one_sequential_read(default_scenario, tiny_switch_interval):
    def index():
        catalog = Catalog(default_scenario)
        return catalog.event_frames(catalog.asset_servers[0].databases[0])

    sequential = index()
    number = next(n for n, s in enumerate(sequential.schedules)
                  if any(r.kind == "faker" for r in dict(s.attributes).values()))
    expected = _values(sequential, number, FRAMES)
    assert any(isinstance(v, str) and " " in v for _, attrs in expected for _, v in attrs)  # faker names

    shared = index()
    with ThreadPoolExecutor(40) as pool:
        reads = list(pool.map(lambda n: _values(shared, number, FRAMES[n % 7:] + FRAMES[:n % 7]), range(40)))
    assert sum(read == expected for read in reads) == 40
