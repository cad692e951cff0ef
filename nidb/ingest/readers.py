"""Streaming readers for interchange files (CSV or Parquet, chosen by extension).

Readers never load a whole file: they yield chunks of rows, each row a list of cell values
(``None`` for an empty cell) in header order, with its 1-based data row number. Rows that are
broken as rows (wrong column count, unreadable CSV, invalid UTF-8 or a control character in a
cell) come out as ``RowProblem`` so the caller can quarantine them and go on. A header that
names a column twice makes the whole file unusable (which of the two would be meant?).

No cell of any interchange file holds a control character (U+0000–U+001F, U+007F–U+009F):
names, addresses and codes have no tab, newline, NUL or terminal escape, and PostgreSQL cannot
store NUL at all, so such a row is refused the same way on every engine.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nidb.domain.errors import InputFileError

Cell = str | None
Row = tuple[int, list[Cell]]


class FileError(InputFileError):
    """The file as a whole cannot be imported (unreadable, empty, missing a column)."""

    def __init__(self, path: Path, message_vi: str, message_en: str) -> None:
        super().__init__(f"{path}: {message_vi} ({message_en})")
        self.path = path
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that could not be read as a row of the table."""

    row: int
    column: str
    value: str
    rule: str
    reason: str


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def shown(value: str) -> str:
    """A cell value safe to print: undecodable bytes and control characters as ``\\xNN``."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(_escaped, text)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (the batch identity for idempotent re-imports)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class TableReader:
    """Reads a CSV or Parquet file in chunks of rows; ``header`` is known on open.

    ``use`` narrows the rows to the columns a caller needs (the others are not read from a
    Parquet file and not checked in a CSV one: extra columns are ignored, as the interchange
    contract says).
    """

    def __init__(self, path: Path, chunk_rows: int = 20_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self.total_bytes = path.stat().st_size
        self.bytes_done = 0
        self.rows_read = 0
        self.header: list[str] = []
        """The column names, in file order (after ``use``, the columns used)."""
        self.arrow_types: dict[str, pa.DataType] | None = None
        """Each column's Arrow type (Parquet); None for CSV, where every cell is text."""
        suffix = path.suffix.lower()
        if suffix == ".csv":
            self._open_csv()
        elif suffix == ".parquet":
            self._open_parquet()
        else:
            raise FileError(
                path,
                f"định dạng tệp '{suffix or '(không có)'}' không được hỗ trợ; dùng .csv hoặc .parquet",
                f"unsupported file extension '{suffix or '(none)'}'; use .csv or .parquet",
            )
        self._width = len(self.header)
        self._keep: list[int] | None = None

    def use(self, columns: Sequence[str]) -> None:
        """Yield only ``columns`` (each in the header), in that order, from now on."""
        positions = {name: i for i, name in enumerate(self.header)}
        self._keep = [positions[name] for name in columns]
        self.header = list(columns)

    def _refuse_repeated_columns(self) -> None:
        repeated = [name for name, n in Counter(self.header).items() if name and n > 1]
        if repeated:
            self.close()
            listed = ", ".join(repeated)
            raise FileError(
                self.path,
                f"tên cột lặp lại trong dòng tiêu đề: {listed}",
                f"column name repeated in the header: {listed}",
            )

    # -- CSV -------------------------------------------------------------------------------
    def _open_csv(self) -> None:
        if self.total_bytes == 0:
            raise FileError(self.path, "tệp rỗng, không có dòng tiêu đề", "empty file: no header")
        # surrogateescape lets one bad byte spoil one row, not the whole file
        self._text: TextIO = self.path.open(
            "r", encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self._csv = csv.reader(self._text, strict=False)
        try:
            header = next(self._csv)
        except StopIteration:
            self._text.close()
            raise FileError(
                self.path, "tệp rỗng, không có dòng tiêu đề", "empty file: no header"
            ) from None
        except csv.Error as exc:
            self._text.close()
            raise FileError(
                self.path, f"không đọc được dòng tiêu đề: {exc}", f"unreadable header: {exc}"
            ) from None
        self.header = [shown(name).strip() for name in header]
        if not any(self.header):
            self._text.close()
            raise FileError(self.path, "dòng tiêu đề rỗng", "the header row is empty")
        self._refuse_repeated_columns()
        self.total_rows: int | None = None

    def _csv_chunks(self) -> Iterator[tuple[list[Row], list[RowProblem]]]:
        width = self._width
        keep = self._keep
        row_number = 0
        rows: list[Row] = []
        problems: list[RowProblem] = []
        reader = self._csv
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row_number += 1
                problems.append(
                    RowProblem(
                        row_number,
                        "*",
                        "",
                        "ROW_UNREADABLE",
                        f"dòng CSV không đọc được ({exc}) (unreadable CSV row)",
                    )
                )
                continue
            if not cells:
                continue  # a blank line is not a row
            row_number += 1
            if len(cells) != width:
                problems.append(
                    RowProblem(
                        row_number,
                        "*",
                        shown(",".join(cells))[:200],
                        "ROW_COLUMN_COUNT",
                        f"có {len(cells)} cột thay vì {width} "
                        f"(expected {width} columns, got {len(cells)})",
                    )
                )
            else:
                if keep is not None:
                    cells = [cells[i] for i in keep]
                problem = self._cell_problem(row_number, cells)
                if problem is not None:
                    problems.append(problem)
                else:
                    rows.append((row_number, [cell if cell.strip() else None for cell in cells]))
            if len(rows) + len(problems) >= self.chunk_rows:
                self._csv_progress(row_number)
                yield rows, problems
                rows, problems = [], []
        self._csv_progress(row_number)
        self.bytes_done = self.total_bytes
        yield rows, problems

    def _cell_problem(self, row_number: int, cells: Sequence[str]) -> RowProblem | None:
        """The first cell of a row that is not valid UTF-8 text free of control characters."""
        # one pass over the joined row in C; the cells are looked at only when it finds something
        line = ",".join(cells)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            column, value = next(
                (name, cell)
                for name, cell in zip(self.header, cells, strict=True)
                if _has_surrogate(cell)
            )
            return RowProblem(
                row_number,
                column,
                shown(value),
                "ENCODING_INVALID",
                "không phải UTF-8 hợp lệ (invalid UTF-8)",
            )
        if _CONTROL.search(line) is None:
            return None
        column, value = next(
            (name, cell)
            for name, cell in zip(self.header, cells, strict=True)
            if _CONTROL.search(cell)
        )
        return RowProblem(
            row_number,
            column,
            shown(value)[:200],
            "CONTROL_CHARACTER",
            "có ký tự điều khiển (NUL, tab, xuống dòng, mã thoát…) "
            "(contains a control character: NUL, tab, line break, escape…)",
        )

    def _csv_progress(self, row_number: int) -> None:
        self.rows_read = row_number
        with contextlib.suppress(OSError, ValueError):
            self.bytes_done = min(self._text.buffer.tell(), self.total_bytes)

    # -- Parquet -----------------------------------------------------------------------------
    def _open_parquet(self) -> None:
        try:
            self._parquet = pq.ParquetFile(self.path)
            schema = self._parquet.schema_arrow
        except (pa.ArrowException, OSError) as exc:
            raise FileError(
                self.path, f"không đọc được tệp Parquet: {exc}", f"unreadable Parquet file: {exc}"
            ) from None
        self.header = list(schema.names)
        self._refuse_repeated_columns()
        self.arrow_types = {field.name: field.type for field in schema}
        self.total_rows = self._parquet.metadata.num_rows

    def _parquet_chunks(self) -> Iterator[tuple[list[Row], list[RowProblem]]]:
        row_number = 0
        names = self.header if self._keep is not None else None
        try:
            for batch in self._parquet.iter_batches(batch_size=self.chunk_rows, columns=names):
                columns = [_as_text(batch.column(i)) for i in range(batch.num_columns)]
                rows: list[Row] = []
                problems: list[RowProblem] = []
                for cells in zip(*columns, strict=True):
                    row_number += 1
                    problem = self._cell_problem(row_number, [c or "" for c in cells])
                    if problem is not None:
                        problems.append(problem)
                        continue
                    rows.append(
                        (row_number, [c if c is not None and c.strip() else None for c in cells])
                    )
                self.rows_read = row_number
                self.bytes_done = int(self.total_bytes * row_number / max(self.total_rows or 1, 1))
                yield rows, problems
        except pa.ArrowException as exc:
            raise FileError(
                self.path,
                f"tệp Parquet hỏng sau dòng {row_number}: {exc}",
                f"corrupt Parquet file after row {row_number}: {exc}",
            ) from None

    # -- common ------------------------------------------------------------------------------
    def chunks(self) -> Iterator[tuple[list[Row], list[RowProblem]]]:
        """Chunks of (good rows, row problems), in file order."""
        if hasattr(self, "_csv"):
            return self._csv_chunks()
        return self._parquet_chunks()

    def close(self) -> None:
        """Release the file."""
        if hasattr(self, "_text"):
            self._text.close()

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _as_text(array: pa.Array) -> Sequence[str | None]:
    """A Parquet column as text cells (its type was checked against the layout beforehand)."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_null(kind):
        return [None] * len(array)
    if pa.types.is_boolean(kind):
        return [None if v is None else ("1" if v else "0") for v in array.to_pylist()]
    if pa.types.is_timestamp(kind):  # to the second, as the text form of the layouts has it
        seconds = pc.cast(array, pa.timestamp("s"), safe=False)
        return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S").to_pylist()  # type: ignore[no-any-return]
    return pc.cast(array, pa.string()).to_pylist()  # type: ignore[no-any-return]
