"""Helpers shared by the benchmark scripts: peak memory, machine description, subprocess runs."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def machine() -> str:
    import torch

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def run_child(script: str, args: list[str]) -> dict:
    """Run one measurement in a fresh process, so its peak RSS is its own."""
    out = subprocess.run([sys.executable, script, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
