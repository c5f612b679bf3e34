"""connector.lakeflow: the extraction in the shape Databricks Lakeflow community connectors take.

`PIConnector(options)` offers list_tables, get_table_schema, read_table_metadata and read_table
(records, end_offset). Offsets chain exactly: recorded values are read in half-open windows
[offset, end) and the returned offset is the window's end, so calling again with it continues where
the last call stopped, with no gap and no repeat; a call that finds nothing new returns its
start offset, which tells the framework to stop. The writing side (Delta, MERGE) is the framework's.

Options (strings, as Lakeflow passes them): url, auth_type, username, password, token, verify,
data_server, tag_filter (PI wildcard, default *), tags (comma-separated names), start (PI time of
the first window, default *-1d), window (max window per call, default 1h), web_id_type.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pyarrow as pa

from .client import PIClient
from .config import ConnectorConfig
from .config import parse_duration
from .config import resolve_time
from .context import NS
from .context import parse_server_time
from .context import to_ns
from .convert import StreamInfo
from .convert import recorded_table
from .discovery import discover
from .errors import UnknownPointError
from .jobs.assets import find_databases
from .jobs.assets import read_af
from .jobs.eventframes import FRAME_FIELDS
from .jobs.eventframes import _frame_row
from .paging import RecordedReader
from .paging import format_ns
from .tables import TABLES
from .tables import AFAttributes
from .tables import AFElements
from .tables import EventFrames
from .tables import Points
from .tables import RecordedValues

OFFERED = (Points, RecordedValues, AFElements, AFAttributes, EventFrames)
GROUP = 200


class PIConnector:
    """PI Web API as a Lakeflow community connector source."""

    def __init__(self, options: dict[str, str]) -> None:
        self.options = dict(options)
        source = {"url": options["url"], "auth": {"type": options.get("auth_type", "anonymous")},
                  "web_id_type": options.get("web_id_type", "IDOnly")}
        for name in ("username", "password", "token"):
            if options.get(name):
                source["auth"][name] = options[name]
        if "verify" in options:  # true/false, or the path of a CA bundle (kept, not turned into True)
            text = options["verify"].strip()
            flag = {"false": False, "0": False, "no": False, "true": True, "1": True, "yes": True}.get(text.lower())
            source["verify"] = text if flag is None else flag
        if options.get("data_server"):
            source["data_server"] = options["data_server"]
        tags = [{"name_filter": options.get("tag_filter", "*")}]
        if options.get("tags"):
            tags = [{"names": [t.strip() for t in options["tags"].split(",") if t.strip()]}]
        self.config = ConnectorConfig.from_dict({"source": source, "destination": {"uri": "unused"}, "tags": tags},
                                                source="<lakeflow options>")
        self.client = PIClient.from_config(self.config)
        self.window_ns = int(parse_duration(options.get("window", "1h")).total_seconds() * NS)
        self._server: dict | None = None
        self._points = None

    # -- the interface -------------------------------------------------------------------------

    def list_tables(self) -> list[str]:
        return [t.name for t in OFFERED]

    def get_table_schema(self, table_name: str, table_options: dict[str, str]):
        """The table's schema: a Spark StructType when pyspark is installed, else the Arrow schema."""
        schema = self._table(table_name).schema
        try:
            from pyspark.sql.pandas.types import from_arrow_schema
        except ImportError:
            return schema
        return from_arrow_schema(schema)

    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        table = self._table(table_name)
        metadata = {"primary_keys": list(table.primary_keys), "ingestion_type": table.ingestion_type}
        if table.cursor_field:
            metadata["cursor_field"] = table.cursor_field
        if table is EventFrames:  # CDC sequences a frame's versions (open, then closed) by when they were read
            metadata["cursor_field"] = "ingested_at"
        if table in (AFElements, AFAttributes, Points):
            metadata["ingestion_type"] = "snapshot"
        return metadata

    def read_table(self, table_name: str, start_offset: dict | None,
                   table_options: dict[str, str]) -> tuple[Iterator[dict], dict | None]:
        table = self._table(table_name)
        if table is RecordedValues:
            return self._recorded(start_offset)
        if table is EventFrames:
            return self._event_frames(start_offset)
        if table is Points:
            return iter([_audited(p.__dict__) for p in self._discover()]), None
        return self._af(table), None

    # -- helpers -------------------------------------------------------------------------------

    def _table(self, name: str):
        table = TABLES.get(name)
        if table not in OFFERED:
            raise ValueError(f"unknown table {name!r}; this connector offers: {', '.join(self.list_tables())}")
        return table

    def server(self) -> dict:
        if self._server is None:
            self._server = self.client.data_server(self.config.source.data_server)
        return self._server

    def _now_ns(self) -> int:
        return to_ns(parse_server_time(self.client.data_server(self.config.source.data_server)["ServerTime"]))

    def _discover(self):
        if self._points is None:
            self._points = discover(self.client, self.server(), self.config.tags).points
        return self._points

    def _recorded(self, offset: dict | None):
        now_ns = self._now_ns()
        if offset and "end_ns" in offset:
            start_ns = int(offset["end_ns"])
        else:
            start_ns = to_ns(resolve_time(self.options.get("start", "*-1d"), parse_server_time(format_ns(now_ns))))
        end_ns = min(now_ns, start_ns + self.window_ns)
        if end_ns <= start_ns:
            return iter(()), offset if offset is not None else {"end_ns": start_ns}
        points = self._discover()
        reader = RecordedReader(self.client, max_items_per_call=self.config.source.max_items_per_call,
                                web_id_type=self.config.source.web_id_type)
        tables = []
        for i in range(0, len(points), GROUP):
            group = points[i:i + GROUP]
            reads = reader.read([p.web_id for p in group], start_ns, end_ns,
                                self.config.source.max_items_per_call // len(group))
            for point in group:
                read = reads[point.web_id]
                if read.error is not None and not isinstance(read.error, UnknownPointError):
                    raise read.error  # the offset must not move past data that could not be read
                if read.error is None and read.items:
                    tables.append(recorded_table(StreamInfo(point.web_id, point.name, read.units or ""),
                                                 read.items, RecordedValues.schema, run_id="lakeflow",
                                                 ingested_at_us=int(time.time() * 1_000_000)))
        rows = pa.concat_tables(tables).to_pylist() if tables else []
        return iter(rows), {"end_ns": end_ns}

    def _event_frames(self, offset: dict | None):
        now_ns = self._now_ns()
        start_ns = int(offset["end_ns"]) if offset and "end_ns" in offset else to_ns(
            resolve_time(self.options.get("start", "*-1d"), parse_server_time(format_ns(now_ns))))
        still_open = list(offset.get("open", [])) if offset else []
        if now_ns <= start_ns and not still_open:
            return iter(()), offset
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

    def _af(self, table) -> Iterator[dict]:
        for db in find_databases(self.client):
            elements, attributes = read_af(self.client, db, self.config.source.web_id_type)
            for row in elements if table is AFElements else attributes:
                yield _audited(row)


def _audited(row: dict) -> dict:
    """A row with the audit columns every table has: when it was read, and by whom."""
    return {**row, "ingested_at": dt.datetime.now(dt.timezone.utc), "run_id": "lakeflow"}
