"""connector.spark.schema: the bronze tables' Arrow schemas as Spark StructTypes (one declaration, converted)."""
from __future__ import annotations

import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType


def spark_schema(schema: pa.Schema) -> StructType:
    """The same columns, types and nullability in Spark's terms (timestamps as TIMESTAMP, UTC)."""
    return from_arrow_schema(schema)
