"""Large freed blocks stay in the process (pjbench/allocator.py): a block used again is not mapped, faulted in and
zero-filled by the kernel anew. Checked in fresh processes with glibc's own accounting (mallinfo2) of a 256 MB block;
what it saves in time is measured in benchmarks/ (docs/benchmarks.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

ALLOCATE_AND_FREE = """
import ctypes, json, sys
import numpy as np
from pjbench.allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):  # glibc's struct mallinfo2
    _fields_ = [(name, ctypes.c_size_t) for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

info = ctypes.CDLL(None).mallinfo2
info.restype = MallInfo2
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
block = np.ones(64 * 2**20, dtype=np.float32)  # 256 MB
mapped = info().hblkhd  # bytes in blocks of their own mapping
del block
print(json.dumps({"kept": kept, "mapped_mb": mapped / 2**20, "free_in_heap_mb": info().fordblks / 2**20}))
"""


def _allocate_and_free(mode: str, env: dict[str, str] | None = None) -> dict:
    import os

    done = subprocess.run(
        [sys.executable, "-c", ALLOCATE_AND_FREE, mode], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's thresholds")
def test_a_freed_large_block_is_reused_without_page_faults():
    system = _allocate_and_free("system")
    kept = _allocate_and_free("keep")
    # glibc's default: the block is a mapping of its own, unmapped when freed (faulted in anew next time)
    assert system["mapped_mb"] >= 256 and system["free_in_heap_mb"] < 64
    # kept: the block comes from the heap and stays there, free, for the next one
    assert kept["kept"] and kept["mapped_mb"] < 64 and kept["free_in_heap_mb"] >= 256


def test_the_users_own_malloc_settings_are_left_alone():
    assert _allocate_and_free("keep", {"MALLOC_TRIM_THRESHOLD_": "131072"})["kept"] is False
