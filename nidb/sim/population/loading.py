"""Loading a `registry` interchange file (CSV or Parquet) into an in-memory Registry.

The file is streamed in record batches, never read whole. The population database is the
reference that others are checked against, so a malformed row stops the load with an error
naming the file, row, column and rule, instead of being skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from itertools import repeat
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from nidb.domain.errors import DomainError, InvalidGender, Rule
from nidb.domain.gender import parse_gender
from nidb.domain.identifiers import PersonalId
from nidb.domain.provinces import is_province_code
from nidb.sim.population.compare import clean_name, parse_wire_date, search_base
from nidb.sim.population.registry import ALIVE, DEAD, ChangeConflict, Person, Registry

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "RegistryFileError", "load_registry"]

REQUIRED_COLUMNS = ("personal_id", "full_name", "date_of_birth", "gender")
COLUMNS = (*REQUIRED_COLUMNS, "birth_province", "status", "death_date", "old_id")
"""The columns the service uses; others of the layout (address, household) are ignored.
``old_id`` (the old 9-digit ID card number, số CMND) is an optional extra column."""

_BATCH_ROWS = 65_536
_T = TypeVar("_T")


class RegistryFileError(Exception):
    """The registry file cannot be loaded; names the row and column when one is at fault.

    `row` counts data rows from 1 (the CSV header is not a row).
    """

    def __init__(
        self,
        path: Path,
        message_vi: str,
        message_en: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        where = "" if row is None else f"row {row}, "
        where += "" if column is None else f"column {column}"
        shown = "" if value is None else f" [{value!r}]"
        super().__init__(
            f"{path}: {where + ': ' if where else ''}{message_vi} ({message_en}){shown}"
        )
        self.path = path
        self.row = row
        self.column = column
        self.value = value
        self.message_vi = message_vi
        self.message_en = message_en


def load_registry(path: Path, progress: Callable[[int], None] | None = None) -> Registry:
    """Read a registry file (`.csv` or `.parquet`) into a sealed Registry.

    Names are kept as NFC with single spaces; genders may be spelled any way parse_gender
    accepts; a missing status means dead when a death date is given, alive otherwise.
    `progress`, if given, is called with the number of rows read so far after each batch (for
    a progress bar). Raises RegistryFileError for an unreadable file, a missing column, or a
    bad or duplicate row.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        batches = _csv_batches(path)
    elif suffix == ".parquet":
        batches = _parquet_batches(path)
    else:
        raise RegistryFileError(
            path, "tệp phải là .csv hoặc .parquet", "the file must be .csv or .parquet"
        )
    registry = Registry()
    reader = _RowReader(path)
    row = 0
    try:
        for columns in batches:
            for values in zip(*columns, strict=True):
                row += 1
                person, base = reader.read(row, values)
                try:
                    registry.add(person, base)
                except ChangeConflict as error:
                    raise RegistryFileError(
                        path,
                        "số định danh cá nhân bị trùng",
                        "duplicate personal ID",
                        row=row,
                        column="personal_id",
                        value=error.personal_id,
                    ) from None
            if progress is not None:
                progress(row)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as error:
        raise RegistryFileError(
            path,
            f"không đọc được tệp sau dòng {row}",
            f"cannot read the file after row {row}: {error}",
        ) from error
    try:
        registry.seal()
    except ChangeConflict as error:
        raise RegistryFileError(path, error.message_vi, error.message_en, column="old_id") from None
    return registry


def _check_columns(path: Path, present: list[str]) -> None:
    for name in REQUIRED_COLUMNS:
        if name not in present:
            raise RegistryFileError(
                path, "thiếu cột bắt buộc", "a required column is missing", column=name
            )


def _as_lists(batch: pa.RecordBatch, present: list[str]) -> list[Iterator[str | None]]:
    """The COLUMNS of a batch as Python strings, None for absent columns and empty cells."""
    size = batch.num_rows
    out: list[Iterator[str | None]] = []
    for name in COLUMNS:
        if name not in present:
            out.append(repeat(None, size))
            continue
        column = batch.column(name)
        if name == "personal_id" and pa.types.is_integer(column.type):
            # A spreadsheet or writer that typed the IDs as numbers dropped the leading 0.
            out.append(iter([None if v is None else f"{v:012d}" for v in column.to_pylist()]))
            continue
        if not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        column = pc.utf8_trim_whitespace(column)
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        out.append(iter(column.to_pylist()))
    return out


def _csv_batches(path: Path) -> Iterator[list[Iterator[str | None]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryFileError(
            path, "không đọc được tệp", f"cannot read the file: {error}"
        ) from error
    present = [name.strip() for name in header]
    _check_columns(path, present)
    wanted = [name for name in COLUMNS if name in present]
    reader = pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=8 << 20, column_names=present, skip_rows=1),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),  # addresses may hold them
        convert_options=pa_csv.ConvertOptions(
            include_columns=wanted,
            column_types=dict.fromkeys(wanted, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    for batch in reader:
        yield _as_lists(batch, wanted)


def _parquet_batches(path: Path) -> Iterator[list[Iterator[str | None]]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise RegistryFileError(
            path, "không đọc được tệp", f"cannot read the file: {error}"
        ) from error
    present = parquet.schema_arrow.names
    _check_columns(path, present)
    wanted = [name for name in COLUMNS if name in present]
    for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=wanted):
        yield _as_lists(batch, wanted)


class _RowReader:
    """Validates rows into People, remembering values already seen valid.

    A registry holds few distinct dates, provinces and genders and many repeated names, so
    caching them makes the full check cost a dictionary hit for most cells.
    """

    _NAME_CACHE_LIMIT = 1 << 19

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dates: set[str] = set()
        self.genders: dict[str, str] = {}
        self.provinces: set[str] = set()
        self.names: dict[str, tuple[str, str]] = {}  # raw -> (kept form, search base)

    def read(self, row: int, values: tuple[str | None, ...]) -> tuple[Person, str]:
        """One row as a Person and its search base name; raises RegistryFileError."""
        pid, name, dob, gender, province, status, death, old_id = values
        if pid is None:
            raise _missing(self.path, row, "personal_id")
        if not (
            len(pid) == 12
            and pid.isascii()
            and pid.isdigit()
            and pid[0] == "0"
            and is_province_code(pid[1:3])
        ):
            self._check(row, "personal_id", pid, PersonalId)
        if name is None:
            raise _missing(self.path, row, "full_name")
        kept = self.names.get(name)
        if kept is None:
            if len(self.names) >= self._NAME_CACHE_LIMIT:
                self.names.clear()
            kept = self.names[name] = (clean_name(name), search_base(name))
        if dob is None:
            raise _missing(self.path, row, "date_of_birth")
        if dob not in self.dates:
            self._check(row, "date_of_birth", dob, parse_wire_date)
            self.dates.add(dob)
        if gender is None:
            raise _missing(self.path, row, "gender")
        sex = self.genders.get(gender)
        if sex is None:
            sex = self.genders[gender] = self._check(row, "gender", gender, _gender_code)
        if province is not None and province not in self.provinces:
            code = province.zfill(3)
            if len(code) != 3 or code[0] != "0" or not is_province_code(code[1:]):
                raise RegistryFileError(
                    self.path,
                    "mã tỉnh không có trong danh mục",
                    "unknown province code",
                    row=row,
                    column="birth_province",
                    value=province,
                )
            if code != province:
                province = code
            else:
                self.provinces.add(code)
        if death is not None and death not in self.dates:
            self._check(row, "death_date", death, lambda v: parse_wire_date(v, full=True))
        life = (status or (DEAD if death else ALIVE)).lower()
        if life not in (ALIVE, DEAD):
            raise RegistryFileError(
                self.path,
                "tình trạng phải là alive hoặc dead",
                "status must be alive or dead",
                row=row,
                column="status",
                value=status,
            )
        if life == ALIVE and death is not None:
            raise RegistryFileError(
                self.path,
                "người còn sống không có ngày chết",
                "a living person has no death date",
                row=row,
                column="death_date",
                value=death,
            )
        if old_id is not None and not (len(old_id) == 9 and old_id.isascii() and old_id.isdigit()):
            raise RegistryFileError(
                self.path,
                "số CMND cũ phải gồm 9 chữ số",
                "an old ID number must be 9 digits",
                row=row,
                column="old_id",
                value=old_id,
            )
        return Person(pid, kept[0], dob, sex, province, life, death, old_id), kept[1]

    def _check(self, row: int, column: str, value: str, check: Callable[[str], _T]) -> _T:
        try:
            return check(value)
        except DomainError as error:
            raise RegistryFileError(
                self.path, error.message_vi, error.message_en, row=row, column=column, value=value
            ) from None


def _gender_code(value: str) -> str:
    """M or F from any spelling parse_gender accepts (the value is not blank here)."""
    gender = parse_gender(value, "gender")
    if gender is None:
        raise InvalidGender(
            "gender", value, Rule.GENDER_INVALID, "thiếu giới tính", "the gender is missing"
        )
    return gender.value


def _missing(path: Path, row: int, column: str) -> RegistryFileError:
    return RegistryFileError(path, "thiếu giá trị", "the value is missing", row=row, column=column)
