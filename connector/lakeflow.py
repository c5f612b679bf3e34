"""connector.lakeflow: the extraction in the shape Databricks Lakeflow community connectors take.

`PIConnector(options)` is a `LakeflowConnect` with `SupportsPartitionedStream` when Lakeflow's
interface is importable, and the same methods without it: list_tables, get_table_schema (a Spark
StructType with pyspark, else the Arrow schema), read_table_metadata, read_table (records, offset),
read_table_deletes, and for the value tables get_partitions / read_partition / latest_offset,
planned by `connector.plan` and read with the jobs' readers.

Offsets are never None and chain exactly. Value tables are read in half-open windows
[offset - lookback, end) (whole steps for interpolated and summary values; never before the first
offset's start, kept in the offset as `origin_ns`) and the offset returned is the window's end; a
call that finds nothing new returns its start offset, which stops the framework. The lookback
(option `lookback`, default 10m as the CLI's) re-reads what PI may have received late or edited
since: the value tables are CDC tables sequenced by `ingested_at`, so a re-read row replaces the
one read before under the same key. Recorded values PI removes (at any age) come from
read_table_deletes, which follows Stream Updates markers kept in its own offset.
Points and AF tables (`cdc_with_deletes`, sequenced by `ingested_at`) return a digest of what they
read: the same digest again means nothing changed, so the call returns no rows and stops; their
deletes offset lists the keys seen, and a key gone since is returned as a deleted record. The
writing side (Delta, MERGE) is the framework's.

Options (strings, as Lakeflow passes them, init options overridden by table options): see
`connector.spark.options` (url, auth/auth_type, username, password, token, verify, dataServer,
tags or tag_filter, start (default *-1d), window (max window per call, default 1h), lookback
(default 10m), interval, summaryType, summaryDuration, tagsPerPartition, maxCount, ...).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from collections.abc import Sequence

import msgspec

from picommon.pitime import from_ns
from picommon.pitime import timestamp as parse_server_time
from picommon.pitime import to_ns

from . import updates
from .client import PIClient
from .config import resolve_time
from .discovery import discover
from .errors import PIRequestError
from .jobs.assets import find_databases
from .jobs.assets import read_af
from .jobs.eventframes import FRAME_FIELDS
from .jobs.eventframes import _frame_row
from .paging import format_ns
from .paging import parse_ns
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
LOOKBACK = "10m"  # the value tables' default re-read, as recorded.lookback's
MARKER_REFRESH_S = 300  # a delete offset's markers are renewed at least this often (PI expires old ones)
HELD_PER_BATCH = 100  # instants counted per batch call by the delete flow


class PIConnector(*BASES):  # type: ignore[misc]
    """PI Web API as a Lakeflow community connector source."""

    def __init__(self, options: dict[str, str], *, client: PIClient | None = None) -> None:
        """`client`: one already made for these options (a Spark worker's)."""
        self.options = dict(options or {})
        if not str(self.options.get("lookback") or "").strip():
            self.options["lookback"] = LOOKBACK
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
        if table is EventFrames or table in VALUE_TABLES:
            # CDC sequences a row's versions by when they were read: a frame read open, then closed; a
            # value re-read in the lookback after PI edited it
            metadata["cursor_field"] = "ingested_at"
        if table in KEYED:  # a re-read is sequenced by when it was read; keys gone from PI are deletes
            metadata.update(ingestion_type="cdc_with_deletes", cursor_field="ingested_at")
        if table is RecordedValues:  # values PI removes come from Stream Updates (read_table_deletes)
            metadata["ingestion_type"] = "cdc_with_deletes"
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
        """Keys the previous offset saw that PI no longer has (deleted points, removed AF objects), or
        for recorded_values the events PI removed since the offset's Stream Updates markers."""
        table = self._table(table_name)
        if table is RecordedValues:
            return self._value_deletes(self._options(table, table_options), start_offset or {})
        if table not in KEYED:
            raise ValueError(f"{table_name!r} is not a cdc_with_deletes table; deletes are read for: "
                             f"{', '.join(t.name for t in (RecordedValues, *KEYED))}")
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

    def _value_deletes(self, options: ReadOptions, offset: dict) -> tuple[Iterator[dict], dict]:
        """Recorded values PI removed since the offset's markers, as delete records of their keys.

        The first call registers every tag (nothing removed before it is known); a tag new to the
        selection or whose marker PI lost is registered again. Removes at a timestamp delete its
        highest ordinals: after r removes and a adds there, the c values PI now holds keep ordinals
        0..c-1 and ordinals c..c+r-a-1 are gone. When nothing happened the offset is returned as it
        came (the framework stops), until its markers are MARKER_REFRESH_S old."""
        points = {p.web_id: p for p in self._discover(options)}
        old = {w: m for w, m in (offset.get("markers") or {}).items() if w in points}
        max_url = options.config.source.max_url_bytes
        found = updates.retrieve(self.client, old, max_url)
        fresh = {w: p.name for w, p in points.items() if w not in found.markers}
        markers = {**found.markers, **(updates.register(self.client, fresh, max_url) if fresh else {})}
        now = time.time()
        quiet = not found.events and not fresh and set(old) == set(offset.get("markers") or {})
        if offset and quiet and now - float(offset.get("issued_at", 0)) < MARKER_REFRESH_S:
            return iter(()), offset
        ingested_at = dt.datetime.fromtimestamp(now, dt.timezone.utc)
        removed = [(web_id, ns, gone) for web_id, events in found.events.items()
                   for ns, gone in sorted(_removed_per_timestamp(events).items())]
        records = []
        for (web_id, ns, gone), held in zip(removed, self._held_at([(w, ns) for w, ns, _ in removed])):
            stamp = from_ns(ns)
            records += [{"web_id": web_id, "tag": points[web_id].name, "timestamp_ns": ns, "ordinal": o,
                         "timestamp": stamp, "date": stamp.date(), "ingested_at": ingested_at,
                         "run_id": "lakeflow"} for o in range(held, held + gone)]
        return iter(records), {"markers": markers, "issued_at": now}

    def _held_at(self, instants: list[tuple[str, int]]) -> list[int]:
        """How many values PI holds now at each (web_id, ns): one recorded read of that instant per
        sub-request, HELD_PER_BATCH to a batch call. A failed read raises: a guessed count would delete
        the wrong ordinals."""
        counts: list[int] = []
        for start in range(0, len(instants), HELD_PER_BATCH):
            chunk = instants[start:start + HELD_PER_BATCH]
            answers = self.client.batch({str(i): {"Method": "GET", "Resource": f"streams/{web_id}/recorded?"
                                                  f"startTime={format_ns(ns)}&endTime={format_ns(ns)}&"
                                                  "selectedFields=Items.Timestamp&maxCount=150000"}
                                         for i, (web_id, ns) in enumerate(chunk)})
            for i, (web_id, ns) in enumerate(chunk):
                answer = answers[str(i)]
                content = answer.get("Content")
                if answer.get("Status") != 200 or not isinstance(content, dict):
                    raise PIRequestError(f"batch: reading what {web_id} holds at {format_ns(ns)} to delete the "
                                         f"removed values failed: HTTP {answer.get('Status')}: {content}",
                                         status=answer.get("Status"))
                counts.append(len(content.get("Items") or []))
        return counts

    # -- partitions (SupportsPartitionedStream) ------------------------------------------------

    def is_partitioned(self, table_name: str) -> bool:
        return self._table(table_name) in VALUE_TABLES

    def latest_offset(self, table_name: str, table_options: dict[str, str] | None,
                      start_offset: dict | None = None) -> dict:
        table = self._value_table(table_name)
        options = self._options(table, table_options)
        latest = {"end_ns": self._end_ns(table, options)}
        if start_offset and "origin_ns" in start_offset:
            latest["origin_ns"] = int(start_offset["origin_ns"])
        return latest

    def get_partitions(self, table_name: str, table_options: dict[str, str] | None,
                       start_offset: dict | None = None, end_offset: dict | None = None) -> Sequence[dict]:
        """Parts of [start_offset - lookback, end_offset), or of the options' start..end for a batch read."""
        table = self._value_table(table_name)
        options = self._options(table, table_options)
        end_ns = int(end_offset["end_ns"]) if end_offset else self._end_ns(table, options)
        if start_offset:
            start_ns = int(start_offset["end_ns"])
            if end_ns <= start_ns:
                return []
            origin_ns = int(start_offset.get("origin_ns", start_ns))
            start_ns = self._reread_from(start_ns, origin_ns, self._step(table, options), options)
        else:
            start_ns = self._start_ns(table, options)
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
        now = from_ns(self._now_ns())
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
        """One window (at most `window` long past the offset, and the lookback before it); its rows and its end."""
        step = self._step(table, options)
        start_ns = int(offset["end_ns"]) if "end_ns" in offset else self._start_ns(table, options)
        origin_ns = int(offset.get("origin_ns", start_ns))
        width = max(step, options.window_ns // step * step)
        end_ns = min(self._end_ns(table, options), start_ns + width)
        if end_ns <= start_ns:
            return iter(()), offset if offset else {"end_ns": start_ns, "origin_ns": origin_ns}
        parts = self._plan(table, options, self._reread_from(start_ns, origin_ns, step, options), end_ns)
        rows = [row for part in parts for row in _rows(read_part(self.client, options.config, part, run_id="lakeflow"))]
        return iter(rows), {"end_ns": end_ns, "origin_ns": origin_ns}

    @staticmethod
    def _reread_from(start_ns: int, origin_ns: int, step: int, options: ReadOptions) -> int:
        """Where a read from `start_ns` begins: the lookback before it, on the step grid, not before the origin."""
        if not options.lookback_ns:
            return start_ns
        return max(min(origin_ns, start_ns), (start_ns - options.lookback_ns) // step * step)

    def _event_frames(self, options: ReadOptions, offset: dict):
        now_ns = self._now_ns()
        start_ns = int(offset["end_ns"]) if "end_ns" in offset else to_ns(
            resolve_time(options.start, from_ns(now_ns)))
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


_NET_CHANGE = {"Remove": 1, "Add": -1}  # what a Stream Updates action does to the count at its timestamp


def _removed_per_timestamp(events: list[dict]) -> dict[int, int]:
    """{timestamp_ns: removes - adds} where Stream Updates events removed more values than they added."""
    net: dict[int, int] = {}
    for event in events:
        step = _NET_CHANGE.get(event.get("Action", ""), 0)
        if step:
            ns = parse_ns(event["Timestamp"])
            net[ns] = net.get(ns, 0) + step
    return {ns: n for ns, n in net.items() if n > 0}


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
