"""connector.notebook: PI reads for a notebook, the way tagreader users work: search tags, read values into pandas.

    from connector import PI
    pi = PI("https://pi.example/piwebapi", auth=("user", "password"))
    pi.search("SYD.*")                                   # a DataFrame of matching tags
    df = pi.read(["SYD.U1.FT", "SYD.U1.TT"], "*-1d", "*")  # every recorded value, long form

Recorded reads go through the connector's own reader (`paging.RecordedReader`: exact continuation
of a page that hit maxCount) and converter (`convert.recorded_rows`), so a notebook sees exactly the
rows the bronze table would hold: same-timestamp events numbered by `ordinal`, digital and system
states kept as `digital_name`/`digital_code`, string values in `string_value`. Naive times are UTC;
strings are PI times ("*-1d", "t", ISO 8601) resolved against the server's clock.
"""
from __future__ import annotations

import datetime as dt
import sys
import typing as t
from types import SimpleNamespace

import pyarrow as pa

from .client import PIClient
from .client import BearerAuth
from .config import NameList
from .config import parse_duration
from .config import resolve_time
from picommon.pitime import timestamp as parse_server_time
from .convert import StreamInfo
from .convert import recorded_rows
from .convert import value_rows
from .discovery import LIST_FIELDS
from .discovery import PointInfo
from .discovery import discover
from .errors import PIRequestError
from .jobs.computed import SUMMARY_FIELDS
from .jobs.computed import VALUE_FIELDS
from .jobs.computed import _summary_rows
from .paging import RecordedReader
from .paging import format_ns
from .tables import InterpolatedValues
from .tables import RecordedValues
from .tables import SummaryValues
from .wire import STREAM_SET

if t.TYPE_CHECKING:
    import pandas as pd

NS = 1_000_000_000
KINDS = ("recorded", "interpolated", "summary")
GROUP = 100  # tags per call (stream sets put WebIDs in the URL)
WINDOW = "1d"  # recorded reads are cut into windows this long (progress and memory)
DROPPED = ("web_id", "timestamp_ns", "date", "ingested_at", "run_id", "start_ns")

Time = t.Union[str, dt.datetime, "pd.Timestamp"]


def _auth(auth: object):
    """None, a requests auth object, (username, password) for basic, or a bearer token string."""
    if auth is None or callable(auth):
        return auth
    if isinstance(auth, tuple) and len(auth) == 2:
        from requests.auth import HTTPBasicAuth

        return HTTPBasicAuth(*auth)
    if isinstance(auth, str):
        return BearerAuth(auth)
    raise TypeError("PI auth: expected None, (username, password), a bearer token or a requests auth object, "
                    f"got {type(auth).__name__}")


class PI:
    """A PI Web API server seen from a notebook: `search` tags, `read` values.

    Args:
        url: the PI Web API root (".../piwebapi").
        auth: None (anonymous), (username, password) for basic, a bearer token string, or any
            requests auth object (Kerberos, NTLM...).
        server: the data server's name (default: the first one the server lists).
        verify: TLS verification (True, False or a CA bundle path).
        max_count: the largest page asked for (PI's maxCount); pages that come back full are
            continued exactly, so a small value only costs calls.
        max_items_per_call: the server's MaxReturnedItemsPerCall (150,000 by default in PI).
        window: recorded reads are cut into windows this long (a PI interval).
        progress: draw a progress bar: None (default) draws one for reads of several calls when
            standard error is a terminal; True or False force it.
    """

    def __init__(self, url: str, *, auth: object = None, server: str | None = None, verify: bool | str = True,
                 timeout: float = 60.0, max_count: int = 150_000, max_items_per_call: int = 150_000,
                 window: str = WINDOW, progress: bool | None = None) -> None:
        self.client = PIClient(url, auth=_auth(auth), verify=verify, timeout=timeout)
        self.server_name = server
        self.max_count = max_count
        self.max_items_per_call = max_items_per_call
        self.window_ns = int(parse_duration(window).total_seconds() * NS)
        self.progress = progress
        self._server: dict | None = None
        self._points: dict[str, PointInfo] = {}

    def __repr__(self) -> str:
        return f"PI({self.client.logged_url(self.client.base_url)!r})"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- tags ----------------------------------------------------------------------------------

    @property
    def server(self) -> dict:
        """The data server's document (WebId, Name, ServerTime...)."""
        if self._server is None:
            self._server = self.client.data_server(self.server_name)
        return self._server

    def search(self, pattern: str = "*") -> pd.DataFrame:
        """The tags whose names match a PI wildcard (`*` any run, `?` one character), case-insensitive.

        Returns:
            A DataFrame with one row per tag: tag, descriptor, units, type, digital_set, step,
            web_id, path, sorted by tag.
        """
        import pandas as pd

        found = [PointInfo.from_json(doc, self.server.get("Name", ""))
                 for doc in self.client.points(self.server["WebId"], pattern, selected_fields=LIST_FIELDS)]
        for point in found:
            self._points[point.name.lower()] = point
        rows = [{"tag": p.name, "descriptor": p.descriptor, "units": p.engineering_units, "type": p.point_type,
                 "digital_set": p.digital_set or None, "step": p.step, "web_id": p.web_id, "path": p.path}
                for p in found]
        columns = ["tag", "descriptor", "units", "type", "digital_set", "step", "web_id", "path"]
        return pd.DataFrame(rows, columns=columns).sort_values("tag", ignore_index=True)

    def points(self, tags: str | t.Iterable[str]) -> list[PointInfo]:
        """The points named (in that order); ValueError naming every unknown tag."""
        names = [tags] if isinstance(tags, str) else list(tags)
        if not names:
            raise ValueError("read: no tags given")
        wanted = [n for n in dict.fromkeys(names) if n.lower() not in self._points]
        if wanted:
            result = discover(self.client, self.server, [NameList(tuple(wanted))])
            for point in result.points:
                self._points[point.name.lower()] = point
            unknown = [n for n in wanted if n.lower() not in self._points]
            if unknown:
                raise ValueError(f"unknown tags on {self.server.get('Name', 'the data server')}: {', '.join(unknown)}")
        return [self._points[n.lower()] for n in dict.fromkeys(names)]

    # -- values --------------------------------------------------------------------------------

    def read(self, tags: str | t.Iterable[str], start: Time, end: Time, *, kind: str = "recorded",
             interval: str | None = None, summary_type: str | t.Sequence[str] = "Average",
             calculation_basis: str = "TimeWeighted", shape: str = "long", as_arrow: bool = False,
             tz: str | None = "UTC"):
        """Values of `tags` from `start` to `end`.

        Args:
            tags: a tag name or a list of them.
            start, end: datetimes (naive: UTC), pandas Timestamps, or PI time strings.
            kind: "recorded" (every archived event with start <= t < end), "interpolated" (one value
                per `interval` from start, end included when on the grid) or "summary" (one value per
                `interval` and `summary_type`, for the whole intervals in [start, end)).
            interval: a PI interval ("10m", "1h"); required for interpolated and summary.
            summary_type: one summary type or a list ("Average", "Minimum", "Maximum", "Total"...).
            calculation_basis: for summaries ("TimeWeighted", "EventWeighted").
            shape: "long" (one row per value, index `timestamp`) or "wide" (one column per tag, or
                per (tag, summary_type) when several types are asked for; digital states and
                strings as text).
            as_arrow: return a pyarrow Table (of the same shape) instead of a DataFrame.
            tz: the time zone of the index (None: keep UTC).

        Returns:
            A pandas DataFrame indexed by a tz-aware timestamp, or a pyarrow Table.
        """
        if kind not in KINDS:
            raise ValueError(f"read kind: must be one of {', '.join(KINDS)}, got {kind!r}")
        if shape not in ("long", "wide"):
            raise ValueError(f"read shape: must be long or wide, got {shape!r}")
        if kind != "recorded" and not interval:
            raise ValueError(f"read kind={kind!r} needs an interval (a PI interval such as 10m or 1h)")
        points = self.points(tags)
        start_ns, end_ns = self._time_ns(start), self._time_ns(end)
        if end_ns < start_ns:
            raise ValueError(f"read: end ({format_ns(end_ns)}) is before start ({format_ns(start_ns)})")
        if kind == "recorded" or interval is None:  # interval is checked above for the other kinds
            table = self._recorded(points, start_ns, end_ns)
        elif kind == "interpolated":
            table = self._interpolated(points, start_ns, end_ns, interval)
        else:
            types = [summary_type] if isinstance(summary_type, str) else list(summary_type)
            table = self._summaries(points, start_ns, end_ns, interval, types, calculation_basis)
        return _shape(table, points, kind, shape, as_arrow, tz)

    def _time_ns(self, value: Time) -> int:
        if isinstance(value, str):
            now = parse_server_time(self.server.get("ServerTime") or dt.datetime.now(dt.timezone.utc).isoformat())
            try:
                value = resolve_time(value, now)
            except ValueError as exc:
                raise ValueError(f"read time: {exc}") from None
        if hasattr(value, "value") and hasattr(value, "tz_localize"):  # a pandas Timestamp: keep its ns
            stamp = value if value.tzinfo is not None else value.tz_localize("UTC")
            return int(stamp.value)
        if isinstance(value, dt.datetime):
            moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
            whole = int(moment.replace(microsecond=0).timestamp())
            return whole * NS + moment.microsecond * 1000
        raise TypeError(f"read time: expected a datetime or a PI time string, got {type(value).__name__}")

    def _recorded(self, points: list[PointInfo], start_ns: int, end_ns: int) -> pa.Table:
        reader = RecordedReader(self.client, max_items_per_call=self.max_items_per_call,
                                web_id_type=self.client.web_id_type)
        windows = [(a, min(end_ns, a + self.window_ns)) for a in range(start_ns, end_ns, self.window_ns)]
        groups = [points[i:i + GROUP] for i in range(0, len(points), GROUP)]
        parts = [RecordedValues.schema.empty_table()]
        with _Bar(self.progress, len(windows) * len(groups), "recorded") as advance:
            for group in groups:
                for a, b in windows:
                    reads = reader.read([p.web_id for p in group], a, b, self.max_count)
                    streams = []
                    for point in group:
                        result = reads[point.web_id]
                        if result.error is not None:
                            raise result.error
                        streams.append((StreamInfo(point.web_id, point.name, result.units or point.engineering_units),
                                        result.items))
                    parts.append(recorded_rows(streams, RecordedValues.schema, run_id="", ingested_at_us=0))
                    advance()
        return pa.concat_tables(parts)

    def _interpolated(self, points: list[PointInfo], start_ns: int, end_ns: int, interval: str) -> pa.Table:
        step = _step_ns(interval)
        times = (end_ns - start_ns) // step + 1  # the grid start, start + step, ... <= end
        parts = [InterpolatedValues.schema.empty_table()]
        groups = [points[i:i + GROUP] for i in range(0, len(points), GROUP)]
        per_call = max(1, self.max_items_per_call // min(GROUP, len(points)))
        with _Bar(self.progress, len(groups) * -(-times // per_call), "interpolated") as advance:
            for group in groups:
                for first in range(0, times, per_call):
                    last = min(times, first + per_call) - 1
                    body = self.client.get_bytes("streamsets/interpolated", {
                        "webId": [p.web_id for p in group], "startTime": format_ns(start_ns + first * step),
                        "endTime": format_ns(start_ns + last * step), "interval": interval,
                        "selectedFields": VALUE_FIELDS})
                    found = _stream_set(body, group)
                    streams = [(StreamInfo(p.web_id, p.name, found[p.web_id].UnitsAbbreviation or p.engineering_units),
                                found[p.web_id].Items) for p in group]
                    parts.append(value_rows(streams, InterpolatedValues.schema, run_id="", ingested_at_us=0,
                                            extra={"interval": interval}))
                    advance()
        return pa.concat_tables(parts)

    def _summaries(self, points: list[PointInfo], start_ns: int, end_ns: int, interval: str, types: list[str],
                   basis: str) -> pa.Table:
        step = _step_ns(interval)
        count = (end_ns - start_ns) // step  # whole intervals only
        schema = pa.schema([f for f in SummaryValues.schema if f.name not in ("ingested_at", "run_id")])
        config = SimpleNamespace(calculation_basis=basis, duration=interval)
        rows: list[dict] = []
        groups = [points[i:i + GROUP] for i in range(0, len(points), GROUP)]
        per_call = max(1, self.max_items_per_call // (min(GROUP, len(points)) * len(types)) - 1)
        with _Bar(self.progress, len(groups) * -(-count // per_call), "summary") as advance:
            for group in groups:
                for first in range(0, count, per_call):
                    n = min(count, first + per_call) - first
                    a = start_ns + first * step
                    # one interval more than kept: PI closes only a call's last interval at its end
                    answer = self.client.get_json("streamsets/summary", {
                        "webId": [p.web_id for p in group], "startTime": format_ns(a),
                        "endTime": format_ns(a + (n + 1) * step), "summaryType": types,
                        "summaryDuration": interval, "calculationBasis": basis, "selectedFields": SUMMARY_FIELDS})
                    found = {s.get("WebId"): s for s in answer.get("Items") or []}
                    for point in group:
                        if point.web_id not in found:
                            raise PIRequestError(f"tag {point.name}: missing from the summary answer")
                        rows.extend(r for r in _summary_rows(point, found[point.web_id], a, step, config)
                                    if r["start_ns"] < a + n * step)
                    advance()
        return pa.Table.from_pylist(rows, schema=schema)


def _step_ns(interval: str) -> int:
    try:
        step = int(parse_duration(interval).total_seconds() * NS)
    except ValueError as exc:
        raise ValueError(f"read interval: {exc}") from None
    if step <= 0:
        raise ValueError(f"read interval: must be positive, got {interval!r}")
    return step


def _stream_set(body: bytes, group: list[PointInfo]) -> dict:
    found = {s.WebId: s for s in STREAM_SET.decode(body).Items}
    for point in group:
        stream = found.get(point.web_id)
        if stream is None:
            raise PIRequestError(f"tag {point.name}: missing from the stream set answer")
        if stream.WebException is not None and stream.WebException.StatusCode >= 400:
            raise PIRequestError(f"tag {point.name}: HTTP {stream.WebException.StatusCode}: "
                                 f"{'; '.join(stream.WebException.Errors)}")
    return found


# -- shapes ----------------------------------------------------------------------------------------

def _shape(table: pa.Table, points: list[PointInfo], kind: str, shape: str, as_arrow: bool, tz: str | None):
    """The rows as the caller asked: long or wide, DataFrame or Arrow, the index in `tz`."""
    exact = "start_ns" if kind == "summary" else "timestamp_ns"
    time_column = "start" if kind == "summary" else "timestamp"
    order = [("tag", "ascending"), (exact, "ascending")] + ([("ordinal", "ascending")] if kind == "recorded" else [])
    if kind == "summary":
        order.insert(1, ("summary_type", "ascending"))
    table = table.sort_by(order)
    stamps = table.column(exact).cast(pa.timestamp("ns", tz="UTC"))
    keep = [n for n in table.column_names if n not in DROPPED and n not in ("timestamp", "start", "interval")]
    table = pa.Table.from_arrays([stamps] + [table.column(n) for n in keep], names=[time_column] + keep)
    if shape == "long" and as_arrow:
        return table
    import pandas as pd

    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=float("nan")),
                                          pa.int32(): pd.Int32Dtype()}.get)
    frame = frame.set_index(time_column)
    if tz:
        frame.index = frame.index.tz_convert(tz)
    if shape == "wide":
        frame = _wide(frame, points, kind)
    if as_arrow:
        return pa.Table.from_pandas(frame, preserve_index=True)
    return frame


def _wide(frame: pd.DataFrame, points: list[PointInfo], kind: str) -> pd.DataFrame:
    """One column per tag (per tag and summary type when several): the number, else the string,
    else the digital state's name; same-timestamp recorded events keep an `ordinal` index level."""
    import pandas as pd

    value = frame["value"].astype(object)
    if "string_value" in frame:
        value = value.where(frame["value"].notna(), frame["string_value"].astype(object))
    value = value.where(value.notna(), frame["digital_name"].astype(object))
    data = pd.DataFrame({"tag": frame["tag"].astype(object), "_v": value}, index=frame.index)
    index = [frame.index.name]
    columns: list[str] = ["tag"]
    if kind == "recorded":
        data["ordinal"] = frame["ordinal"].to_numpy()
        index.append("ordinal")
    if kind == "summary" and frame["summary_type"].nunique() > 1:
        data["summary_type"] = frame["summary_type"].astype(object)
        columns.append("summary_type")
    wide = data.reset_index().pivot(index=index, columns=columns, values="_v")
    if kind == "recorded" and (wide.index.get_level_values("ordinal") == 0).all():
        wide = wide.droplevel("ordinal")
    names = [p.name for p in points]
    order = [c for c in wide.columns if (c[0] if isinstance(c, tuple) else c) in names]
    order.sort(key=lambda c: names.index(c[0] if isinstance(c, tuple) else c))
    wide = wide[order]
    wide.columns.name = None if len(columns) == 1 else wide.columns.name
    for column in wide.columns:
        numbers = pd.to_numeric(wide[column], errors="coerce")
        if numbers.notna().sum() == wide[column].notna().sum():
            wide[column] = numbers.astype("float64")
    return wide


# -- progress --------------------------------------------------------------------------------------

class _Bar:
    """A rich progress bar on standard error for reads of several calls, when it is a terminal."""

    def __init__(self, wanted: bool | None, total: int, label: str) -> None:
        show = sys.stderr.isatty() if wanted is None else wanted
        self.progress = None
        if show and (total > 1 or wanted):
            from rich.console import Console
            from rich.progress import Progress

            self.progress = Progress(console=Console(stderr=True), transient=True)
            self.task = self.progress.add_task(f"reading {label} values", total=total)

    def __enter__(self) -> t.Callable[[], None]:
        if self.progress is None:
            return lambda: None
        progress = self.progress
        progress.start()
        return lambda: progress.advance(self.task)

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()
