"""A user's own dataset from a CSV manifest: ``id,path,split,label[,group]``.

``label`` is a class name (multi-class), several names joined by ``|`` (multi-label), or a
number (ranking levels: pairs are built across levels as for expertise). ``path`` is
relative to the manifest's folder unless absolute; ``group`` (performer, piece, ...) must
not appear in two splits.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .base import SPLITS, Dataset, Recording, check_group_leakage

REQUIRED = ("id", "path", "split", "label")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_manifest(path: Path) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest {path} not found")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; a manifest needs {', '.join(REQUIRED)} and optionally group")
        rows = list(reader)
    if not rows:
        raise ValueError(f"{path}: no rows")
    problems, seen = [], set()
    for line, row in enumerate(rows, start=2):
        if row["split"] not in SPLITS:
            problems.append(f"line {line}: split {row['split']!r} is not one of {SPLITS}")
        if not row["label"].strip():
            problems.append(f"line {line}: empty label")
        if row["id"] in seen:
            problems.append(f"line {line}: duplicate id {row['id']!r}")
        seen.add(row["id"])
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems[:10]))

    labels = [r["label"].strip() for r in rows]
    if all(_is_number(x) for x in labels):
        kind, tasks = "ranking", ("ranking-2way",)
    elif any("|" in x for x in labels):
        kind, tasks = "multilabel", ("multilabel",)
    else:
        kind, tasks = "multiclass", ("classification",)
    recordings = []
    for row, label in zip(rows, labels):
        audio = Path(row["path"])
        audio = audio if audio.is_absolute() else path.parent / audio
        value: object
        if kind == "ranking":
            value = float(label)
        elif kind == "multilabel":
            value = tuple(sorted(filter(None, (x.strip() for x in label.split("|")))))
        else:
            value = label
        groups = {"group": row["group"]} if row.get("group") else {}
        recordings.append(Recording(id=row["id"], path=audio, split=row["split"], groups=groups, labels={"label": value}))
    leaks = check_group_leakage(recordings)
    if leaks:
        raise ValueError(f"{path}: groups cross splits, which leaks information: {leaks[:5]}")
    return Dataset(
        name=path.stem,
        recordings=recordings,
        tasks=tasks,
        root=path.parent,
        resample_group="group",  # recordings without a group are their own
        info={"manifest": str(path), "label_kind": kind},
    )
