"""The Lakeflow connector against a living archive (living.yaml: late values, edits, deletions,
buffered backfills), its pinned clock moved between calls, as Lakeflow's pipeline uses it: the
upsert flow `apply_changes(keys=primary_keys, sequence_by=cursor_field)` of every record
read_table returns, and for a `cdc_with_deletes` table the delete flow of read_table_deletes'
records. After every round the emulated target equals, value by value, the archive as of then."""
from __future__ import annotations

import pytest

from connector.errors import PIRequestError
from connector.lakeflow import PIConnector
from connector.paging import format_ns
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


def removals_ahead(living, least: int = 1):  # noqa: F811 (the fixture)
    """A connector, and a delete offset from which the next call finds at least `least` removed
    instants: the clock moved 20 min at a time (each round's removals consumed) until one does."""
    _, app, url = living
    server = app.extensions["pisim"]
    pi = PIConnector({"url": url + "/piwebapi", "tags": ",".join(TAGS), "start": START, "lookback": "2h"})
    _, offset = pi.read_table_deletes("recorded_values", {}, {})
    for _ in range(50):
        server.set_now(server.now() + 20 * MINUTE)
        records, after = pi.read_table_deletes("recorded_values", offset, {})
        if len({(r["web_id"], r["timestamp_ns"]) for r in records}) >= least:
            return pi, offset  # markers are cursors: read again from `offset`, the same events come back
        offset = after
    raise AssertionError(f"the living archive removed fewer than {least} values at once in 50 rounds")


def test_lakeflow_delete_flow_counts_what_is_left_in_batches(living, monkeypatch):  # noqa: F811
    pi, offset = removals_ahead(living, least=3)
    monkeypatch.setattr("connector.lakeflow.HELD_PER_BATCH", 2)
    calls: list[dict] = []
    batch = pi.client.batch
    monkeypatch.setattr(pi.client, "batch", lambda requests: calls.append(requests) or batch(requests))
    records, _ = pi.read_table_deletes("recorded_values", offset, {})
    instants = {(r["web_id"], r["timestamp_ns"]) for r in records}
    assert len(instants) >= 3
    assert [len(c) for c in calls] == [2] * (len(instants) // 2) + [1] * (len(instants) % 2)
    sent = [(r["Resource"].split("/")[1], r["Resource"].split("startTime=")[1].split("&")[0])
            for c in calls for r in c.values()]
    assert sorted(sent) == sorted((w, format_ns(ns)) for w, ns in instants)  # one read per instant, none twice


def test_lakeflow_delete_flow_raises_when_a_count_cannot_be_read(living, monkeypatch):  # noqa: F811
    pi, offset = removals_ahead(living)
    monkeypatch.setattr(pi.client, "batch", lambda requests: {
        key: {"Status": 502, "Headers": {}, "Content": {"Errors": ["the archive is busy"]}} for key in requests})
    with pytest.raises(PIRequestError, match=r"holds at .*Z to delete the removed values failed: HTTP 502"):
        pi.read_table_deletes("recorded_values", offset, {})
