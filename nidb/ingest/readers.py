"""Streaming readers for interchange files (CSV or Parquet, chosen by extension).

Readers never load a whole file: they yield chunks of rows, each row a list of cell values
(``None`` for an empty cell) in header order, with its 1-based data row number. Rows that are
broken as rows (wrong column count, invalid UTF-8, unreadable CSV) come out as ``RowProblem``
so the caller can quarantine them and go on.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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


def shown(value: str) -> str:
    """A cell value safe to print: undecodable bytes as ``\\xNN``."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes (the batch identity for idempotent re-imports)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class TableReader:
    """Reads a CSV or Parquet file in chunks of rows; ``header`` is known on open."""

    def __init__(self, path: Path, chunk_rows: int = 20_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        self.total_bytes = path.stat().st_size
        self.bytes_done = 0
        self.rows_read = 0
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

    # -- CSV -------------------------------------------------------------------------------
    def _open_csv(self) -> None:
        if self.total_bytes == 0:
            raise FileError(self.path, "tệp rỗng, không có dòng tiêu đề", "empty file: no header")
        # surrogateescape lets one bad byte spoil one row, not the whole file
        self._text: IO[str] = self.path.open(
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
        self.total_rows: int | None = None

    def _csv_chunks(self) -> Iterator[tuple[list[Row], list[RowProblem]]]:
        width = len(self.header)
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
                try:
                    "\x1f".join(cells).encode("utf-8")
                except UnicodeEncodeError:
                    column, value = next(
                        (name, cell)
                        for name, cell in zip(self.header, cells, strict=True)
                        if _has_surrogate(cell)
                    )
                    problems.append(
                        RowProblem(
                            row_number,
                            column,
                            shown(value),
                            "ENCODING_INVALID",
                            "không phải UTF-8 hợp lệ (invalid UTF-8)",
                        )
                    )
                else:
                    rows.append((row_number, [cell if cell.strip() else None for cell in cells]))
            if len(rows) + len(problems) >= self.chunk_rows:
                self._csv_progress(row_number)
                yield rows, problems
                rows, problems = [], []
        self._csv_progress(row_number)
        self.bytes_done = self.total_bytes
        yield rows, problems

    def _csv_progress(self, row_number: int) -> None:
        self.rows_read = row_number
        with contextlib.suppress(OSError, ValueError):
            self.bytes_done = min(self._text.buffer.tell(), self.total_bytes)

    # -- Parquet -----------------------------------------------------------------------------
    def _open_parquet(self) -> None:
        try:
            self._parquet = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise FileError(
                self.path, f"không đọc được tệp Parquet: {exc}", f"unreadable Parquet file: {exc}"
            ) from None
        self.header = list(self._parquet.schema_arrow.names)
        self.total_rows = self._parquet.metadata.num_rows

    def _parquet_chunks(self) -> Iterator[tuple[list[Row], list[RowProblem]]]:
        row_number = 0
        try:
            for batch in self._parquet.iter_batches(batch_size=self.chunk_rows):
                columns = [_as_text(batch.column(i)) for i in range(batch.num_columns)]
                rows: list[Row] = []
                for cells in zip(*columns, strict=True):
                    row_number += 1
                    rows.append(
                        (row_number, [c if c is not None and c.strip() else None for c in cells])
                    )
                self.rows_read = row_number
                self.bytes_done = int(self.total_bytes * row_number / max(self.total_rows or 1, 1))
                yield rows, []
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
    """A Parquet column as text cells, whatever its physical type."""
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_boolean(array.type):
        return [None if v is None else ("1" if v else "0") for v in array.to_pylist()]
    return pc.cast(array, pa.string()).to_pylist()  # type: ignore[no-any-return]
