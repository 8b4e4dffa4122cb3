"""Keep large freed memory blocks in the process instead of handing them back to the system.

glibc serves every allocation above its mmap threshold (at most 32 MB by default) with a fresh mapping and unmaps it
on free, so each such block is zero-filled by the kernel, page by page, every time it is used again. Training the
published head allocates blocks of 50-300 MB per step (a batch of segments, the first convolution's unfolded input
and its gradient), and that page-faulting cost more system time than the steps' arithmetic took user time: one
probe of 5 seeds x 6 epochs took 62 s, 33 s of it in the kernel, and 37 s, 4 s in the kernel, with freed blocks kept
(docs/benchmarks.md). The numbers are the same: where memory comes from does not change what is computed in it.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

# mallopt's parameter numbers (glibc's malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_BYTES = 1 << 30  # blocks up to 1 GiB come from the heap; up to 1 GiB of free heap top is kept

_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once; later calls do nothing). Skipped where the C
    library is not glibc, or where the user set ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` themselves.
    Returns whether the thresholds are pjbench's."""
    global _done
    if _done:
        return True
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl): its allocator is left as it is
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
    log.debug("freed blocks up to %d bytes kept in the process: %s", KEEP_BYTES, _done)
    return _done
