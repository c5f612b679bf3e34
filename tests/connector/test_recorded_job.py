"""connector.jobs.recorded helpers: which rows of the table a re-read window no longer has."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from connector.jobs.recorded import _disjoint
from connector.jobs.recorded import stale_rows
from connector.sink import DeltaSink
from connector.tables import RecordedValues

from tests.connector.test_sink import BASE_NS
from tests.connector.test_sink import recorded

HOUR = 3600 * 10**9


@pytest.mark.parametrize(("spans", "expected"), [
    ([], []),
    ([(5, 10), (1, 3), (2, 6)], [(1, 10)]),
    ([(1, 2), (2, 3), (10, 11)], [(1, 3), (10, 11)]),
])
def test_disjoint_spans(spans, expected):
    assert _disjoint(spans) == expected


def test_stale_rows_are_the_table_rows_of_the_reread_spans_that_the_new_read_lacks(tmp_path):
    sink = DeltaSink(tmp_path)
    table = recorded(3, 72, BASE_NS, HOUR)  # W00000..W00002, hourly over 3 days
    sink.append(RecordedValues, table)
    at, tag = pc.field("timestamp_ns"), pc.field("web_id")
    # W00000 read again over hours 2-5 of day 1, W00001 over hours 60-63 of day 3; W00002 not at all
    reread = {"W00000": (BASE_NS + 2 * HOUR, BASE_NS + 6 * HOUR), "W00001": (BASE_NS + 60 * HOUR, BASE_NS + 64 * HOUR)}
    again = pa.concat_tables([
        table.filter((tag == "W00000") & (at >= BASE_NS + 2 * HOUR) & (at < BASE_NS + 6 * HOUR)
                     & (at != BASE_NS + 3 * HOUR)),
        table.filter((tag == "W00001") & (at >= BASE_NS + 60 * HOUR) & (at < BASE_NS + 64 * HOUR)
                     & (at != BASE_NS + 63 * HOUR)),
    ])
    gone = stale_rows(sink, RecordedValues, again, reread)
    assert gone.schema.equals(RecordedValues.schema)
    assert sorted((r["web_id"], r["timestamp_ns"]) for r in gone.to_pylist()) == [
        ("W00000", BASE_NS + 3 * HOUR), ("W00001", BASE_NS + 63 * HOUR)]
    assert stale_rows(sink, RecordedValues, again, {}).num_rows == 0
    everything = table.filter(((tag == "W00000") & (at >= BASE_NS + 2 * HOUR) & (at < BASE_NS + 6 * HOUR))
                              | ((tag == "W00001") & (at >= BASE_NS + 60 * HOUR) & (at < BASE_NS + 64 * HOUR)))
    assert stale_rows(sink, RecordedValues, everything, reread).num_rows == 0
