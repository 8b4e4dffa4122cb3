"""A dataset's fingerprint: one digest of everything a score depends on in the data.

Two results are comparable (one board column, one paired bootstrap) only when they were computed on the same items
with the same labels, groups and split. The fingerprint is that condition made checkable: a digest over each
recording's id, split, groups, labels and audio identity (its file's size: copying a dataset to another machine
keeps it, re-encoding or editing the audio changes it), and for the synthetic set the generator's version, its
configuration and the soundfonts that rendered it. It leaves out where the files lie and the dataset's name, so a
dataset moved, renamed or rebuilt the same way keeps its fingerprint, and two datasets of one name with other data
get two.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .base import SPLITS, Dataset, Recording

FINGERPRINT_VERSION = 1  # bump when what goes into the digest changes
BASIS = "ids, splits, groups, labels and audio sizes of every recording; the synthetic set's generator, config and soundfonts"


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def audio_size(path: Path) -> int | None:
    """A media file's identity in the fingerprint: its size (None when it is missing)."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return None  # missing audio: told apart from any present file


def _item(rec: Recording) -> list[Any]:
    return [rec.id, rec.split, rec.groups, rec.labels, audio_size(rec.path)]


def _generator(dataset: Dataset) -> dict[str, Any] | None:
    """The synthetic set's rendering: what decides its audio beyond the labels."""
    info = dataset.info
    if "generator_version" not in info or "config" not in info:
        return None
    return {
        "generator_version": str(info["generator_version"]),
        "config": info["config"],
        "soundfonts": sorted(str(t.get("sha256")) for t in info.get("timbres", [])),
    }


def fingerprint(dataset: Dataset) -> dict[str, Any]:
    """``{"digest": 16 hex digits, "splits": {split: digest}, "n_recordings", "version", "basis"}``: the whole
    dataset's digest, which boards group by, and each split's (its items alone, so a changed training split is told
    apart from a changed test split)."""
    return of_items([_item(r) for r in dataset.recordings], _generator(dataset))


def of_items(items: list[list[Any]], generator: dict[str, Any] | None = None, basis: str = BASIS) -> dict[str, Any]:
    """The fingerprint of items ``[id, split, groups, labels, audio size]`` (any dataset's, PISA's performances too)."""
    items = sorted(items, key=lambda item: str(item[0]))
    per_split = {
        split: _digest({"v": FINGERPRINT_VERSION, "items": [i for i in items if i[1] == split], "generator": generator})[:16]
        for split in sorted({str(i[1]) for i in items} | set(SPLITS))
    }
    whole = _digest({"v": FINGERPRINT_VERSION, "items": items, "generator": generator})[:16]
    return {"digest": whole, "splits": per_split, "n_recordings": len(items), "version": FINGERPRINT_VERSION, "basis": basis}


def combined(**parts: dict[str, Any]) -> dict[str, Any]:
    """One fingerprint for a result made on several datasets (the ICPC transfer: trained on one, tested on another)."""
    return {
        "digest": _digest({name: part["digest"] for name, part in parts.items()})[:16],
        "parts": parts,
        "version": FINGERPRINT_VERSION,
        "basis": "the digests of " + ", ".join(parts),
    }


def short(digest: str) -> str:
    """How a person reads a fingerprint: its first 8 digits (the file keeps 16)."""
    return digest[:8] if digest else "unrecorded"
