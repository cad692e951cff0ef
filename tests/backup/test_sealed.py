"""A sealed backup file opens only with its key and only exactly as it was written."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nidb.backup.sealed import BackupKey, SealBroken, open_sealed, seal

KEY = BackupKey.generate()


def sealed(data: bytes, chunk: int = 64, key: BackupKey = KEY) -> bytes:
    target = io.BytesIO()
    seal(key, io.BytesIO(data), target, chunk_bytes=chunk)
    return target.getvalue()


def opened(blob: bytes, key: BackupKey = KEY) -> bytes:
    target = io.BytesIO()
    open_sealed(key, io.BytesIO(blob), target)
    return target.getvalue()


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=600), chunk=st.integers(min_value=1, max_value=200))
def test_what_is_sealed_opens_to_the_same_bytes(data: bytes, chunk: int) -> None:
    assert opened(sealed(data, chunk)) == data


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_sizes_at_and_around_chunk_boundaries_round_trip(size: int) -> None:
    data = bytes(range(256)) * 4
    assert opened(sealed(data[:size])) == data[:size]


def test_two_seals_of_the_same_data_differ() -> None:
    # a fresh salt and nonce prefix per file: equal plaintexts are not visible as equal files
    assert sealed(b"x" * 300) != sealed(b"x" * 300)


@settings(max_examples=80, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_refused(position: int, bit: int) -> None:
    blob = bytearray(sealed(b"Nguyen Van An 001085001234" * 10))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(SealBroken):
        opened(bytes(blob))


def test_a_file_cut_at_a_chunk_boundary_is_refused() -> None:
    data = b"a" * 64 * 3
    blob = sealed(data)
    one_chunk = 4 + 64 + 16
    with pytest.raises(SealBroken, match="authentication"):
        opened(blob[: len(blob) - one_chunk])  # the new last chunk was not sealed as last
    with pytest.raises(SealBroken, match=r"cut short|missing"):
        opened(blob[:-5])


def test_chunks_swapped_are_refused() -> None:
    blob = sealed(b"a" * 64 + b"b" * 64 + b"c" * 10)
    header, one_chunk = 31, 4 + 64 + 16
    first = blob[header : header + one_chunk]
    second = blob[header + one_chunk : header + 2 * one_chunk]
    swapped = blob[:header] + second + first + blob[header + 2 * one_chunk :]
    with pytest.raises(SealBroken):
        opened(swapped)


def test_a_wrong_key_is_refused() -> None:
    with pytest.raises(SealBroken, match="wrong key"):
        opened(sealed(b"data"), BackupKey.generate())


def test_a_key_must_be_32_bytes_of_base64_and_is_not_echoed() -> None:
    assert BackupKey.from_b64(KEY.b64).fingerprint == KEY.fingerprint
    with pytest.raises(ValueError, match="not valid base64") as bad:
        BackupKey.from_b64("not*base64!")
    assert "not*base64" not in str(bad.value)
    with pytest.raises(ValueError, match="32 bytes, got 16"):
        BackupKey.from_b64("AAAAAAAAAAAAAAAAAAAAAA==")
