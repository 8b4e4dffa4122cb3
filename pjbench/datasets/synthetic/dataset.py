"""The embedded synthetic dataset as a pjbench :class:`Dataset`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..base import Dataset, Recording, check_group_leakage
from .build import INFO_NAME, MANIFEST_NAME

SYNTHETIC_TASKS = (
    "expertise-2way",
    "expertise-4way",
    "expertise-3way",
    "difficulty-9way",
    "difficulty-3way",
    "technique-multilabel",
    "technique-single",
)


def load_synthetic(root: Path) -> Dataset:
    info_path, manifest = root / INFO_NAME, root / MANIFEST_NAME
    if not info_path.exists() or not manifest.exists():
        raise FileNotFoundError(f"{root} is not a complete synthetic dataset (no {INFO_NAME} or {MANIFEST_NAME}); run `pjbench synth`")
    info = json.loads(info_path.read_text())
    recordings = []
    with open(manifest, newline="") as fh:
        for row in csv.DictReader(fh):
            recordings.append(
                Recording(
                    id=row["id"],
                    path=root / row["path"],
                    split=row["split"],
                    duration=float(row["duration"]),
                    groups={"piece": row["score_id"], "performer": row["performer_id"]},
                    labels={
                        "expertise": int(row["expertise"]),
                        "skill": float(row["skill"]),
                        "player_level": int(row["player_level"]),
                        "difficulty": int(row["difficulty"]),
                        "techniques": tuple(filter(None, row["techniques"].split("|"))),
                        "technique_primary": row["technique_primary"],
                        "timbre": row["timbre"],
                    },
                )
            )
    leaks = check_group_leakage(recordings)
    if leaks:
        raise ValueError(f"{manifest}: groups cross splits: {leaks[:5]}")
    cfg = info["config"]
    name = "synthetic" if cfg["size"] == "small" and cfg["seed"] == 0 else f"synthetic-{cfg['size']}-seed{cfg['seed']}"
    if cfg["sample_rate"] != 24000:
        name += f"-{cfg['sample_rate'] // 1000}k"
    return Dataset(name=name, recordings=recordings, tasks=SYNTHETIC_TASKS, root=root, pair_group="piece", info=info)
