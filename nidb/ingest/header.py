"""Is a file's header usable for a layout? Checked before any row is read.

A file missing a required column, or a Parquet file with a column of a type the layout cannot
read, is refused whole with a message naming each column (exit 2), so nothing of it loads:
a BHXH code stored as a float (98000000.06 would read as 9800000006), a gender stored as a
boolean (True would read as 1, male) or a list or struct column has no right reading.
"""

from __future__ import annotations

import pyarrow as pa

from nidb.ingest.layouts import CellType, Layout
from nidb.ingest.readers import FileError, TableReader

EXPECTED: dict[CellType, tuple[str, str]] = {
    CellType.TEXT: ("văn bản (string)", "text (string)"),
    CellType.INTEGER: ("văn bản hoặc số nguyên", "text or integer"),
    CellType.DATE: ("văn bản hoặc ngày (date)", "text or date"),
    CellType.TIMESTAMP: (
        "văn bản, ngày hoặc thời điểm không múi giờ",
        "text, date or timestamp without time zone",
    ),
    CellType.FLAG: ("văn bản, boolean hoặc số nguyên 0/1", "text, boolean or integer 0/1"),
}
"""What each kind of column may be stored as in Parquet (Vietnamese, English)."""


def accepts(cell_type: CellType, arrow_type: pa.DataType) -> bool:
    """Whether a Parquet column of ``arrow_type`` can be read as ``cell_type``."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return True
    if pa.types.is_null(arrow_type):  # a column with no value at all
        return True
    if cell_type is CellType.INTEGER:
        return bool(pa.types.is_integer(arrow_type))
    if cell_type is CellType.DATE:
        return bool(pa.types.is_date(arrow_type))
    if cell_type is CellType.TIMESTAMP:
        return bool(
            pa.types.is_date(arrow_type)
            or (pa.types.is_timestamp(arrow_type) and arrow_type.tz is None)
        )
    if cell_type is CellType.FLAG:
        return bool(pa.types.is_boolean(arrow_type) or pa.types.is_integer(arrow_type))
    return False


def check_header(layout: Layout, reader: TableReader) -> list[str]:
    """The layout's columns present in the file, in file order; ``FileError`` if unusable.

    Narrows ``reader`` to those columns: the others are neither read nor checked.
    """
    present = set(reader.header)
    missing = [name for name in layout.required if name not in present]
    if missing:
        raise FileError(
            reader.path,
            f"thiếu cột bắt buộc: {', '.join(missing)}",
            f"missing required column(s): {', '.join(missing)}",
        )
    wanted = set(layout.columns)
    used = [name for name in reader.header if name in wanted]
    if reader.arrow_types is not None:
        wrong = [
            (name, layout.cell_type(name), reader.arrow_types[name])
            for name in used
            if not accepts(layout.cell_type(name), reader.arrow_types[name])
        ]
        if wrong:
            raise FileError(
                reader.path,
                "; ".join(
                    f"cột {name} có kiểu {found}, cần {EXPECTED[kind][0]}"
                    for name, kind, found in wrong
                ),
                "; ".join(
                    f"column {name} is of type {found}, expected {EXPECTED[kind][1]}"
                    for name, kind, found in wrong
                ),
            )
    reader.use(used)
    return used
