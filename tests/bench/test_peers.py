"""bench.peers and bench.profile: the figures' plumbing is exact (counts against the archive, timers put back)."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from bench import peers
from bench import profile

START, END = "2026-11-24T23:00:00Z", "2026-11-25T00:00:00Z"
END_NS = peers._ns(END)


def test_compare_counts_lost_duplicated_foreign_and_end_rows():
    expected = {"A": Counter({100: 1, 200: 2, 300: 1}), "B": Counter({100: 1})}
    keys = {"A": [100, 100, 200, 400, END_NS], "B": [], "C": [5]}
    found = peers.compare(expected, keys, START, END)
    # A: 300 missing and one of the two events at 200 missing; 100 twice; 400 and C's row unknown
    assert (found.lost, found.duplicated, found.foreign, found.at_end) == (3, 1, 2, 1)


def test_truth_counts_every_archive_event_of_the_window():
    expected, at_end = peers.truth("qa-tiny", ["TINY.FLOAT32"], START, END)
    times = expected["TINY.FLOAT32"]
    assert sum(times.values()) > 0 and at_end in (0, 1)
    assert min(times) >= peers._ns(START) and max(times) < END_NS


@pytest.mark.e2e
def test_launch_and_breakdown_against_the_simulator(tmp_path):
    """The library call in a fresh process returns exactly the archive; the breakdown times every stage
    of the same read and puts the connector's own functions back."""
    from connector.client import PIClient
    from simulator.testing import SimulatorProcess

    original = PIClient.__dict__["_request"]
    names = ["TINY.FLOAT32", "TINY.FLOAT64", "TINY.INT32"]
    case = peers.Case("tiny", "qa-tiny", [(n, "Float32") for n in names], START, END)
    case.expected, _ = peers.truth("qa-tiny", names, START, END)
    with SimulatorProcess("qa-tiny", workers=1) as sim:
        lake = tmp_path / "lake"
        spec = {"url": sim.url + "/piwebapi", "tags": names, "start": START, "end": END, "lake": str(lake)}
        outcome = peers.launch(sys.executable, peers.HERE / "ours_read.py", spec, "ours", tmp_path / "log", case)
        assert outcome.error == ""
        assert outcome.values == case.archive_values
        assert (outcome.accuracy.lost, outcome.accuracy.duplicated, outcome.accuracy.foreign) == (0, 0, 0)
        assert outcome.tree_mb > 10 and outcome.rusage_mb > 10
        result = profile.breakdown(sim.url + "/piwebapi", names, START, END)
    assert result.rows == case.archive_values
    assert {"discovery", "http", "json decode", "arrow build", "delta commit", "checkpoint"} <= set(result.stages)
    assert result.bodies and result.wall >= result.job_wall > 0
    values, seconds = profile.decode_floor(result.bodies, repeats=1)
    assert values >= result.rows and seconds > 0
    assert PIClient.__dict__["_request"] is original


def test_scripts_exist_for_every_peer():
    for recipe in peers.PEERS.values():
        assert (peers.HERE / recipe["script"]).is_file()
    assert Path(peers.HERE / "ours_read.py").is_file()
