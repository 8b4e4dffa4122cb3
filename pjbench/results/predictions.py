"""Per-item predictions on record, beside each result: ``<task>.<head>.predictions.jsonl.gz``.

One JSON line per (seed, split, item), in the split's example order::

    {"seed": 0, "split": "test", "ids": ["s001-a", "s001-b"], "groups": [{"piece": "s001", ...}, ...],
     "target": 1, "accept": [], "scores": [0.31, 0.69]}

``ids`` are the item's recordings (two for a ranking pair), ``groups`` their group ids (performer, piece...), ``target``
the class index or multi-hot vector, ``accept`` the classes that count as a hit (single-label-of-a-set tasks),
``scores`` the model's probabilities exactly as the metrics saw them (float32 values). gzip with a zero timestamp, so
the same predictions give the same bytes; the result JSON records the file's name and sha256. From these, every
metric of the result can be recomputed (`pjbench rescore`), and items can be resampled or compared across results.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..tasks import Example

FORMAT = "pjbench-predictions-1"
SUFFIX = ".predictions.jsonl.gz"


def records(
    seed: int, split: str, examples: list[Example], probs: np.ndarray, groups: dict[str, dict[str, str]]
) -> Iterable[dict[str, Any]]:
    """The lines of one seed's split; ``groups`` maps each recording id to its group ids."""
    for ex, row in zip(examples, probs):
        target = list(ex.target) if isinstance(ex.target, tuple) else ex.target
        yield {
            "seed": seed,
            "split": split,
            "ids": list(ex.ids),
            "groups": [groups.get(i, {}) for i in ex.ids],
            "target": target,
            "accept": list(ex.accept),
            "scores": [float(v) for v in row],
        }


def write(path: Path, rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Write the rows; returns the reference the result JSON keeps (file name, sha256, format)."""
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as fh:
        fh.write(text.encode())
    data = buffer.getvalue()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return {"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "format": FORMAT}


def read(result_path: Path, reference: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of a result's predictions file, after checking its sha256 against the result's record."""
    if not reference:
        raise ValueError(f"{result_path} records no predictions (written before pjbench kept them): rerun it to get them")
    path = Path(result_path).with_name(reference["file"])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the predictions file of {result_path} is missing")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != reference["sha256"]:
        raise ValueError(f"{path} is not the predictions file {result_path} was written with (its sha256 differs)")
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines()]


def by_seed_and_split(rows: list[dict[str, Any]]) -> dict[tuple[int, str], tuple[list[Example], np.ndarray]]:
    """(seed, split) -> the examples and the score matrix, in recorded order."""
    grouped: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["seed"], row["split"]), []).append(row)
    out = {}
    for key, items in grouped.items():
        examples = [
            Example(tuple(r["ids"]), tuple(r["target"]) if isinstance(r["target"], list) else r["target"], tuple(r["accept"]))
            for r in items
        ]
        out[key] = (examples, np.array([r["scores"] for r in items], dtype=np.float32))
    return out
