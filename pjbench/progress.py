"""Progress bars for people at a terminal, nothing for logs: a bar redrawn with carriage returns turns a log
file into hundreds of kilobytes of frames, so bars are shown only when stderr (where tqdm draws) is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def interactive() -> bool:
    return sys.stderr.isatty()


def progress_bar(iterable: Iterable[Any] | None = None, *, desc: str, unit: str, enabled: bool = True, total: int | None = None) -> tqdm:
    return tqdm(iterable, desc=desc, unit=unit, total=total, disable=not (enabled and interactive()), leave=False)
