"""The batched archive (many points, one window) gives bit for bit what the one-point path gives."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.archive.batch import window
from simulator.backend import Simulator
from simulator.scenario import load_scenario
from simulator.settings import Settings

T = 10_000_000


@pytest.fixture(scope="module", params=["qa-tiny", "default", "qa-gaps", "qa-subsecond", "qa-digital"])
def sim(request):
    return Simulator(load_scenario(request.param), Settings())


@pytest.mark.parametrize("start_hours, end_hours", [(-0.1, 0), (-26, -25.8), (-30 * 24, -30 * 24 + 0.05), (-0.2, 0.05)])
def test_batch_equals_one_point_reads(sim, start_hours, end_hours):
    points = [p for server in sim.catalog.data_servers for p in server.points]
    sources = [sim.archive.of(p.point).source for p in points]
    now = sim.now()
    start, end = now + int(start_hours * 3600 * T) + 12_345, now + int(end_hours * 3600 * T)
    values, bounds, covered = window(sources, start, end)
    assert list(covered) == [end] * len(sources)
    assert bounds[-1] == len(values)
    for i, source in enumerate(sources):
        expected = source.window(start, end)
        got = values.take(slice(bounds[i], bounds[i + 1]))
        assert np.array_equal(got.ticks, expected.ticks), points[i].name
        assert np.array_equal(got.value, expected.value), points[i].name
        assert np.array_equal(got.state, expected.state), points[i].name
        assert np.array_equal(got.flags, expected.flags), points[i].name


def test_max_slots_bounds_each_point_and_says_how_far(sim):
    points = [p for server in sim.catalog.data_servers for p in server.points]
    sources = [sim.archive.of(p.point).source for p in points]
    now = sim.now()
    start = now - 3600 * T
    values, bounds, covered = window(sources, start, now, max_slots=10)
    for i, source in enumerate(sources):
        got = values.take(slice(bounds[i], bounds[i + 1]))
        assert covered[i] <= now
        expected = source.window(start, int(covered[i]))
        assert np.array_equal(got.ticks, expected.ticks)
        assert np.array_equal(got.value, expected.value)
