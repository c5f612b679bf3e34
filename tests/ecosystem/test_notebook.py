"""Notebook reads (connector.PI) against the simulator under gunicorn, compared with its ground truth."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pyarrow as pa
import pytest

from connector import PI
from connector import notebook
from tests.connector.groundtruth import expected_rows

pytestmark = pytest.mark.e2e

START = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.timezone.utc)
END = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.timezone.utc)
# a digital tag, a string tag, a tag with a system-state gap, duplicated sub-second timestamps, flags
TAGS = ["TINY.DIGITAL", "TINY.STRING", "TINY.GAP", "TINY.SUBSECOND", "TINY.FLOAT64"]
NS = 1_000_000_000


def ns(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * NS


def _none(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def long_rows(frame: pd.DataFrame) -> list[tuple]:
    """The ground truth's tuple shape from a long DataFrame."""
    stamps = frame.index.as_unit("ns").asi8.tolist()
    rows = []
    for stamp, row in zip(stamps, frame.itertuples(index=False)):
        code = _none(row.digital_code)
        value = _none(row.value)
        rows.append((row.tag, stamp, int(row.ordinal), value, _none(row.string_value), _none(row.digital_name),
                     None if code is None else int(code), bool(row.is_system), bool(row.good),
                     bool(row.questionable), bool(row.substituted), bool(row.annotated), row.units))
    return sorted(rows)


@pytest.fixture()
def pi(sim_url):
    with PI(sim_url + "/piwebapi", max_count=500, window="20m") as client:
        yield client


def test_search_lists_matching_tags_with_metadata(pi):
    found = pi.search("TINY.F*")
    assert found["tag"].tolist() == ["TINY.FLOAT32", "TINY.FLOAT64"]
    assert found["units"].tolist() == ["degC", "kPa"]
    assert found["type"].tolist() == ["Float32", "Float64"]
    assert found["descriptor"].tolist()[0] == "Float32 daily cycle"
    digital = pi.search("tiny.dig?tal")
    assert digital["tag"].tolist() == ["TINY.DIGITAL"] and digital["digital_set"].tolist() == ["TinyState"]
    assert pi.search("NOPE.*").empty


def test_recorded_long_equals_ground_truth_across_pages_and_windows(pi, sim):
    frame = pi.read(TAGS, START, END)
    truth = expected_rows(sim, ns(START), ns(END), TAGS)
    got = long_rows(frame)
    assert len(got) == len(truth) > 20_000
    assert got == truth  # value by value: nothing lost or repeated at 500-value pages and 20-minute windows
    per_window = frame[frame["tag"] == "TINY.SUBSECOND"].index.floor("20min").value_counts()
    assert per_window.min() > 500  # every window of that tag needed continuation pages
    assert any(r[2] > 0 for r in truth)  # same-timestamp events (ordinal 1, 2...) are in the comparison
    states = frame[frame["tag"] == "TINY.DIGITAL"]
    assert set(states["digital_name"]) <= {"Off", "On", "Fault"} and states["digital_name"].notna().all()
    assert states["value"].isna().all()
    gap = frame[(frame["tag"] == "TINY.GAP") & frame["is_system"]]
    assert not gap.empty and set(gap["digital_name"]) == {"I/O Timeout"}
    assert str(frame.index.tz) == "UTC"


def test_recorded_accepts_pi_times_and_other_zones(pi, sim):
    frame = pi.read("TINY.DIGITAL", "*-2h", "*", tz="Australia/Sydney")
    now = ns(dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))
    assert long_rows(frame) == expected_rows(sim, now - 2 * 3600 * NS, now, ["TINY.DIGITAL"])
    assert str(frame.index.tz) == "Australia/Sydney"


def test_recorded_wide_keeps_states_strings_and_numbers(pi, sim):
    tags = ["TINY.DIGITAL", "TINY.STRING", "TINY.FLOAT64"]
    wide = pi.read(tags, START, END, shape="wide")
    assert list(wide.columns) == tags
    truth = expected_rows(sim, ns(START), ns(END), tags)
    for tag, column in (("TINY.DIGITAL", 5), ("TINY.STRING", 4), ("TINY.FLOAT64", 3)):
        want = [(t, r[column]) for r in truth if r[0] == tag for t in [r[1]]]
        series = wide[tag].dropna()
        assert list(zip(series.index.as_unit("ns").asi8.tolist(), series.tolist())) == want
    assert wide["TINY.FLOAT64"].dtype == "float64"


def test_arrow_table_has_exact_timestamps(pi, sim):
    table = pi.read(["TINY.SUBSECOND"], START, START + dt.timedelta(minutes=5), as_arrow=True)
    assert isinstance(table, pa.Table)
    assert table.schema.field("timestamp").type == pa.timestamp("ns", tz="UTC")
    truth = expected_rows(sim, ns(START), ns(START) + 300 * NS, ["TINY.SUBSECOND"])
    assert table.column("timestamp").cast(pa.int64()).to_pylist() == [r[1] for r in truth]
    assert table.column("ordinal").to_pylist() == [r[2] for r in truth]


def test_interpolated_step_tag_holds_the_last_recorded_value(pi, sim):
    frame = pi.read(["TINY.STEP", "TINY.DIGITAL"], START, END, kind="interpolated", interval="10m")
    step = frame[frame["tag"] == "TINY.STEP"]
    assert len(step) == 10  # 09:30, 09:40, ... 11:00: the end is on the grid
    truth = expected_rows(sim, ns(START) - 3600 * NS, ns(END) + NS, ["TINY.STEP"])
    for stamp, value in zip(step.index.as_unit("ns").asi8.tolist(), step["value"].tolist()):
        held = [r[3] for r in truth if r[1] <= stamp][-1]
        assert value == pytest.approx(held)
    states = frame[frame["tag"] == "TINY.DIGITAL"]["digital_name"]
    assert states.notna().all() and set(states) <= {"Off", "On", "Fault"}


def test_interpolated_paged_by_max_items_per_call(sim_url):
    with PI(sim_url + "/piwebapi", max_items_per_call=7) as small:
        frame = small.read(["TINY.FLOAT32"], START, END, kind="interpolated", interval="1m", shape="wide")
    assert len(frame) == 91 and frame.index.is_unique and frame.index.is_monotonic_increasing
    assert frame["TINY.FLOAT32"].notna().all()


def test_summaries_long_and_wide(pi):
    long = pi.read(["TINY.FLOAT32", "TINY.FLOAT64"], "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z",
                   kind="summary", interval="6h", summary_type=["Average", "Maximum"])
    assert len(long) == 2 * 2 * 4
    wide = pi.read(["TINY.FLOAT32", "TINY.FLOAT64"], "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z",
                   kind="summary", interval="6h", summary_type=["Average", "Maximum"], shape="wide")
    assert wide.shape == (4, 4)
    assert (wide[("TINY.FLOAT32", "Maximum")] >= wide[("TINY.FLOAT32", "Average")]).all()
    assert wide.index[0] == pd.Timestamp("2026-11-24T00:00:00Z")


def test_bad_input_is_a_clear_error(pi):
    with pytest.raises(ValueError, match="unknown tags on PISRV01: NOPE"):
        pi.read(["TINY.DIGITAL", "NOPE"], START, END)
    with pytest.raises(ValueError, match="needs an interval"):
        pi.read("TINY.DIGITAL", START, END, kind="interpolated")
    with pytest.raises(ValueError, match="kind: must be one of"):
        pi.read("TINY.DIGITAL", START, END, kind="plot")
    with pytest.raises(ValueError, match="read time"):
        pi.read("TINY.DIGITAL", "yesterday-ish", END)


def test_progress_bar_only_on_a_terminal(pi, capsys, monkeypatch):
    pi.read("TINY.DIGITAL", START, END)
    assert capsys.readouterr().err == ""
    assert notebook._Bar(None, 5, "recorded").progress is None  # stderr is not a terminal here
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert notebook._Bar(None, 5, "recorded").progress is not None
    assert notebook._Bar(None, 1, "recorded").progress is None  # one call: no bar


SCRIPT = """
import sys
from connector import PI
pi = PI(sys.argv[1] + "/piwebapi", max_count=500)
long = pi.read(["TINY.SUBSECOND", "TINY.DIGITAL"], "2026-11-24T09:00:00Z", "2026-11-24T09:30:00Z")
wide = pi.read(["TINY.FLOAT64", "TINY.DIGITAL"], "2026-11-24T09:00:00Z", "2026-11-24T09:30:00Z", shape="wide")
print(len(long), len(wide))
"""


def test_a_notebook_script_exits_cleanly_every_time(sim_url, tmp_path):
    """A plain script that reads and exits: never 134 (a pool thread alive at interpreter exit)."""
    import subprocess
    import sys

    script = tmp_path / "read.py"
    script.write_text(SCRIPT)
    runs = [subprocess.run([sys.executable, str(script), sim_url], capture_output=True, text=True, timeout=120)
            for _ in range(10)]
    assert [r.returncode for r in runs] == [0] * 10, runs[0].stderr[-2000:]
    assert len({r.stdout for r in runs}) == 1 and int(runs[0].stdout.split()[0]) > 7000
