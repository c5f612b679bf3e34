"""Tests of connector.tables: the registry, the declared schemas, the docs and validate()."""
from __future__ import annotations

import pyarrow as pa
import pytest

from connector import tables
from connector.errors import IntegrityError
from connector.tables import Column
from connector.tables import Table

TS = pa.timestamp("us", tz="UTC")
ALL = list(tables.TABLES.values())


def test_registry_is_stable_and_complete():
    assert list(tables.TABLES) == [
        "points", "recorded_values", "interpolated_values", "summary_values", "af_elements", "af_attributes",
        "event_frames", "event_frame_attributes", "run_log", "_checkpoints",
    ]
    for name, table in tables.TABLES.items():
        assert table.name == name
        assert tables.get(name) is table


def test_get_unknown_table_lists_the_known_ones():
    with pytest.raises(KeyError) as caught:
        tables.get("recorded_value")
    message = str(caught.value)
    assert message.startswith("unknown table 'recorded_value'; known tables: points, recorded_values")
    assert "_checkpoints" in message


@pytest.mark.parametrize("table", ALL, ids=lambda table: table.name)
def test_declaration_is_consistent(table: type[Table]):
    names = table.schema.names
    assert len(set(names)) == len(names)
    for key in table.primary_keys:
        assert not table.schema.field(key).nullable, key
    for column in table.partition_by:
        assert column in names
        assert not table.schema.field(column).nullable, column
    for attribute in (table.cursor_field, table.cursor_key):
        assert attribute is None or attribute in names
    assert table.ingestion_type in ("cdc", "append", "snapshot")
    assert table.description
    assert list(table.column_descriptions) == names
    assert all(table.column_descriptions.values())
    for field in table.schema:
        if pa.types.is_timestamp(field.type):
            assert field.type == TS, field.name
    assert table.empty().schema.equals(table.schema)
    assert table.empty().num_rows == 0


def test_recorded_values_schema():
    schema = tables.RecordedValues.schema
    assert schema.names == [
        "web_id", "tag", "timestamp", "timestamp_ns", "ordinal", "value", "string_value", "digital_name",
        "digital_code", "is_system", "good", "questionable", "substituted", "annotated", "units", "date",
        "ingested_at", "run_id", "errors",
    ]
    assert schema.field("timestamp_ns").type == pa.int64()
    assert schema.field("ordinal").type == pa.int32()
    assert schema.field("value").type == pa.float64()
    assert schema.field("digital_code").type == pa.int32()
    assert schema.field("date").type == pa.date32()
    assert tables.RecordedValues.primary_keys == ("web_id", "timestamp_ns", "ordinal")
    assert tables.RecordedValues.cursor_field == "timestamp_ns"
    assert tables.RecordedValues.cursor_key == "web_id"
    assert tables.RecordedValues.partition_by == ("date",)


def test_other_schemas_follow_the_design():
    interpolated = tables.InterpolatedValues.schema
    assert "ordinal" not in interpolated.names and "interval" in interpolated.names
    assert tables.InterpolatedValues.primary_keys == ("web_id", "timestamp_ns")
    keys = ("web_id", "summary_type", "calculation_basis", "duration", "start_ns")
    assert tables.SummaryValues.primary_keys == keys
    assert tables.SummaryValues.schema.field("end").type == TS
    assert tables.AFElements.schema.field("categories").type == pa.list_(pa.string())
    assert tables.AFElements.schema.field("depth").type == pa.int32()
    assert tables.EventFrames.schema.field("ref_element_web_ids").type == pa.list_(pa.string())
    assert tables.EventFrames.schema.field("end_time").nullable
    assert tables.EventFrameAttributes.primary_keys == ("event_frame_web_id", "name")
    assert tables.RunLog.ingestion_type == "append"
    assert tables.RunLog.schema.field("seq").type == pa.int64()
    assert tables.CheckpointsTable.name == "_checkpoints" and tables.CheckpointsTable.internal
    assert tables.CheckpointsTable.schema.names == [
        "table_name", "key", "cursor_ns", "data_version", "run_id", "updated_at",
    ]
    assert tables.Points.schema.field("point_id").type == pa.int32()
    assert tables.Points.schema.field("step").type == pa.bool_()


def test_markdown_renders_every_column():
    text = tables.RecordedValues.markdown()
    lines = text.splitlines()
    assert lines[0] == "### `recorded_values`"
    assert "- key: `web_id`, `timestamp_ns`, `ordinal`" in lines
    assert "- cursor: `timestamp_ns` per `web_id`" in lines
    assert "- partitioned by: `date`" in lines
    timestamp_ns = "Exact event time: ns since the Unix epoch (multiples of 100)."
    value = "Numeric value; null for digital, string and system-state values."
    assert f"| `timestamp_ns` | int64 | no | {timestamp_ns} |" in lines
    assert f"| `value` | float64 | yes | {value} |" in lines
    rows = [line for line in lines if line.startswith("| `")]
    assert len(rows) == len(tables.RecordedValues.schema)
    assert "- cursor: search window end per `database`" in tables.EventFrames.markdown()
    assert "| `categories` | list<string> | yes |" in tables.AFElements.markdown(level=2)


def test_all_docs_cover_the_data_tables_only():
    text = tables.markdown()
    for table in ALL:
        assert (f"### `{table.name}`" in text) is not table.internal


def row_batch(**overrides: object) -> pa.Table:
    row = {"run_id": "r1", "seq": 0, "at": 0, "level": "INFO", "event": "start"} | overrides
    return pa.Table.from_pylist([row], schema=tables.RunLog.schema)


def test_validate_accepts_the_exact_schema():
    tables.RunLog.validate(row_batch())
    tables.RunLog.validate(row_batch().to_batches()[0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop_columns(["message"]), "missing columns ['message']"),
        (lambda t: t.append_column("extra", pa.array([1])), "unexpected columns ['extra']"),
        (lambda t: t.set_column(1, "seq", pa.array([0], pa.int32())), "'seq' is int32, expected int64"),
        (
            lambda t: t.cast(pa.schema([f.with_nullable(True) for f in t.schema])),
            "column 'run_id' is nullable, expected non-null",
        ),
        (
            lambda t: t.select(["seq", "run_id", *t.schema.names[2:]]),
            "columns are in the order ['seq', 'run_id',",
        ),
        (
            lambda t: pa.Table.from_arrays(
                [pa.array([None], pa.string()), *t.columns[1:]], schema=t.schema
            ),
            "column 'run_id' is non-null but holds 1 null(s)",
        ),
    ],
    ids=["missing", "extra", "type", "nullability", "order", "nulls"],
)
def test_validate_rejects_a_wrong_batch_naming_the_column(change, message):
    with pytest.raises(IntegrityError) as caught:
        tables.RunLog.validate(change(row_batch()))
    assert str(caught.value).startswith("batch for table 'run_log' does not fit its schema: ")
    assert message in str(caught.value)


def test_predicates_compare_partitions_then_keys():
    assert tables.Points.key_predicate() == "t.`web_id` = s.`web_id`"
    assert tables.Points.merge_predicate() == "t.`web_id` = s.`web_id`"
    assert tables.RecordedValues.merge_predicate("src", "tgt") == (
        "tgt.`date` = src.`date` AND tgt.`web_id` = src.`web_id` AND tgt.`timestamp_ns` = src.`timestamp_ns` "
        "AND tgt.`ordinal` = src.`ordinal`"
    )


def test_a_bad_declaration_fails_when_the_class_is_defined():
    with pytest.raises(TypeError, match=r"table class Broken: primary_keys names unknown columns \['id'\]"):

        class Broken(Table):
            name = "broken"
            primary_keys = ("id",)
            columns = (Column("web_id", pa.string(), "x"),)

    with pytest.raises(TypeError, match="ingestion_type 'upsert' is not one of"):

        class Broken2(Table):
            name = "broken"
            primary_keys = ("web_id",)
            ingestion_type = "upsert"
            columns = (Column("web_id", pa.string(), "x"),)
