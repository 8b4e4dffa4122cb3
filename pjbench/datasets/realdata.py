"""Turning published label rows into a :class:`Dataset`: audio lookup, splits, missing files.

Shared by the PLD, CIPI and ICPC loaders. Splits are computed over *all* label rows, before
missing audio is dropped, so a split does not change when a user's copy lacks some files;
what is missing is listed in ``info["missing"]`` and left out of the recordings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..hashing import digest
from .audio_index import AudioIndex
from .base import SPLITS, Dataset, Recording, check_group_leakage
from .splitting import DEFAULT_FRACTIONS, grouped_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelRow:
    id: str
    stem: str | None  # audio looked up by file stem anywhere under the root
    relative: str | None  # or by a path relative to the root (any audio extension accepted)
    groups: dict[str, str]
    labels: dict[str, Any]
    stratum: str = ""
    duration: float | None = None  # from the label file, seconds
    split: str | None = None  # an official split, when the dataset has one
    source: str = ""  # where the row came from, for messages

    def with_group(self, kind: str, value: str) -> LabelRow:
        return replace(self, groups={**self.groups, kind: value})


def union_groups(links: dict[str, list[str]]) -> dict[str, str]:
    """item -> a group id shared by all items linked through any common key: the connected components of the
    item-key graph (scipy), each named by its smallest key so group ids are readable and stable."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    items = list(links)
    keys = sorted({k for ks in links.values() for k in ks})
    node = {("item", it): n for n, it in enumerate(items)} | {("key", k): len(items) + n for n, k in enumerate(keys)}
    edges = [(node[("item", it)], node[("key", k)]) for it, ks in links.items() for k in ks]
    size = len(node)
    rows, cols = [e[0] for e in edges], [e[1] for e in edges]
    graph = coo_matrix(([1] * len(edges), (rows, cols)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    members: dict[int, list[str]] = {}
    for it in items:
        members.setdefault(int(component[node[("item", it)]]), []).append(it)
    out = {}
    for group in members.values():
        name = min(k for it in group for k in links[it]) if any(links[it] for it in group) else group[0]
        for it in group:
            out[it] = name
    return out


def split_hash(assignment: dict[str, str]) -> str:
    text = "\n".join(f"{k}\t{v}" for k, v in sorted(assignment.items()))
    return digest(text)


def assemble(
    name: str,
    rows: list[LabelRow],
    audio_root: Path,
    labels_dir: Path,
    tasks: tuple[str, ...],
    split_seed: int = 0,
    split_by: str | None = None,
    label_notes: list[str] | None = None,
    pair_group: str | None = None,
    fractions: dict[str, float] | None = None,
) -> Dataset:
    audio_root = Path(audio_root)
    if not audio_root.is_dir():
        raise FileNotFoundError(f"audio root {audio_root} is not a folder; pass --audio-root DIR holding the {name} audio")
    seen: dict[str, str] = {}
    for row in rows:
        if row.id in seen:
            raise ValueError(f"{name}: id {row.id!r} appears twice ({seen[row.id]} and {row.source})")
        seen[row.id] = row.source
    if split_by is None:
        assignment = {r.id: r.split or "" for r in rows}
        bad = [r.source for r in rows if r.split not in SPLITS]
        if bad:
            raise ValueError(f"{name}: rows without a train/val/test split: {bad[:5]}")
        split_rule = "official"
    else:
        assignment = grouped_split(
            [r.id for r in rows], {r.id: r.groups[split_by] for r in rows}, {r.id: r.stratum for r in rows}, split_seed, fractions
        )
        split_rule = f"grouped by {split_by}, stratified, seed {split_seed}, fractions {fractions or DEFAULT_FRACTIONS}"
    everything = [
        Recording(id=r.id, path=Path(), split=assignment[r.id], duration=r.duration, groups=r.groups, labels=r.labels) for r in rows
    ]
    leaks = check_group_leakage(everything)
    if leaks:
        raise ValueError(f"{name}: groups cross splits: {leaks[:5]}")

    index = AudioIndex(audio_root)
    recordings, missing = [], []
    for row, rec in zip(rows, everything):
        path = index.find(row.relative, row.stem)
        if path is None:
            missing.append(
                {"id": row.id, "expected": row.relative or f"{row.stem}.<audio extension>", "split": rec.split, "label": row.stratum}
            )
        else:
            recordings.append(replace(rec, path=path))
    if missing:
        log.warning("%s: %d of %d recordings have no audio under %s", name, len(missing), len(rows), audio_root)
    info: dict[str, Any] = {
        "audio_root": str(audio_root),
        "labels_dir": str(labels_dir),
        "split_rule": split_rule,
        "split_seed": split_seed if split_by else None,
        "split_hash": split_hash(assignment),
        "splits": assignment,
        "n_label_rows": len(rows),
        "n_missing_audio": len(missing),
        "missing": missing,
        "label_notes": list(label_notes or []),
    }
    # intervals resample what the split keeps apart, else the one group kind every row has (CIPI's piece)
    common = set.intersection(*(set(r.groups) for r in rows)) if rows else set()
    resample_group = split_by or pair_group or (sorted(common)[0] if len(common) == 1 else None)
    return Dataset(
        name=name, recordings=recordings, tasks=tasks, root=audio_root, pair_group=pair_group, resample_group=resample_group, info=info
    )
