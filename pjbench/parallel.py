"""Process fan-out for the keyboard-video renderer and the clip cache: the standard library's
``ProcessPoolExecutor.map`` with spawned workers, or a plain ``map`` when one process is enough."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Job = TypeVar("Job")
Out = TypeVar("Out")


def ordered_map(fn: Callable[[Job], Out], jobs: Sequence[Job], workers: int | None = None) -> Iterator[Out]:
    """``fn`` over ``jobs``, results in job order, in ``workers`` processes (default: the CPU count, at most 8).
    Spawned, not forked: no inherited codec, thread or lock state; ``fn`` must be a module-level function."""
    n = min(workers or min(os.cpu_count() or 1, 8), len(jobs))
    if n <= 1:
        yield from map(fn, jobs)
        return
    pool = ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"))
    try:
        yield from pool.map(fn, jobs)
    finally:
        pool.shutdown(cancel_futures=True)  # a consumer that stops early does not wait for the rest
