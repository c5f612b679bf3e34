"""connector.lakeflow: the extraction in the shape Databricks Lakeflow community connectors take.

`PIConnector(options)` is a `LakeflowConnect` with `SupportsPartitionedStream` when Lakeflow's
interface is importable, and the same methods without it: list_tables, get_table_schema (a Spark
StructType with pyspark, else the Arrow schema), read_table_metadata, read_table (records, offset),
read_table_deletes, and for the value tables get_partitions / read_partition / latest_offset,
planned by `connector.plan` and read with the jobs' readers.

Offsets are never None and chain exactly. Value tables are read in half-open windows
[offset, end) (whole steps for interpolated and summary values) and the offset returned is the
window's end; a call that finds nothing new returns its start offset, which stops the framework.
Points and AF tables (`cdc_with_deletes`, sequenced by `ingested_at`) return a digest of what they
read: the same digest again means nothing changed, so the call returns no rows and stops; their
deletes offset lists the keys seen, and a key gone since is returned as a deleted record. The
writing side (Delta, MERGE) is the framework's.

Options (strings, as Lakeflow passes them, init options overridden by table options): see
`connector.spark.options` (url, auth/auth_type, username, password, token, verify, dataServer,
tags or tag_filter, start (default *-1d), window (max window per call, default 1h), interval,
summaryType, summaryDuration, tagsPerPartition, maxCount, ...).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from collections.abc import Sequence

import msgspec

from .client import PIClient
from .config import resolve_time
from picommon.pitime import timestamp as parse_server_time
from .context import to_ns
from .discovery import discover
from .jobs.assets import find_databases
from .jobs.assets import read_af
from .jobs.eventframes import FRAME_FIELDS
from .jobs.eventframes import _frame_row
from .paging import format_ns
from .plan import Part
from .plan import plan_spans
from .plan import read_part
from .spark.options import ReadOptions
from .spark.options import parse_options
from .tables import TABLES
from .tables import AFAttributes
from .tables import AFElements
from .tables import EventFrames
from .tables import InterpolatedValues
from .tables import Points
from .tables import RecordedValues
from .tables import SummaryValues

try:  # Lakeflow's own interface, when its package is installed
    from databricks.labs.community_connector.interface.lakeflow_connect import LakeflowConnect
    from databricks.labs.community_connector.interface.supports_partition import SupportsPartitionedStream

    BASES: tuple[type, ...] = (LakeflowConnect, SupportsPartitionedStream)
except ImportError:  # pragma: no cover - the package is not on PyPI
    BASES = ()

OFFERED = (Points, RecordedValues, InterpolatedValues, SummaryValues, AFElements, AFAttributes, EventFrames)
VALUE_TABLES = (RecordedValues, InterpolatedValues, SummaryValues)
KEYED = (Points, AFElements, AFAttributes)  # snapshots of what exists: cdc_with_deletes by key


class PIConnector(*BASES):  # type: ignore[misc]
    """PI Web API as a Lakeflow community connector source."""

    def __init__(self, options: dict[str, str], *, client: PIClient | None = None) -> None:
        """`client`: one already made for these options (a Spark worker's)."""
        self.options = dict(options or {})
        self.base = parse_options(self.options, where="<lakeflow options>", strict=False)
        self.config = self.base.config
        self.client = client or PIClient.from_config(self.config)
        self._server: dict | None = None
        self._points: dict[tuple, list] = {}

    # -- the interface -------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        return [t.name for t in OFFERED]

    def get_table_schema(self, table_name: str, table_options: dict[str, str] | None):
        """The table's schema: a Spark StructType when pyspark is installed, else the Arrow schema."""
        schema = self._table(table_name).schema
        try:
            from .spark.schema import spark_schema
        except ImportError:
            return schema
        return spark_schema(schema)

    def read_table_metadata(self, table_name: str, table_options: dict[str, str] | None) -> dict:
        table = self._table(table_name)
        metadata = {"primary_keys": list(table.primary_keys), "ingestion_type": table.ingestion_type}
        if table.cursor_field:
            metadata["cursor_field"] = table.cursor_field
        if table is EventFrames:  # CDC sequences a frame's versions (open, then closed) by when they were read
            metadata["cursor_field"] = "ingested_at"
        if table in KEYED:  # a re-read is sequenced by when it was read; keys gone from PI are deletes
            metadata.update(ingestion_type="cdc_with_deletes", cursor_field="ingested_at")
        return metadata

    def read_table(self, table_name: str, start_offset: dict | None,
                   table_options: dict[str, str] | None) -> tuple[Iterator[dict], dict]:
        table = self._table(table_name)
        options = self._options(table, table_options)
        if table in VALUE_TABLES:
            return self._values(table, options, start_offset or {})
        if table is EventFrames:
            return self._event_frames(options, start_offset or {})
        rows = self._snapshot(table, options)
        digest = _digest(rows)
        if start_offset and start_offset.get("digest") == digest:
            return iter(()), start_offset
        return iter(rows), {"digest": digest}

    def read_table_deletes(self, table_name: str, start_offset: dict | None,
                           table_options: dict[str, str] | None) -> tuple[Iterator[dict], dict]:
        """Keys the previous offset saw that PI no longer has (deleted points, removed AF objects)."""
        table = self._table(table_name)
        if table not in KEYED:
            raise ValueError(f"{table_name!r} is not a cdc_with_deletes table; deletes are read for: "
                             f"{', '.join(t.name for t in KEYED)}")
        now = dt.datetime.now(dt.timezone.utc)
        keys = sorted({r["web_id"] for r in self._snapshot(table, self._options(table, table_options))})
        known = (start_offset or {}).get("keys")
        offset = {"keys": msgspec.json.encode(keys).decode()}
        if known is None:  # nothing seen before this call: nothing can have gone
            return iter(()), offset
        if known == offset["keys"]:
            return iter(()), offset  # the same keys as start_offset: unchanged, so the framework stops
        gone = sorted(set(msgspec.json.decode(known)) - set(keys))
        return iter([{"web_id": w, "ingested_at": now, "run_id": "lakeflow"} for w in gone]), offset

    # -- partitions (SupportsPartitionedStream) ------------------------------------------------

    def is_partitioned(self, table_name: str) -> bool:
        return self._table(table_name) in VALUE_TABLES

    def latest_offset(self, table_name: str, table_options: dict[str, str] | None,
                      start_offset: dict | None = None) -> dict:
        table = self._value_table(table_name)
        options = self._options(table, table_options)
        return {"end_ns": self._end_ns(table, options)}

    def get_partitions(self, table_name: str, table_options: dict[str, str] | None,
                       start_offset: dict | None = None, end_offset: dict | None = None) -> Sequence[dict]:
        """Parts of (start_offset, end_offset], or of the options' start..end for a batch read."""
        table = self._value_table(table_name)
        options = self._options(table, table_options)
        start_ns = int(start_offset["end_ns"]) if start_offset else self._start_ns(table, options)
        end_ns = int(end_offset["end_ns"]) if end_offset else self._end_ns(table, options)
        return [part.to_dict() for part in self._plan(table, options, start_ns, end_ns)]

    def read_partition(self, table_name: str, partition: dict,
                       table_options: dict[str, str] | None) -> Iterator[dict]:
        self._value_table(table_name)
        data = read_part(self.client, self.config, Part.from_dict(partition), run_id="lakeflow")
        return iter(data.to_pylist() if data is not None else [])

    # -- helpers -------------------------------------------------------------------------------

    def _table(self, name: str):
        table = TABLES.get(name)
        if table not in OFFERED:
            raise ValueError(f"unknown table {name!r}; this connector offers: {', '.join(self.list_tables())}")
        return table

    def _value_table(self, name: str):
        table = self._table(name)
        if table not in VALUE_TABLES:
            raise ValueError(f"{name!r} is not read in partitions; partitioned tables: "
                             f"{', '.join(t.name for t in VALUE_TABLES)}")
        return table

    def _options(self, table, table_options: dict[str, str] | None) -> ReadOptions:
        if not table_options:
            return self.base
        return parse_options({**self.options, **table_options}, where="<lakeflow table_options>", strict=False)

    def server(self) -> dict:
        if self._server is None:
            self._server = self.client.data_server(self.config.source.data_server)
        return self._server

    def _now_ns(self) -> int:
        return to_ns(parse_server_time(self.client.data_server(self.config.source.data_server)["ServerTime"]))

    def _discover(self, options: ReadOptions):
        key = options.config.tags
        if key not in self._points:
            self._points[key] = discover(self.client, self.server(), options.config.tags).points
        return self._points[key]

    def _step(self, table, options: ReadOptions) -> int:
        return 1 if table is RecordedValues else options.step_ns

    def _start_ns(self, table, options: ReadOptions) -> int:
        now = parse_server_time(format_ns(self._now_ns()))
        step = self._step(table, options)
        return to_ns(resolve_time(options.start, now)) // step * step

    def _end_ns(self, table, options: ReadOptions) -> int:
        """Now (the server's clock), and for grid tables the last whole step before it."""
        step = self._step(table, options)
        return self._now_ns() // step * step

    def _plan(self, table, options: ReadOptions, start_ns: int, end_ns: int) -> list[Part]:
        points = self._discover(options)
        return plan_spans(table.name, points, {p.web_id: (start_ns, end_ns) for p in points},
                          window_ns=options.window_ns, step_ns=self._step(table, options),
                          values_per_step=options.values_per_step, source=options.config.source,
                          tags_per_part=options.tags_per_part, max_count=options.max_count)

    def _values(self, table, options: ReadOptions, offset: dict):
        """One window (at most `window` long) from the offset; its rows and its end."""
        start_ns = int(offset["end_ns"]) if "end_ns" in offset else self._start_ns(table, options)
        step = self._step(table, options)
        width = max(step, options.window_ns // step * step)
        end_ns = min(self._end_ns(table, options), start_ns + width)
        if end_ns <= start_ns:
            return iter(()), offset if offset else {"end_ns": start_ns}
        parts = self._plan(table, options, start_ns, end_ns)
        rows = [row for part in parts for row in _rows(read_part(self.client, options.config, part, run_id="lakeflow"))]
        return iter(rows), {"end_ns": end_ns}

    def _event_frames(self, options: ReadOptions, offset: dict):
        now_ns = self._now_ns()
        start_ns = int(offset["end_ns"]) if "end_ns" in offset else to_ns(
            resolve_time(options.start, parse_server_time(format_ns(now_ns))))
        still_open = list(offset.get("open", []))
        if now_ns <= start_ns and not still_open:
            return iter(()), offset if offset else {"end_ns": start_ns, "open": []}
        records: dict[str, dict] = {}
        databases = find_databases(self.client)
        by_path = {db["Path"].lower(): db for db in databases}
        for web_id in still_open:
            frame = self.client.get_json(f"eventframes/{web_id}", {"webIdType": self.config.source.web_id_type})
            db_path = frame.get("Path", "").split("\\EventFrames[", 1)[0]  # \\server\db\EventFrames[name]
            records[frame["WebId"]] = {**frame, "_db": by_path.get(db_path.lower(), {"Name": None})}
        for db in databases:
            for frame in self.client.paged(f"assetdatabases/{db['WebId']}/eventframes", {
                    "searchMode": "Overlapped", "startTime": format_ns(start_ns), "endTime": format_ns(now_ns),
                    "searchFullHierarchy": "true", "selectedFields": FRAME_FIELDS}):
                records[frame["WebId"]] = {**frame, "_db": db}
        rows = [_audited(_frame_row(r["_db"], r)) for r in records.values()]
        new_open = sorted(r["web_id"] for r in rows if r["is_open"])
        end = {"end_ns": max(now_ns, start_ns), "open": new_open}
        if end == offset:
            return iter(()), offset
        return iter(rows), end

    def _snapshot(self, table, options: ReadOptions) -> list[dict]:
        if table is Points:
            return [_audited(p.__dict__) for p in self._discover(options)]
        rows: list[dict] = []
        for db in find_databases(self.client):
            elements, attributes = read_af(self.client, db, self.config.source.web_id_type)
            rows.extend(_audited(row) for row in (elements if table is AFElements else attributes))
        return rows


def _rows(data) -> list[dict]:
    return data.to_pylist() if data is not None else []


def _digest(rows: list[dict]) -> str:
    """What a snapshot holds, without when or by whom it was read: equal digests, nothing changed."""
    content = sorted(msgspec.json.encode({k: v for k, v in r.items() if k not in ("ingested_at", "run_id")},
                                         order="sorted", enc_hook=str) for r in rows)
    return hashlib.sha256(b"\n".join(content)).hexdigest()


def _audited(row: dict) -> dict:
    """A row with the audit columns every table has: when it was read, and by whom."""
    return {**row, "ingested_at": dt.datetime.now(dt.timezone.utc), "run_id": "lakeflow"}
