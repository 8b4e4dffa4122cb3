"""One way to name a configuration: a short SHA-256 of its canonical JSON (sorted keys).

Caches, results, the synthetic generator and the published datasets' splits all name what they
were made from with these, so two configurations that differ in anything get different names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def digest(text: str | bytes, length: int = 12) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:length]


def config_hash(config: Any, length: int = 12) -> str:
    """The hash of a JSON-able configuration; values JSON cannot hold (paths) are written as text."""
    return digest(json.dumps(config, sort_keys=True, default=str), length)


def file_digest(path: str | Path | None, length: int = 16) -> str | None:
    """The content hash of a file (e.g. a weights file), or None for no file."""
    if not path:
        return None
    return digest(Path(path).read_bytes(), length)


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file, read in chunks (caches and soundfonts run to gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()
