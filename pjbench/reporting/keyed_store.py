"""A folder of small JSON entries under content keys (``<key>.json``): what the board recomputes once and then
reads back (verdicts on rows, pairwise comparisons). A damaged entry reads as missing; a failed write is logged and
costs only the recomputation next time."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def read(folder: Path, key: str) -> dict[str, Any] | None:
    entry = folder / f"{key}.json"
    if not entry.is_file():
        return None
    try:
        data = json.loads(entry.read_text())
    except (OSError, ValueError):
        return None  # a damaged entry: recompute
    return data if isinstance(data, dict) else None


def write(folder: Path, key: str, data: dict[str, Any]) -> None:
    entry = folder / f"{key}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.{id(data)}.tmp")  # written whole, then renamed: a reader never sees half
        tmp.write_text(json.dumps(data))
        tmp.replace(entry)
    except OSError as err:
        log.debug("%s not stored (%s)", entry, err)
