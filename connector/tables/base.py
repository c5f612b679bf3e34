"""Table: the declaration every bronze table subclasses (name, key, cursor, partitioning, schema, docs)."""
from __future__ import annotations

import typing as t

import pyarrow as pa

from ..errors import IntegrityError

INGESTION_TYPES = ("cdc", "append", "snapshot")
TIMESTAMP = pa.timestamp("us", tz="UTC")


class Column(t.NamedTuple):
    """One column of a bronze table: name, Arrow type, description and whether it may hold nulls.

    Primary-key and partition columns are made non-null by `Table` whatever `nullable` says.
    """

    name: str
    type: pa.DataType
    description: str
    nullable: bool = True


AUDIT_COLUMNS = (
    Column("ingested_at", TIMESTAMP, "When the connector wrote the row (UTC).", nullable=False),
    Column("run_id", pa.string(), "The connector run that wrote the row (see `run_log`).", nullable=False),
)


class Table:
    """A bronze table, declared as class attributes (as a Meltano stream declares its own).

    Subclasses set `name`, `primary_keys`, `columns` and `description`, plus `cursor_field`/`cursor_key`,
    `partition_by` and `ingestion_type` where they differ from the defaults. `schema` and
    `column_descriptions` are derived from `columns` when the subclass is defined, and the declaration is
    checked then: a key, cursor or partition column that is not a column is a `TypeError` at import time.

    Partition columns must be functions of the primary key (as `date` is of `timestamp_ns`), so a row
    never moves between partitions and a MERGE may compare them to prune files.

    Attributes:
        name: The Delta table's name (a folder under the sink's root).
        primary_keys: Columns that identify a row; non-null.
        cursor_field: The column whose maximum is the incremental bookmark, or None.
        cursor_key: The column the bookmark is kept per (e.g. "web_id"), or None for one bookmark.
        cursor_doc: How the cursor reads in the docs, when it is not simply `cursor_field` per `cursor_key`.
        partition_by: Partition columns (derived from the key); non-null.
        ingestion_type: "cdc" (upsert by key), "append" or "snapshot" (overwrite each run).
        internal: True for the connector's own bookkeeping tables (not offered as data).
        description: One paragraph for the docs.
        columns: The column declarations, in table order.
        schema: The Arrow schema (derived).
        column_descriptions: Column name -> description (derived).
    """

    name: t.ClassVar[str]
    primary_keys: t.ClassVar[tuple[str, ...]]
    cursor_field: t.ClassVar[str | None] = None
    cursor_key: t.ClassVar[str | None] = None
    cursor_doc: t.ClassVar[str | None] = None
    partition_by: t.ClassVar[tuple[str, ...]] = ()
    ingestion_type: t.ClassVar[str] = "cdc"
    internal: t.ClassVar[bool] = False
    description: t.ClassVar[str] = ""
    columns: t.ClassVar[tuple[Column, ...]]
    schema: t.ClassVar[pa.Schema]
    column_descriptions: t.ClassVar[dict[str, str]]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "columns" not in cls.__dict__:
            return
        where = f"table class {cls.__name__}"
        names = [column.name for column in cls.columns]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise TypeError(f"{where}: duplicated columns {duplicated}")
        for attribute in ("primary_keys", "partition_by"):
            unknown = [name for name in getattr(cls, attribute) if name not in names]
            if unknown:
                raise TypeError(f"{where}: {attribute} names unknown columns {unknown}")
        for attribute in ("cursor_field", "cursor_key"):
            value = getattr(cls, attribute)
            if value is not None and value not in names:
                raise TypeError(f"{where}: {attribute} {value!r} is not a column")
        if not cls.primary_keys:
            raise TypeError(f"{where}: primary_keys is empty")
        if cls.ingestion_type not in INGESTION_TYPES:
            raise TypeError(f"{where}: ingestion_type {cls.ingestion_type!r} is not one of {INGESTION_TYPES}")
        required = set(cls.primary_keys) | set(cls.partition_by)
        cls.schema = pa.schema(
            [pa.field(c.name, c.type, nullable=c.nullable and c.name not in required) for c in cls.columns]
        )
        cls.column_descriptions = {column.name: column.description for column in cls.columns}

    @classmethod
    def empty(cls) -> pa.Table:
        """An empty table with this table's schema."""
        return cls.schema.empty_table()

    @classmethod
    def validate(cls, batch: pa.Table | pa.RecordBatch) -> None:
        """Check that `batch` has exactly this table's schema and no null in a non-null column.

        Args:
            batch: A table or record batch about to be written.

        Raises:
            IntegrityError: Naming the table and every column that differs (missing, unexpected, wrong
                type or nullability, out of order) or holds nulls it must not.
        """
        problems = schema_differences(cls.schema, batch.schema)
        if not problems:
            for field in cls.schema:
                if not field.nullable:
                    nulls = batch.column(field.name).null_count
                    if nulls:
                        problems.append(f"column {field.name!r} is non-null but holds {nulls} null(s)")
        if problems:
            message = f"batch for table {cls.name!r} does not fit its schema: " + "; ".join(problems)
            raise IntegrityError(message)

    @classmethod
    def key_predicate(cls, source: str = "s", target: str = "t") -> str:
        """SQL equality of the primary keys between a MERGE's source and target aliases."""
        return " AND ".join(f"{target}.`{key}` = {source}.`{key}`" for key in cls.primary_keys)

    @classmethod
    def merge_predicate(cls, source: str = "s", target: str = "t") -> str:
        """The MERGE predicate: partition columns first (so files can be pruned), then the keys."""
        partitions = [name for name in cls.partition_by if name not in cls.primary_keys]
        terms = [f"{target}.`{name}` = {source}.`{name}`" for name in partitions]
        return " AND ".join([*terms, cls.key_predicate(source, target)])

    @classmethod
    def cursor_text(cls) -> str:
        """How the cursor reads in the docs ("-" when the table has none)."""
        if cls.cursor_doc:
            return cls.cursor_doc
        if cls.cursor_field is None:
            return "-"
        per = f" per `{cls.cursor_key}`" if cls.cursor_key else ""
        return f"`{cls.cursor_field}`{per}"

    @classmethod
    def markdown(cls, level: int = 3) -> str:
        """A markdown section documenting the table: description, key, cursor, partitions, columns.

        Args:
            level: The heading level of the section.
        """

        def names(values: t.Iterable[str]) -> str:
            return ", ".join(f"`{value}`" for value in values) or "-"

        lines = [
            f"{'#' * level} `{cls.name}`",
            "",
            cls.description.strip(),
            "",
            f"- key: {names(cls.primary_keys)}",
            f"- cursor: {cls.cursor_text()}",
            f"- partitioned by: {names(cls.partition_by)}",
            f"- ingestion: {cls.ingestion_type}",
            "",
            "| column | type | nullable | description |",
            "|---|---|---|---|",
        ]
        for field in cls.schema:
            description = cls.column_descriptions[field.name].replace("|", "\\|")
            nullable = "yes" if field.nullable else "no"
            lines.append(f"| `{field.name}` | {type_name(field.type)} | {nullable} | {description} |")
        return "\n".join(lines) + "\n"


def type_name(data_type: pa.DataType) -> str:
    """A short, readable name of an Arrow type for the docs (`list<string>`, `timestamp[us, UTC]`)."""
    if pa.types.is_list(data_type):
        return f"list<{type_name(data_type.value_type)}>"
    if pa.types.is_timestamp(data_type):
        zone = f", {data_type.tz}" if data_type.tz else ""
        return f"timestamp[{data_type.unit}{zone}]"
    if pa.types.is_date32(data_type):
        return "date"
    if pa.types.is_float64(data_type):
        return "float64"
    return str(data_type)


def schema_differences(expected: pa.Schema, actual: pa.Schema) -> list[str]:
    """Every way `actual` differs from `expected` (names, types, nullability, order), as phrases.

    An empty list means the schemas are equal apart from metadata (list item names are not compared).
    """
    problems = []
    expected_names = expected.names
    actual_names = actual.names
    repeated = sorted({name for name in actual_names if actual_names.count(name) > 1})
    if repeated:
        return [f"columns {repeated} occur more than once"]
    missing = [name for name in expected_names if name not in actual_names]
    extra = [name for name in actual_names if name not in expected_names]
    if missing:
        problems.append(f"missing columns {missing}")
    if extra:
        problems.append(f"unexpected columns {extra}")
    for field in expected:
        if field.name not in actual_names:
            continue
        other = actual.field(field.name)
        if not other.type.equals(field.type):
            problems.append(f"column {field.name!r} is {other.type}, expected {field.type}")
        if other.nullable != field.nullable:
            problems.append(
                f"column {field.name!r} is {'nullable' if other.nullable else 'non-null'}, "
                f"expected {'nullable' if field.nullable else 'non-null'}"
            )
    if not problems and expected_names != actual_names:
        problems.append(f"columns are in the order {actual_names}, expected {expected_names}")
    return problems
