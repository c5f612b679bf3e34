"""connector.jobs.reconcile: what a window read again changes in a value table, and how a batch of
windows is written.

A window read again (the lookback before each tag's cursor, or the first window of a table left
dirty by a crash) is the archive's whole truth for its tags and span. Compared in Arrow with the
rows the table holds there, the new read splits into rows to insert (keys not held: appended),
rows to update (held with other content: MERGEd) and rows to delete (held, no longer in the
archive: deleted by the same MERGE). Rows held unchanged are left alone, so a run that finds no
late data or edits rewrites no file: a MERGE would rewrite every file holding a key of the window,
and the file holding the newest rows grows with the day.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ..context import NS
from ..errors import ConnectorError

AUDIT = ("ingested_at", "run_id")
NO_CURSOR = 2**62  # a bound no row reaches: every row read may be held already (a dirty table)


@dataclass
class Changes:
    """The new read of the re-read windows, split by what the table needs."""

    insert: pa.Table
    update: pa.Table
    delete: pa.Table


def reconcile(sink, table, rows: pa.Table, reread: dict[str, tuple[int, int]]) -> Changes:
    """Compare `rows` (the new read of the spans in `reread`: web_id -> [lo, hi) of the table's
    `cursor_field`, nanoseconds) with the rows the table holds in those spans. The table is keyed
    by `web_id` and more, and partitioned by the UTC `date` of its cursor field."""
    empty = table.schema.empty_table()
    if not reread:
        return Changes(rows, empty, empty)
    held = held_rows(sink, table, reread)
    if held.num_rows == 0:
        return Changes(rows, empty, empty)
    keys = list(table.primary_keys)
    insert = rows.join(held.select(keys), keys, join_type="left anti")
    delete = held.join(rows.select(keys), keys, join_type="left anti")
    both = rows.join(held, keys, join_type="inner", right_suffix="__held")
    compared = [name for name in table.schema.names if name not in keys and name not in AUDIT]
    differs = functools.reduce(pc.or_, (_differ(both.column(name), both.column(name + "__held")) for name in compared))
    update = both.filter(differs).select(table.schema.names)
    return Changes(_typed(insert, table), _typed(update, table), _typed(delete, table))


def widen(spans: dict[str, tuple[int, int]], web_id: str, lo: int, hi: int) -> None:
    """Add [lo, hi) to a tag's span read again (a tag's windows are consecutive: one span)."""
    known = spans.get(web_id)
    spans[web_id] = (lo, hi) if known is None else (min(known[0], lo), max(known[1], hi))


def write_batch(ctx, table, older: pa.Table, spans: dict[str, tuple[int, int]], newer: list[pa.Table],
                cursors: dict[str, int], *, delete_gone: bool, unique_keys: bool = False) -> None:
    """Write what a batch of windows read, then commit its cursors (only after the data).

    `older` (rows that may be held already) is compared with the table over `spans`: new keys are
    appended with `newer`, changed rows MERGEd, and with `delete_gone` the rows the new read lacks
    are deleted by the same MERGE (logged as `values_removed`). `unique_keys`: the appended keys
    are unique by construction (no duplicate check)."""
    sink = ctx.sink
    version = sink.version(table)
    metadata = {"pi-connector.run_id": ctx.run_id}
    appends = [part for part in newer if part.num_rows]
    if older.num_rows or spans:
        changes = reconcile(sink, table, older, spans)
        gone = changes.delete if delete_gone else table.schema.empty_table()
        if gone.num_rows:
            ctx.log("values_removed", level="warning", table=table.name, rows=gone.num_rows,
                    message=f"{gone.num_rows} row(s) the archive no longer holds, in the re-read "
                            f"windows of {len(set(gone.column('web_id').to_pylist()))} tag(s)")
        if changes.update.num_rows or gone.num_rows:
            version = sink.merge(table, changes.update, delete=gone, metadata=metadata)
        if changes.insert.num_rows:
            appends.insert(0, changes.insert)  # keys the table does not hold: appended, not MERGEd
    if appends:
        version = sink.append(table, pa.concat_tables(appends), metadata=metadata, unique_keys=unique_keys)
    if cursors:
        if version is None:
            raise ConnectorError(f"table {table.name}: no version after writing")
        ctx.checkpoints.commit(table, cursors, version, ctx.run_id)


def held_rows(sink, table, reread: dict[str, tuple[int, int]]) -> pa.Table:
    """The table's rows inside each tag's span (read pruned by date partition and statistics)."""
    at = pc.field(table.cursor_field)
    within = None
    for lo, hi in disjoint(reread.values()):  # tags far apart in time do not make one long scan
        span = (pc.field("date") >= _day(lo)) & (pc.field("date") <= _day(hi - 1)) & (at >= lo) & (at < hi)
        within = span if within is None else within | span
    held = sink.read(table, filter_expr=within)
    if held.num_rows == 0:
        return held
    spans = pa.table({"web_id": list(reread), "__lo": [span[0] for span in reread.values()],
                      "__hi": [span[1] for span in reread.values()]})
    held = held.join(spans, "web_id", join_type="inner")
    inside = (at >= pc.field("__lo")) & (at < pc.field("__hi"))
    return held.filter(inside).select(table.schema.names)


def _differ(new: pa.ChunkedArray, old: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where two columns differ, a null differing from a value and equal to a null."""
    unequal = pc.fill_null(pc.not_equal(new, old), False)
    return pc.or_(unequal, pc.not_equal(pc.is_null(new), pc.is_null(old)))


def _typed(rows: pa.Table, table) -> pa.Table:
    return rows.select(table.schema.names).cast(table.schema)


def disjoint(spans) -> list[tuple[int, int]]:
    """The union of [lo, hi) spans as sorted, non-overlapping spans."""
    merged: list[list[int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _day(ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ns // NS, dt.timezone.utc).date()
