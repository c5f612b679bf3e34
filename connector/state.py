"""Checkpoints: one bookmark per (table, key) in `_checkpoints`, committed after the data it covers."""
from __future__ import annotations

import datetime as dt
import logging
import typing as t

import pyarrow as pa
import pyarrow.compute as pc

from .errors import IntegrityError
from .sink import resolve
from .tables.checkpoints import CheckpointsTable

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from .sink import DeltaSink
    from .sink import TableLike

log = logging.getLogger(__name__)

#: Operations that commit no new rows: a data table whose only uncovered commits are these is clean.
NON_DATA_OPERATIONS = frozenset({
    "CREATE TABLE", "OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES", "ADD CONSTRAINT",
    "DROP CONSTRAINT", "ADD FEATURE", "UPDATE TABLE METADATA", "UPDATE FIELD METADATA",
})

#: Forward-only, evaluated by the MERGE itself so that two committers racing cannot move a cursor back.
FORWARD_ONLY = {
    "cursor_ns": "CASE WHEN s.cursor_ns > t.cursor_ns THEN s.cursor_ns ELSE t.cursor_ns END",
    "data_version": "CASE WHEN s.data_version > t.data_version THEN s.data_version ELSE t.data_version END",
}


class Cursor(t.NamedTuple):
    """A bookmark: how far a key's data is committed, and the data table version that holds it.

    Attributes:
        cursor_ns: Nanoseconds since the Unix epoch (the end of the last committed window).
        data_version: Delta version of the data table commit the cursor covers.
    """

    cursor_ns: int
    data_version: int


class Checkpoints:
    """Bookmarks of every data table in the sink's `_checkpoints` table.

    The runner commits data first and then its cursors (with the data commit's version); a crash in
    between leaves the data table "dirty" (`is_dirty`), and the next run MERGEs its first window.

    Args:
        sink: The sink that holds the data tables and `_checkpoints`.
    """

    table = CheckpointsTable

    def __init__(self, sink: DeltaSink) -> None:
        self.sink = sink

    def load(self, table_name: TableLike) -> dict[str, Cursor]:
        """Every bookmark of a data table, by key; {} before its first commit."""
        return _by_key(self._stored(resolve(table_name).name))

    def _stored(self, name: str) -> pa.Table:
        """The (key, cursor_ns, data_version) rows of one data table, as Arrow columns."""
        return self.sink.read(
            self.table,
            columns=["key", "cursor_ns", "data_version"],
            filter_expr=pc.field("table_name") == name,
        )

    def commit(
        self, table_name: TableLike, cursors: Mapping[str, int], data_version: int, run_id: str
    ) -> dict[str, Cursor]:
        """MERGE bookmarks for a data table; a cursor only moves forward.

        Args:
            table_name: The data table (name or class).
            cursors: Key (e.g. WebID) -> cursor in nanoseconds since the epoch.
            data_version: The data table's version that holds the rows the cursors cover.
            run_id: The run committing.

        Returns:
            The keys whose committed cursor was older than the stored one, each with the newer cursor that
            was kept (also logged as a warning); {} when every cursor moved forward or is new. Their
            `data_version` still advances.

        Raises:
            IntegrityError: A cursor, the data version or the run id is not what it must be.
        """
        name = resolve(table_name).name
        where = f"checkpoint commit for table {name!r}"
        if isinstance(data_version, bool) or not isinstance(data_version, int) or data_version < 0:
            raise IntegrityError(f"{where}: data_version {data_version!r} is not a Delta version (int >= 0)")
        if not isinstance(run_id, str) or not run_id:
            raise IntegrityError(f"{where}: run_id {run_id!r} is not a non-empty string")
        if not cursors:
            return {}
        keys, values = _checked(cursors, where)
        kept = self._kept(name, keys, values)
        if kept:
            sample = ", ".join(
                f"{key!r}: {cursors[key]} < {cursor.cursor_ns}" for key, cursor in list(kept.items())[:3]
            )
            log.warning(
                "%s: %d cursor(s) older than the stored ones were not moved back (%s)",
                where,
                len(kept),
                sample,
            )
        n = len(keys)
        now = pa.scalar(dt.datetime.now(dt.timezone.utc), self.table.schema.field("updated_at").type)
        rows = pa.Table.from_arrays(
            [
                pa.repeat(pa.scalar(name, pa.string()), n),
                keys,
                values,
                pa.repeat(pa.scalar(data_version, pa.int64()), n),
                pa.repeat(pa.scalar(run_id, pa.string()), n),
                pa.repeat(now, n),
            ],
            schema=self.table.schema,
        )
        self.sink.merge(
            self.table,
            rows,
            update=FORWARD_ONLY,
            metadata={"pi_connector.table": name, "pi_connector.run_id": run_id,
                      "pi_connector.data_version": data_version},
        )
        return kept

    def _kept(self, name: str, keys: pa.Array, values: pa.Array) -> dict[str, Cursor]:
        """The stored bookmarks newer than the cursors being committed (joined in Arrow, not in Python)."""
        stored = self._stored(name)
        if stored.num_rows == 0:
            return {}
        offered = pa.table({"key": keys, "offered_ns": values})
        joined = offered.join(stored, "key", join_type="inner")
        return _by_key(joined.filter(pc.less(joined.column("offered_ns"), joined.column("cursor_ns"))))

    def is_dirty(self, table_name: TableLike) -> bool:
        """True if the data table has a commit with rows that no checkpoint covers.

        That is a commit newer than the newest `data_version` of the table's checkpoints (any commit if it
        has none) which is not a table creation, OPTIMIZE, VACUUM or property change: a crash happened
        between a data commit and its checkpoint. A missing data table is not dirty.
        """
        data = resolve(table_name)
        version = self.sink.version(data)
        stored = self._stored(data.name)
        newest = pc.max(stored.column("data_version")).as_py()
        covered = -1 if newest is None else newest
        if version is None:
            if stored.num_rows:
                log.warning(
                    "table %r does not exist but has %d checkpoint(s); clear them to extract it again",
                    data.name, stored.num_rows,
                )
            return False
        if version <= covered:
            if version < covered:
                log.warning(
                    "table %r is at version %d but its checkpoints cover version %d: was it recreated?",
                    data.name, version, covered,
                )
            return False
        history = self.sink.history(data, limit=version - covered)
        newer = [entry for entry in history if entry["version"] > covered]
        if len(newer) < version - covered:
            return True  # some commits' logs are gone: assume they held data
        return any(entry.get("operation") not in NON_DATA_OPERATIONS for entry in newer)

    def clear(self, table_name: TableLike) -> None:
        """Forget every bookmark of a data table (its next run starts from the configured start)."""
        name = resolve(table_name).name
        self.sink.delete(self.table, "table_name = '{}'".format(name.replace("'", "''")))


def _by_key(rows: pa.Table) -> dict[str, Cursor]:
    """(key, cursor_ns, data_version) rows as a dict of Cursors by key."""
    return {
        key: Cursor(cursor_ns, data_version)
        for key, cursor_ns, data_version in zip(
            rows.column("key").to_pylist(),
            rows.column("cursor_ns").to_pylist(),
            rows.column("data_version").to_pylist(),
        )
    }


def _checked(cursors: Mapping[str, int], where: str) -> tuple[pa.Array, pa.Array]:
    """The keys (strings) and cursors (ints, not bools) as Arrow arrays; IntegrityError naming the first
    bad one otherwise."""
    keys, values = list(cursors), list(cursors.values())
    if all(type(key) is str for key in keys) and all(type(value) is int for value in values):
        try:
            return pa.array(keys, pa.string()), pa.array(values, pa.int64())
        except OverflowError:
            pass  # an int beyond 64 bits: named below
    for key, cursor in cursors.items():
        if not isinstance(key, str):
            raise IntegrityError(f"{where}: key {key!r} is not a string")
        if isinstance(cursor, bool) or not isinstance(cursor, int) or not -2**63 <= cursor < 2**63:
            raise IntegrityError(f"{where}: cursor {cursor!r} of key {key!r} is not an int of nanoseconds")
    return pa.array(keys, pa.string()), pa.array(values, pa.int64())
