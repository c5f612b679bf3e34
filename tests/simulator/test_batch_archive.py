"""The batched archive (many points, one window) gives bit for bit what the one-point path gives."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.archive.batch import window
from simulator.backend import Simulator
from simulator.scenario import load_scenario
from simulator.settings import Settings

T = 10_000_000


@pytest.fixture(scope="module", params=["qa-tiny", "default", "qa-gaps", "qa-subsecond", "qa-digital", "living"])
def sim(request):
    return Simulator(load_scenario(request.param, now="2026-11-25T00:00:00Z"), Settings())


@pytest.mark.parametrize("start_hours, end_hours", [(-0.1, 0), (-26, -25.8), (-30 * 24, -30 * 24 + 0.05), (-0.2, 0.05)])
def test_batch_equals_one_point_reads(sim, start_hours, end_hours):
    points = [p for server in sim.catalog.data_servers for p in server.points]
    sources = [sim.archive.of(p.point).source for p in points]
    now = sim.now()
    start, end = now + int(start_hours * 3600 * T) + 12_345, now + int(end_hours * 3600 * T)
    values, bounds, covered = window(sources, start, end, now=now)
    assert list(covered) == [end] * len(sources)
    assert bounds[-1] == len(values)
    for i, source in enumerate(sources):
        expected = source.window(start, end, now=now)
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
    values, bounds, covered = window(sources, start, now, now=now, max_slots=10)
    for i, source in enumerate(sources):
        got = values.take(slice(bounds[i], bounds[i + 1]))
        assert covered[i] <= now
        expected = source.window(start, int(covered[i]), now=now)
        assert np.array_equal(got.ticks, expected.ticks)
        assert np.array_equal(got.value, expected.value)


@pytest.mark.parametrize("max_count", [1, 7, 1000, 150_000 // 120])
@pytest.mark.parametrize("window", [("*-1h", "*"), ("*-3d", "*-2d"), ("*-10m", "*+1h")])
def test_stream_set_reads_equal_one_stream_reads(sim, max_count, window):
    from simulator.pi.params import Args
    from simulator.backend.queries import RecordedQuery

    query = RecordedQuery.from_args(Args([("startTime", window[0]), ("endTime", window[1]),
                                          ("maxCount", str(max_count))]), sim, 1)
    now = sim.now()
    streams = [sim.stream(p.web_id()) for server in sim.catalog.data_servers for p in server.points]
    for got, stream in zip(query.run_many(streams, now), streams):
        expected = query.run(stream, now)
        assert np.array_equal(got.ticks, expected.ticks) and np.array_equal(got.value, expected.value)
        assert np.array_equal(got.state, expected.state) and np.array_equal(got.flags, expected.flags)


@pytest.mark.parametrize("fields", [None, ("Timestamp", "Value", "Good")])
def test_stream_set_encoding_equals_one_stream_encoding(sim, fields):
    from simulator.pi import encoder

    fields = fields or encoder.ITEM_FIELDS
    now = sim.now()
    streams = [sim.stream(p.web_id()) for server in sim.catalog.data_servers for p in server.points]
    members = [(s.archive.recorded(now - 3600 * T, now, now, max_count=500), s.fmt) for s in streams]
    together = encoder.item_pieces_many(members, fields)
    alone = [encoder.item_pieces(values, fmt, fields) for values, fmt in members]
    assert ["".join(p) for p in together] == ["".join(p) for p in alone]
