"""Build Arrow string columns from numpy arrays without Python loops over rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.integer]
BoolArray = npt.NDArray[np.bool_]


def strings(
    vocabulary: Sequence[str] | pa.Array, index: IntArray, null: BoolArray | None = None
) -> pa.Array:
    """``vocabulary[index]`` as a string array; rows where ``null`` is true (or index < 0) null."""
    table = vocabulary if isinstance(vocabulary, pa.Array) else pa.array(vocabulary, pa.string())
    index = np.asarray(index)
    mask = index < 0 if null is None else (null | (index < 0))
    positions = pa.array(np.where(mask, 0, index).astype(np.int64), mask=mask)
    return table.take(positions)


def digits(values: IntArray, width: int, null: BoolArray | None = None) -> pa.Array:
    """Non-negative integers as zero-padded strings of ``width`` digits."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    padded = pc.utf8_lpad(text, width=width, padding="0")
    return padded if null is None else nullify(padded, null)


def integers(values: IntArray, null: BoolArray | None = None) -> pa.Array:
    """An int64 column, null where ``null`` is true."""
    return pa.array(np.asarray(values, dtype=np.int64), mask=null)


def nullify(array: pa.Array, null: BoolArray) -> pa.Array:
    """Set the rows where ``null`` is true to null."""
    if not null.any():
        return array
    return pc.if_else(pa.array(null), pa.scalar(None, array.type), array)


def join(parts: Sequence[pa.Array], separator: str) -> pa.Array:
    """Join string columns row by row, skipping nulls.

    The first column must have no nulls: pyarrow 26's ``binary_join_element_wise`` with
    ``null_handling="skip"`` drops a row whose inputs are all null instead of giving ``""``.
    """
    if parts[0].null_count:
        raise ValueError("the first column of a join must have no nulls")
    joined = pc.binary_join_element_wise(*parts, separator, null_handling="skip")
    if len(joined) != len(parts[0]):
        raise AssertionError("binary_join_element_wise changed the row count")
    return joined


def pick(variants: Sequence[pa.Array], which: IntArray | BoolArray) -> pa.Array:
    """Row i from ``variants[which[i]]``; all variants have the same length."""
    size = len(variants[0])
    if len(variants) == 2:
        chosen = np.asarray(which).astype(bool)
        if not chosen.any():
            return variants[0]
        return pc.if_else(pa.array(chosen), variants[1], variants[0].cast(variants[1].type))
    combined = pa.concat_arrays([v.cast(variants[0].type) for v in variants])
    positions = np.asarray(which, dtype=np.int64) * size + np.arange(size, dtype=np.int64)
    return combined.take(pa.array(positions))


def replace_rows(
    array: pa.Array, rows: IntArray, values: Sequence[str | None] | pa.Array
) -> pa.Array:
    """A copy of ``array`` with ``array[rows[k]] = values[k]``."""
    if len(rows) == 0:
        return array
    positions = np.arange(len(array), dtype=np.int64)
    positions[np.asarray(rows)] = len(array) + np.arange(len(rows))
    replacement = values if isinstance(values, pa.Array) else pa.array(list(values), array.type)
    combined = pa.concat_arrays([array, replacement.cast(array.type)])
    return combined.take(pa.array(positions))


def days_text(days: IntArray, null: BoolArray | None = None) -> pa.Array:
    """Days since 1970-01-01 as ``YYYY-MM-DD``."""
    days = np.asarray(days, dtype=np.int64)
    valid = days if null is None else days[~null]
    if len(valid) == 0:
        return pa.nulls(len(days), pa.string())
    low, high = int(valid.min()), int(valid.max())
    calendar = pc.cast(pa.array(np.arange(low, high + 1, dtype=np.int32), pa.date32()), pa.string())
    return strings(calendar, days - low, null)


def months_text(months: IntArray, null: BoolArray | None = None) -> pa.Array:
    """Months since 1970-01 as ``YYYY-MM``."""
    months = np.asarray(months, dtype=np.int64)
    valid = months if null is None else months[~null]
    if len(valid) == 0:
        return pa.nulls(len(months), pa.string())
    low, high = int(valid.min()), int(valid.max())
    span = np.arange(low, high + 1)
    labels = [f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in span.tolist()]
    return strings(labels, months - low, null)


def date32(days: IntArray, null: BoolArray | None = None) -> pa.Array:
    """Days since 1970-01-01 as an Arrow date column (written ``YYYY-MM-DD`` in CSV)."""
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=null)
