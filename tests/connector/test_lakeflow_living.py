"""The Lakeflow connector against a living archive (living.yaml: late values, edits, deletions,
buffered backfills), its pinned clock moved between calls, as Lakeflow's pipeline uses it: the
upsert flow `apply_changes(keys=primary_keys, sequence_by=cursor_field)` of every record
read_table returns, and for a `cdc_with_deletes` table the delete flow of read_table_deletes'
records. After every round the emulated target equals, value by value, the archive as of then."""
from __future__ import annotations

import pytest

from connector.lakeflow import PIConnector
from tests.connector.test_follow_e2e import MINUTE
from tests.connector.test_follow_e2e import START
from tests.connector.test_follow_e2e import TAGS
from tests.connector.test_follow_e2e import living  # noqa: F401  (the fixture)
from tests.connector.test_follow_e2e import truth_at

pytestmark = pytest.mark.e2e

COLUMNS = ("tag", "timestamp_ns", "ordinal", "value", "string_value", "digital_name", "digital_code", "is_system",
           "good", "questionable", "substituted", "annotated", "units")


class Target:
    """What Lakeflow's apply_changes (SCD type 1) leaves in the destination table."""

    def __init__(self, metadata: dict) -> None:
        self.keys, self.sequence = metadata["primary_keys"], metadata["cursor_field"]
        self.rows: dict[tuple, dict] = {}

    def key(self, record: dict) -> tuple:
        return tuple(record[k] for k in self.keys)

    def upsert(self, records) -> int:
        n = 0
        for record in records:
            held = self.rows.get(self.key(record))
            if held is None or record[self.sequence] > held[self.sequence]:
                self.rows[self.key(record)] = record
            n += 1
        return n

    def delete(self, records) -> int:
        n = 0
        for record in records:
            held = self.rows.get(self.key(record))
            if held is not None and record[self.sequence] > held[self.sequence]:
                del self.rows[self.key(record)]
            n += 1
        return n

    def tuples(self, end_ns: int) -> list[tuple]:
        return sorted(tuple(r[c] for c in COLUMNS) for r in self.rows.values() if r["timestamp_ns"] < end_ns)


def drain(read, offset):
    """Call `read(offset)` until the offset stops moving, as the framework does; every record."""
    records = []
    for _ in range(50):
        batch, end = read(offset)
        records.extend(batch)
        if end == offset:
            return records, end
        offset = end
    raise AssertionError("the offsets never stopped moving")


def test_lakeflow_recorded_values_stay_equal_to_a_living_archive(living):  # noqa: F811 (the fixture)
    scenario, app, url = living
    server = app.extensions["pisim"]
    pi = PIConnector({"url": url + "/piwebapi", "tags": ",".join(TAGS), "start": START, "window": "1h",
                      "lookback": "2h"})
    table = "recorded_values"
    metadata = pi.read_table_metadata(table, {})
    target = Target(metadata)
    deletes = metadata["ingestion_type"] == "cdc_with_deletes"
    when = server.now()
    offset, delete_offset = {}, {}
    changed = removed = 0
    for step in range(6):
        if step:
            before = truth_at(scenario, when)
            when += 9 * MINUTE + step * 17 * 10**7
            server.set_now(when)
        records, offset = drain(lambda o: pi.read_table(table, o, {}), offset)
        target.upsert(records)
        if deletes:
            gone, delete_offset = drain(lambda o: pi.read_table_deletes(table, o, {}), delete_offset)
            removed += target.delete(gone)
        expected = truth_at(scenario, when)
        if step:
            changed += len(set(before) - set(expected))  # rows edited or deleted since the last round
        assert target.tuples(when * 100) == expected, f"round {step}"
    assert changed > 0 and removed > 0  # the archive did change under the table, not only grow
    assert metadata == {"primary_keys": ["web_id", "timestamp_ns", "ordinal"], "ingestion_type": "cdc_with_deletes",
                        "cursor_field": "ingested_at"}
