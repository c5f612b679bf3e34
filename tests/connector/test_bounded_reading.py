"""Reading is bounded by the writer: however slow the Delta writes, no more than `slots` windows are
read ahead of it (the in-flight window of connector.jobs.recorded), and the values stay exact."""
from __future__ import annotations

import threading
import time

from connector.config import ConnectorConfig
from connector.jobs import reading
from connector.jobs.recorded import RecordedJob
from connector.runner import extract
from connector.sink import DeltaSink

from tests.connector.groundtruth import table_rows
from tests.connector.test_e2e import END
from tests.connector.test_e2e import START
from tests.connector.test_e2e import truth  # noqa: F401  (the fixture)


def test_a_slow_writer_holds_the_readers_back_and_nothing_is_lost(sim_url, tmp_path, truth, monkeypatch):  # noqa: F811
    lock = threading.Lock()
    state = {"read": 0, "taken": 0, "ahead": [], "slots": None}
    real_read, real_note, real_flush = reading.read_window, RecordedJob._note, RecordedJob._flush
    real_init = reading.Readers.__init__

    def counted_read(*args):
        result = real_read(*args)
        with lock:
            state["read"] += 1
            state["ahead"].append(state["read"] - state["taken"])  # results done, not yet taken by the writer
        return result

    def counted_note(self, result, report):
        with lock:
            state["taken"] += 1
        real_note(self, result, report)

    def slow_flush(self, pending):
        time.sleep(0.02)  # a Delta writer far slower than the readers
        real_flush(self, pending)

    def remembered_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        state["slots"] = self.slots

    monkeypatch.setattr(reading, "read_window", counted_read)
    monkeypatch.setattr(RecordedJob, "_note", counted_note)
    monkeypatch.setattr(RecordedJob, "_flush", slow_flush)
    monkeypatch.setattr(reading.Readers, "__init__", remembered_init)
    report = extract(ConnectorConfig.from_dict({
        "source": {"url": sim_url + "/piwebapi", "concurrency": 2, "max_items_per_call": 200},
        "destination": {"uri": str(tmp_path)}, "tags": [{"name_filter": "TINY.*"}],
        "recorded": {"start": START, "end": END, "max_count": 97, "flush_rows": 300},
        "af": {"enabled": False}, "event_frames": {"enabled": False}}))
    assert report.status == "succeeded"
    assert state["slots"] == 2 and state["read"] > 50  # four tag groups of two, many windows each
    assert max(state["ahead"]) <= state["slots"]
    assert table_rows(DeltaSink(str(tmp_path))) == truth
