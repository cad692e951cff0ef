"""Import workers end with the importing process, even when it dies while they start."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from nidb.ingest.chunks import _die_with_parent


def test_a_worker_of_a_live_parent_works() -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        assert pool.submit(abs, -3).result(timeout=60) == 3


def test_a_worker_whose_parent_is_already_gone_ends_itself() -> None:
    # the parent it was started for is not its parent any more (killed while the worker was
    # starting, before the death signal was asked for): the worker must not run on, orphaned
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=_die_with_parent, initargs=(1,)
        ) as pool,
        pytest.raises(BrokenProcessPool),
    ):
        pool.submit(abs, -3).result(timeout=60)
