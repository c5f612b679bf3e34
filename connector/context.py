"""connector.context: what every extraction job of one run shares (client, sink, clock, run log)."""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from dataclasses import field

import pyarrow as pa

from picommon.pitime import to_ns

from .client import PIClient
from .config import ConnectorConfig
from .config import resolve_time
from .sink import DeltaSink
from .state import Checkpoints
from .tables import RunLog

NS = 1_000_000_000


@dataclass
class TableReport:
    rows: int = 0
    seconds: float = 0.0
    values_per_second: float = 0.0
    skipped: int = 0


class Progress:
    """Progress events of a run; the CLI subclasses it with a progress bar. Thread-safe."""

    def start(self, label: str, total: int) -> None:
        """A job began; `total` units of work (tags, databases...)."""

    def advance(self, label: str, done: int = 0, values: int = 0) -> None:
        """`done` more units finished, `values` more rows read."""

    def finish(self, label: str) -> None:
        """The job ended."""


@dataclass
class RunContext:
    """The run's shared parts. `now` is the server's clock (a simulator may run a fixed one)."""

    config: ConnectorConfig
    client: PIClient
    sink: DeltaSink
    run_id: str
    now: dt.datetime
    progress: Progress = field(default_factory=Progress)
    checkpoints: Checkpoints = None  # type: ignore[assignment]
    log_rows: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.checkpoints is None:
            self.checkpoints = Checkpoints(self.sink)
        self.ingested_at_us = int(time.time() * 1_000_000)
        self._seq = 0

    @property
    def now_ns(self) -> int:
        return to_ns(self.now)

    def time_ns(self, text: str) -> int:
        """A config time string resolved against the server's clock."""
        return to_ns(resolve_time(text, self.now))

    def log(self, event: str, *, level: str = "info", table: str | None = None, web_id: str | None = None,
            tag: str | None = None, rows: int | None = None, message: str = "") -> None:
        """Add a run_log row (written when the run ends, whatever its outcome)."""
        with self._lock:
            self._seq += 1
            self.log_rows.append({
                "run_id": self.run_id, "seq": self._seq, "at": dt.datetime.now(dt.timezone.utc),
                "level": level, "event": event, "table_name": table, "web_id": web_id, "tag": tag,
                "rows": rows, "message": message,
            })

    def flush_log(self) -> None:
        with self._lock:
            rows, self.log_rows = self.log_rows, []
        if rows:
            self.sink.ensure(RunLog)
            self.sink.append(RunLog, pa.Table.from_pylist(rows, schema=RunLog.schema))

    def audit(self, n: int) -> dict[str, pa.Array]:
        """ingested_at and run_id columns for n rows."""
        from .convert import constant

        return {"ingested_at": pa.array([self.ingested_at_us] * n, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                "run_id": constant(self.run_id, n)}

    def columns_table(self, table, columns: dict[str, list]) -> pa.Table:
        """Columns (lists, without the audit columns) as an Arrow table of `table`'s schema, audited."""
        n = len(next(iter(columns.values()))) if columns else 0
        data = {**{name: pa.array(values, table.schema.field(name).type) for name, values in columns.items()},
                **self.audit(n)}
        return pa.Table.from_arrays([data[name] for name in table.schema.names], schema=table.schema)

    def rows_table(self, table, rows: list[dict]) -> pa.Table:
        """Rows (dicts without the audit columns) as an Arrow table of `table`'s schema, audited."""
        audit = self.audit(len(rows))
        data = pa.Table.from_pylist(rows, schema=pa.schema([f for f in table.schema if f.name not in audit]))
        for name, column in audit.items():
            data = data.append_column(table.schema.field(name), column)
        return data.select(table.schema.names).cast(table.schema)
