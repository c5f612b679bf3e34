"""The short version of `make chaos`: a living, faulty simulator, SIGKILLed runs, then every value compared."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.chaos
@pytest.mark.slow
def test_a_short_soak_loses_duplicates_and_leaves_stale_nothing():
    done = subprocess.run([sys.executable, "-m", "chaos.run", "--runs", "6", "--kills", "3", "--seed", "11"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "lost 0, duplicated 0, stale 0, deleted but kept 0" in done.stdout
    assert "killed with SIGKILL" in done.stdout and " 0 killed" not in done.stdout
    expected = re.search(r"values expected ([\d,]+), in the table ([\d,]+)", done.stdout)
    assert expected and int(expected.group(1).replace(",", "")) > 10_000
    assert expected.group(1) == expected.group(2)


def test_the_comparison_counts_each_way_a_table_can_be_wrong():
    from chaos.compare import compare

    def row(tag, ns, value, ordinal=0):
        return (tag, ns, ordinal, value, None, None, None, False, True, False, False, False, "m3/h")

    truth = [row("A", 1, 1.0), row("A", 2, 2.0), row("A", 3, 3.0), row("B", 1, 5.0)]
    table = [row("A", 1, 1.0), row("A", 2, 2.5), row("A", 2, 2.5), row("B", 1, 5.0), row("B", 9, 9.0)]
    result = compare(truth, table)
    assert (result.expected, result.rows) == (4, 5)
    assert (result.lost, result.duplicated, result.stale, result.kept_deleted) == (1, 1, 1, 1)
    assert not result.exact
    assert compare(truth, list(truth)).exact
