"""Where pjbench keeps generated data, caches and results.

Everything heavy lives under one home folder (``$PJBENCH_HOME``, default
``~/.cache/pjbench``) so that a user can move or delete it in one place.
Results are small JSON files and go to ``--results-dir`` (or ``$PJBENCH_RESULTS``, default ``./results``).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    return Path(os.environ.get("PJBENCH_HOME", Path.home() / ".cache" / "pjbench")).expanduser()


def datasets_dir() -> Path:
    return home() / "datasets"


def cache_dir() -> Path:
    return home() / "cache"


DEFAULT_RESULTS = Path("pjbench-results")  # in the current folder; never the committed reference results
