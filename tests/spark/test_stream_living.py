"""spark.readStream.format("pi") with a lookback against a living archive (living.yaml: late values, edits,
deletions, buffered backfills), its pinned clock moved between availableNow runs of one checkpointed query, the
micro-batches MERGEd by the table's key (update and insert) in foreachBatch: after every run each value the
archive holds is in the target with the archive's content. A stream has no deletes: the values PI removed stay,
and only those (the Lakeflow connector's delete flow is what reports them)."""
from __future__ import annotations

import pytest

from connector.tables import RecordedValues
from tests.connector.test_follow_e2e import MINUTE
from tests.connector.test_follow_e2e import START
from tests.connector.test_follow_e2e import TAGS
from tests.connector.test_follow_e2e import living  # noqa: F401  (the fixture)
from tests.connector.test_follow_e2e import truth_at
from tests.connector.test_lakeflow import ROW

pytestmark = [pytest.mark.e2e, pytest.mark.spark]


def test_a_stream_with_a_lookback_keeps_up_with_late_values_and_edits(spark, living, tmp_path):  # noqa: F811
    scenario, app, url = living
    server = app.extensions["pisim"]
    keys = RecordedValues.primary_keys
    target: dict[tuple, tuple] = {}

    def merge(batch, batch_id: int) -> None:  # foreachBatch runs on the driver: MERGE update + insert
        data = batch.toArrow().to_pylist()
        for row in data:
            target[tuple(row[k] for k in keys)] = tuple(row[c] for c in ROW)

    def run() -> None:
        stream = (spark.readStream.format("pi").option("url", url + "/piwebapi").option("tags", ",".join(TAGS))
                  .option("start", START).option("lookback", "2h").option("maxWindowPerBatch", "1h").load())
        query = (stream.writeStream.foreachBatch(merge).option("checkpointLocation", str(tmp_path / "checkpoint"))
                 .trigger(availableNow=True).start())
        query.awaitTermination(300)
        assert query.exception() is None

    when = previous_when = server.now()
    seen: set[tuple] = set()
    previous: set[tuple] = set()
    late = 0
    for step in range(4):
        if step:
            previous_when, when = when, when + 9 * MINUTE + step * 17 * 10**7
            server.set_now(when)
        run()
        expected = truth_at(scenario, when)
        held = {row for row in target.values() if row[1] < when * 100}
        missing = set(expected) - held
        assert not missing, f"run {step}: {len(missing)} values of the archive missing, e.g. {sorted(missing)[:3]}"
        extra = held - set(expected)
        assert {r[:3] for r in extra} <= {r[:3] for r in seen} - {r[:3] for r in expected}, \
            f"run {step}: rows that are neither in the archive nor removed from it"
        # values that appeared behind the last run's time: what a stream without a lookback loses
        late += len({r[:3] for r in expected if r[1] < previous_when * 100} - {r[:3] for r in previous})
        previous = set(expected)
        seen |= previous
    assert late > 0
