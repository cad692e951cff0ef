"""Parquet copies of the published CSV files (``nidb publish --parquet``).

The CSV is the reference: each Parquet file is read back from it, codes kept as text (``01``
stays ``01``), counts as integers with hidden cells null, rates as floats and the suppression
flag as a boolean — so both formats say exactly the same thing.
"""

from __future__ import annotations

import os
from pathlib import Path

INTEGER_COLUMNS = frozenset(
    {"participants", "cardholders", "insured", "uninsured", "population", "visits",
     "default_benefit_level"}
)  # fmt: skip
FLOAT_COLUMNS = frozenset({"coverage_rate"})
BOOLEAN_COLUMNS = frozenset({"suppressed"})


def write_parquet_copy(csv_path: Path) -> Path:
    """Write ``<name>.parquet`` next to ``csv_path`` (atomically); its path."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    header = csv_path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    table = pacsv.read_csv(
        csv_path,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
        ),
    )
    columns = []
    for name in table.column_names:
        column = table[name]
        if name in INTEGER_COLUMNS | FLOAT_COLUMNS:
            target = pa.int64() if name in INTEGER_COLUMNS else pa.float64()
            values = [None if v in ("", None) else v for v in column.to_pylist()]
            column = pa.array(
                [None if v is None else (int(v) if name in INTEGER_COLUMNS else float(v))
                 for v in values],
                type=target,
            )  # fmt: skip
        elif name in BOOLEAN_COLUMNS:
            column = pa.array([v == "true" for v in column.to_pylist()], type=pa.bool_())
        columns.append(column)
    typed = pa.table(columns, names=table.column_names)
    path = csv_path.with_suffix(".parquet")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(typed, temp, compression="zstd")
    os.replace(temp, path)
    return path
