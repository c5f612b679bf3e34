"""DeltaSink: writes and reads the bronze Delta tables; the only module that imports deltalake."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import typing as t

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties
from deltalake import DeltaTable
from deltalake import Field
from deltalake import QueryBuilder
from deltalake import write_deltalake

from . import crashpoints
from .deltaread import arrow_filesystem
from .deltaread import dataset as arrow_dataset
from .errors import ConnectorError
from .errors import IntegrityError
from .errors import SinkError
from .tables import get as get_table
from .tables.base import schema_differences

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from collections.abc import Mapping
    from collections.abc import Sequence

    from .tables.base import Table

    TableLike: t.TypeAlias = type[Table] | Table | str
    ArrowData: t.TypeAlias = pa.Table | pa.RecordBatch | Sequence[pa.RecordBatch] | pa.RecordBatchReader
    Filter: t.TypeAlias = pc.Expression | list | str

log = logging.getLogger(__name__)

URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: How many duplicate keys an IntegrityError quotes.
DUPLICATE_SAMPLE = 3
SOURCE = "s"
TARGET = "t"
DELETE_MARKER = "__pi_connector_delete"  # a MERGE source column: this source row deletes its key


class DeltaSink:
    """The bronze tables under one root: create, append, MERGE, delete, read.

    Every table is `<root>/<table.name>`. Each call opens the table afresh (so it sees other writers'
    commits), checks its schema once per sink, and wraps deltalake's errors into `SinkError` naming the
    table and the operation. Data is checked against the table's schema before anything is written.

    Args:
        root: A local directory (created if missing) or any URI deltalake supports (`s3://...`,
            `abfss://...`, `file:///...`), passed through as is.
        storage_options: Options for deltalake's object store (credentials, endpoints); never logged.
    """

    def __init__(
        self, root: str | os.PathLike[str], storage_options: Mapping[str, str] | None = None
    ) -> None:
        text = os.fspath(root)
        if URI_SCHEME.match(text):
            self.root = text.rstrip("/")
            self.local = False
        else:
            self.root = os.path.abspath(text)
            self.local = True
            os.makedirs(self.root, exist_ok=True)
        self.storage_options = dict(storage_options) if storage_options else None
        self._checked: set[type[Table]] = set()

    def __repr__(self) -> str:
        return f"DeltaSink({self.root!r})"

    # -- where and whether ------------------------------------------------------------------------------

    def uri(self, table: TableLike) -> str:
        """Where `table` lives: `<root>/<name>`."""
        name = resolve(table).name
        return os.path.join(self.root, name) if self.local else f"{self.root}/{name}"

    def exists(self, table: TableLike) -> bool:
        """True if `table` is a Delta table already."""
        table = resolve(table)
        with self._errors(table, "check existence of"):
            return DeltaTable.is_deltatable(self.uri(table), self.storage_options)

    def version(self, table: TableLike) -> int | None:
        """The latest version of `table`, or None if it does not exist."""
        table = resolve(table)
        if not self.exists(table):
            return None
        return self._open(table).version()

    def ensure(self, table: TableLike) -> int:
        """Create `table` if it is missing, else check its schema and partitioning; nothing is overwritten.

        Returns:
            The table's latest version.

        Raises:
            SinkError: The existing table's schema or partition columns differ from the declaration
                (the message lists the differing columns).
        """
        table = resolve(table)
        if table in self._checked:
            return self._open(table).version()
        if not self.exists(table):
            with self._errors(table, "create"):
                DeltaTable.create(
                    self.uri(table),
                    table.schema,
                    mode="ignore",
                    partition_by=list(table.partition_by) or None,
                    name=table.name,
                    description=table.description or None,
                    storage_options=self.storage_options,
                )
            log.info("created Delta table %s at %s", table.name, self.uri(table))
        delta = self._open(table)
        with self._errors(table, "read the schema of"):
            existing = pa.schema(delta.schema().to_arrow())
            partitions = tuple(delta.metadata().partition_columns)
        added = _added_columns(table.schema, existing)
        if added:  # a table written before the declaration grew: its new (nullable, last) columns are added
            with self._errors(table, "add columns to"):
                delta.alter.add_columns([Field.from_arrow(f) for f in added])
            log.info("added column(s) %s to Delta table %s", [f.name for f in added], table.name)
            delta = self._open(table)
            existing = pa.schema(delta.schema().to_arrow())
        problems = schema_differences(table.schema, existing)
        if partitions != tuple(table.partition_by):
            problems.append(f"partitioned by {list(partitions)}, expected {list(table.partition_by)}")
        if problems:
            raise SinkError(
                f"table {table.name!r} at {self.uri(table)} does not match its declaration: "
                + "; ".join(problems)
                + " (nothing was written; migrate or move the table)"
            )
        self._checked.add(table)
        return delta.version()

    # -- writes -----------------------------------------------------------------------------------------

    def append(
        self, table: TableLike, data: ArrowData, *, metadata: Mapping[str, t.Any] | None = None,
        unique_keys: bool = False,
    ) -> int:
        """Append rows (no key check against the table: the caller knows they are new).

        A materialized batch (Table, RecordBatch or list of them) is validated whole, rejected if it holds
        one key twice, and not written at all when empty. A RecordBatchReader is streamed: each batch is
        validated as it passes (no key check). `unique_keys=True` skips the duplicate check for a caller
        whose keys are unique by construction (the recorded job numbers same-timestamp events).

        Args:
            table: The table (class, instance or name).
            data: The rows, with exactly the table's schema.
            metadata: Custom commit metadata (JSON-serializable values), visible in `history()`.

        Returns:
            The version of the new commit (the current version when nothing was written).
        """
        table = resolve(table)
        rejected: list[IntegrityError] = []
        if isinstance(data, pa.RecordBatchReader):
            source: pa.Table | pa.RecordBatchReader = validated_reader(table, data, rejected)
        else:
            source = materialize(table, data)
            table.validate(source)
            if not unique_keys:
                reject_duplicate_keys(table, source)
        delta = self._prepare(table)
        if isinstance(source, pa.Table) and source.num_rows == 0:
            return delta.version()
        try:
            with self._commit(table, "append to"):
                write_deltalake(
                    delta,
                    source,
                    mode="append",
                    partition_by=list(table.partition_by) or None,
                    commit_properties=commit_properties(metadata),
                )
                return delta.version()
        except SinkError:
            if rejected:  # a batch failed validation inside deltalake's read of the stream; nothing committed
                raise rejected[0] from None
            raise

    def merge(
        self,
        table: TableLike,
        data: ArrowData,
        *,
        insert_only: bool = False,
        update: Mapping[str, str] | None = None,
        metadata: Mapping[str, t.Any] | None = None,
        delete: ArrowData | None = None,
    ) -> int:
        """MERGE rows on the table's primary key: update the rows that match, insert the others.

        The predicate compares the partition columns first (they derive from the key), so deltalake's
        early filter only scans the target files of the dates the source touches.

        Args:
            table: The table (class, instance or name).
            data: The rows, with exactly the table's schema; materialized (a MERGE needs it whole).
            insert_only: Leave matching rows untouched; only insert rows whose key is new.
            update: SQL expressions for some target columns of a matched row, e.g. `{"cursor_ns": "CASE
                WHEN s.cursor_ns > t.cursor_ns THEN s.cursor_ns ELSE t.cursor_ns END"}` (aliases `s` and
                `t`); the other columns take the source's value. Ignored with `insert_only`.
            metadata: Custom commit metadata (JSON-serializable values), visible in `history()`.
            delete: Rows (the table's schema) whose keys are deleted in the same commit; their keys
                must not be in `data`.

        Returns:
            The version of the new commit (the current version when `data` and `delete` are empty).

        Raises:
            IntegrityError: `data` does not fit the schema, or holds one key twice (a MERGE with
                duplicate source keys is undefined).
            SinkError: deltalake failed.
        """
        table = resolve(table)
        source = materialize(table, data)
        table.validate(source)
        doomed = materialize(table, delete) if delete is not None else table.schema.empty_table()
        table.validate(doomed)
        reject_duplicate_keys(table, pa.concat_tables([source, doomed]) if doomed.num_rows else source)
        if update:
            unknown = sorted(set(update) - set(table.schema.names))
            if unknown:
                raise SinkError(f"merge into {table.name!r}: update names unknown columns {unknown}")
        delta = self._prepare(table)
        if doomed.num_rows:
            return self._merge_and_delete(table, delta, source, doomed, insert_only, update, metadata)
        if source.num_rows == 0:
            return delta.version()
        if self._is_empty(delta):  # nothing to match: a plain write, without a join engine's memory
            with self._commit(table, "write to empty"):
                write_deltalake(delta, source, mode="append", partition_by=list(table.partition_by) or None,
                                commit_properties=commit_properties(metadata))
                return delta.version()
        with self._commit(table, "merge into"):
            merger = _merger(table, delta, source, metadata)
            if not insert_only:
                if update:
                    merger = merger.when_matched_update(_assignments(table, update))
                else:
                    merger = merger.when_matched_update_all()
            metrics = merger.when_not_matched_insert_all().execute()
            log.debug("merge into %s: %s", table.name, metrics)
            return delta.version()

    def _merge_and_delete(self, table: type[Table], delta: DeltaTable, source: pa.Table, doomed: pa.Table,
                          insert_only: bool, update: Mapping[str, str] | None,
                          metadata: Mapping[str, t.Any] | None) -> int:
        """One MERGE commit that upserts `source` and deletes the keys of `doomed`: both go in as
        one source, told apart by a marker column that is never written."""
        marked = pa.concat_tables([
            source.append_column(DELETE_MARKER, pa.repeat(pa.scalar(False), source.num_rows)),
            doomed.append_column(DELETE_MARKER, pa.repeat(pa.scalar(True), doomed.num_rows)),
        ])
        doomed_row = f"{SOURCE}.`{DELETE_MARKER}`"
        kept_row = f"NOT {doomed_row}"
        with self._commit(table, "merge into"):
            merger = _merger(table, delta, marked, metadata).when_matched_delete(predicate=doomed_row)
            if not insert_only:
                merger = merger.when_matched_update(_assignments(table, update), predicate=kept_row)
            inserts = {f"{TARGET}.`{name}`": f"{SOURCE}.`{name}`" for name in table.schema.names}
            metrics = merger.when_not_matched_insert(inserts, predicate=kept_row).execute()
            log.debug("merge (with deletes) into %s: %s", table.name, metrics)
            return delta.version()

    def delete(
        self, table: TableLike, predicate: str | None = None, *, metadata: Mapping[str, t.Any] | None = None
    ) -> int:
        """Delete the rows matching a SQL `predicate` (all rows if None); returns the new version.

        A missing table is left missing (returns -1).
        """
        table = resolve(table)
        if not self.exists(table):
            return -1
        delta = self._prepare(table)
        with self._commit(table, "delete from"):
            delta.delete(predicate, commit_properties=commit_properties(metadata))
            return delta.version()

    def compact(self, table: TableLike) -> int:
        """Rewrite small files into larger ones (OPTIMIZE; no data change); returns the table's version.

        Appends and MERGEs add a file per touched date each time, and a MERGE scans every file of the
        dates (and key ranges) its source touches, so compacting now and then keeps MERGEs cheap.
        """
        table = resolve(table)
        if not self.exists(table):
            return -1
        delta = self._prepare(table)
        with self._errors(table, "compact"):
            metrics = delta.optimize.compact()
            log.info("compacted %s: %s", table.name, metrics)
            return delta.version()

    # -- reads ------------------------------------------------------------------------------------------

    def read(
        self, table: TableLike, columns: Sequence[str] | None = None, filter_expr: Filter | None = None
    ) -> pa.Table:
        """Rows of `table` (in no particular order); an empty table if it does not exist yet.

        Args:
            table: The table (class, instance or name).
            columns: The columns to return, in this order (default all).
            filter_expr: A pyarrow compute expression or DNF filter list (files are pruned by partition
                values and statistics), or a SQL WHERE clause (run by deltalake's QueryBuilder).

        Returns:
            A pyarrow Table with the table's types (SQL results are cast back from string views).
        """
        table = resolve(table)
        names = list(columns) if columns is not None else list(table.schema.names)
        unknown = [name for name in names if name not in table.schema.names]
        if unknown:
            raise SinkError(f"read {table.name!r}: unknown columns {unknown}; it has {table.schema.names}")
        schema = pa.schema([table.schema.field(name) for name in names])
        if not self.exists(table):
            return schema.empty_table()
        delta = self._open(table)
        with self._errors(table, "read"):
            if isinstance(filter_expr, str):
                projection = ", ".join(f'"{name}"' for name in names)
                sql = f'SELECT {projection} FROM "{table.name}" WHERE {filter_expr}'
                result = pa.table(QueryBuilder().register(table.name, delta).execute(sql).read_all())
                return pa.Table.from_arrays(
                    [column.cast(field.type) for column, field in zip(result.columns, schema)], schema=schema
                )
            return delta.to_pyarrow_table(
                columns=names, filters=filter_expr, filesystem=arrow_filesystem(self.uri(table), self.storage_options)
            )

    def count(self, table: TableLike) -> int:
        """The exact number of rows (from the files' statistics; a scan if some file has none)."""
        table = resolve(table)
        if not self.exists(table):
            return 0
        delta = self._open(table)
        with self._errors(table, "count"):
            counts = delta.get_add_actions(flatten=True).column("num_records").to_pylist()
            if all(value is not None for value in counts):
                return int(sum(counts))
            return arrow_dataset(delta, self.uri(table), self.storage_options).count_rows()

    def history(self, table: TableLike, limit: int | None = None) -> list[dict[str, t.Any]]:
        """Commit infos, newest first; [] if the table does not exist.

        Each is a dict with `version`, `timestamp` (ms), `operation` ("WRITE", "MERGE", ...),
        `operationParameters`, `operationMetrics` and any custom commit metadata as top-level keys.
        """
        table = resolve(table)
        if not self.exists(table):
            return []
        with self._errors(table, "read the history of"):
            return self._open(table).history(limit)

    # -- internals --------------------------------------------------------------------------------------

    @staticmethod
    def _is_empty(delta: DeltaTable) -> bool:
        """No data file at all (a table just created, or never written)."""
        return not delta.file_uris()

    def _prepare(self, table: type[Table]) -> DeltaTable:
        """The table opened for a write: created or schema-checked first (once per sink)."""
        if table not in self._checked:
            self.ensure(table)
        return self._open(table)

    def _open(self, table: type[Table]) -> DeltaTable:
        with self._errors(table, "open"):
            return DeltaTable(self.uri(table), storage_options=self.storage_options)

    @contextlib.contextmanager
    def _commit(self, table: type[Table], operation: str) -> Iterator[None]:
        """Around a write that commits: its errors as for `_errors`, and the crash points of one."""
        with self._errors(table, operation), crashpoints.writing(self.uri(table)):
            yield

    @contextlib.contextmanager
    def _errors(self, table: type[Table], operation: str) -> Iterator[None]:
        """Turn any deltalake (or Arrow) failure into a SinkError naming the table and the operation."""
        try:
            yield
        except ConnectorError:
            raise
        except Exception as exc:
            where = f"{operation} table {table.name!r} at {self.uri(table)}"
            raise SinkError(f"{where} failed: {type(exc).__name__}: {exc}") from exc


def _added_columns(declared: pa.Schema, existing: pa.Schema) -> list[pa.Field]:
    """The declaration's trailing nullable columns that an older table lacks (nothing else missing)."""
    names = existing.names
    if len(names) >= len(declared) or declared.names[:len(names)] != names:
        return []
    extra = list(declared)[len(names):]
    return extra if all(f.nullable for f in extra) else []


def resolve(table: TableLike) -> type[Table]:
    """The table class for a class, an instance or a registered name."""
    if isinstance(table, str):
        return get_table(table)
    return table if isinstance(table, type) else type(table)


def commit_properties(metadata: Mapping[str, t.Any] | None) -> CommitProperties | None:
    """deltalake's CommitProperties carrying custom metadata, or None."""
    return CommitProperties(custom_metadata=dict(metadata)) if metadata else None


def materialize(table: type[Table], data: ArrowData) -> pa.Table:
    """One pa.Table from a Table, RecordBatch, list of batches or RecordBatchReader."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    batches = list(data)
    if not batches:
        return table.empty()
    try:
        return pa.Table.from_batches(batches)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise IntegrityError(f"batches for table {table.name!r} do not share one schema: {exc}") from exc


def validated_reader(
    table: type[Table], reader: pa.RecordBatchReader, rejected: list[IntegrityError]
) -> pa.RecordBatchReader:
    """A reader that checks each batch against the table's schema as it passes.

    deltalake reads the stream in Rust and reports a Python error raised there as its own, so the
    IntegrityError of a bad batch is also appended to `rejected` for the caller to raise instead.
    """
    table.validate(reader.schema.empty_table())

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            try:
                table.validate(batch)
            except IntegrityError as exc:
                rejected.append(exc)
                raise
            yield batch

    return pa.RecordBatchReader.from_batches(table.schema, batches())


def reject_duplicate_keys(table: type[Table], data: pa.Table) -> None:
    """Raise IntegrityError if two rows of `data` share one primary key (quoting a few of them).

    Sorts the key columns (strings by their dictionary codes) with numpy and compares neighbours: about
    50 ms per million rows, several times faster than an Arrow group_by.
    """
    if data.num_rows < 2:
        return
    keys = list(table.primary_keys)
    columns = [key_codes(data.column(key)) for key in keys]
    order = np.lexsort(columns[::-1])
    same = np.ones(data.num_rows - 1, dtype=bool)
    for codes in columns:
        ordered = codes[order]
        same &= ordered[1:] == ordered[:-1]
    if not same.any():
        return
    positions = order[1:][same]
    sample = data.select(keys).take(pa.array(positions[:DUPLICATE_SAMPLE])).to_pylist()
    raise IntegrityError(
        f"{len(positions)} row(s) of table {table.name!r} repeat a key already in the same write "
        f"(key {keys}); e.g. {sample}"
    )


def key_codes(column: pa.ChunkedArray) -> np.ndarray:
    """A key column as a numpy array that sorts and compares like it (strings -> dictionary codes)."""
    array = column.combine_chunks()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_string_view(
        array.type
    ):
        array = array.dictionary_encode().indices
    elif pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        array = array.cast(pa.int64()) if pa.types.is_timestamp(array.type) else array.cast(pa.int32())
    return array.to_numpy(zero_copy_only=False)


def _merger(table: type[Table], delta: DeltaTable, source: pa.Table, metadata: Mapping[str, t.Any] | None):
    """deltalake's MERGE builder for `source` on the table's key (source `s`, target `t`)."""
    return delta.merge(
        source,
        predicate=table.merge_predicate(SOURCE, TARGET),
        source_alias=SOURCE,
        target_alias=TARGET,
        streamed_exec=False,  # lets deltalake derive a file-pruning filter from the source
        commit_properties=commit_properties(metadata),
    )


def _assignments(table: type[Table], update: Mapping[str, str] | None) -> dict[str, str]:
    """SET clauses of a matched row: every column from the source, except those `update` computes."""
    assignments = {f"{TARGET}.`{name}`": f"{SOURCE}.`{name}`" for name in table.schema.names}
    for name, expression in (update or {}).items():
        assignments[f"{TARGET}.`{name}`"] = expression
    return assignments
