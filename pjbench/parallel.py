"""One way to fan work out to processes, shared by the video renderer and the clip cache."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

Job = TypeVar("Job")
Out = TypeVar("Out")


def ordered_map(fn: Callable[[Job], Out], jobs: Sequence[Job], workers: int | None = None) -> Iterator[Out]:
    """``fn`` over ``jobs``, results in job order, in ``workers`` processes (default: the CPU count, at most 8);
    in this process when one is enough. Spawned, not forked: no inherited codec, thread or lock state. ``fn`` must
    be importable (a module-level function)."""
    n = min(workers or min(os.cpu_count() or 1, 8), len(jobs))
    if n <= 1:
        yield from map(fn, jobs)
        return
    with mp.get_context("spawn").Pool(n) as pool:  # leaving the block (also early) terminates the workers
        yield from pool.imap(fn, jobs)
