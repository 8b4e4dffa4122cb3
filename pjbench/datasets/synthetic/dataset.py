"""The embedded synthetic dataset as a pjbench :class:`Dataset`."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from ..base import Dataset, Recording, check_group_leakage
from . import SYNTHETIC_TASKS
from .build import INFO_NAME, MANIFEST_NAME, SynthConfig, build

log = logging.getLogger(__name__)


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
                        # the rendering's nuisance draws, for the nuisance baseline
                        "rt60": float(row["rt60"]),
                        "wet": float(row["wet"]),
                        "loudness_dbfs": float(row["loudness_dbfs"]),
                    },
                )
            )
    leaks = check_group_leakage(recordings)
    if leaks:
        raise ValueError(f"{manifest}: groups cross splits: {leaks[:5]}")
    cfg = info["config"]
    # the name it is asked for by: synthetic (small) or synthetic-SIZE for seed 0, with -seedN otherwise
    name = "synthetic" if cfg["size"] == "small" else f"synthetic-{cfg['size']}"
    if cfg["seed"] != 0:
        name += f"-seed{cfg['seed']}"
    if cfg["sample_rate"] != 24000:
        name += f"-{cfg['sample_rate'] // 1000}k"
    return Dataset(
        name=name,
        recordings=recordings,
        tasks=SYNTHETIC_TASKS,
        root=root,
        pair_group="piece",
        resample_group=("piece", "performer"),
        info=info,
    )


def load_named(name: str, build_missing: bool = True) -> Dataset:
    """``synthetic`` (the small set) or ``synthetic-SIZE``, at its default place; built on first use when allowed."""
    size = "small" if name == "synthetic" else name.split("-", 1)[1]
    cfg = SynthConfig.for_size(size)
    root = cfg.default_dir()
    if not (root / INFO_NAME).exists():
        if not build_missing:
            raise FileNotFoundError(
                f"dataset {name} (the embedded synthetic set) is not built yet: run `pjbench synth --size {size}`; "
                "for your own recordings give --manifest FILE.csv, for a published dataset --dataset NAME --audio-root DIR"
            )
        log.info("building the %s synthetic dataset in %s", size, root)
        build(cfg, root)
    return load_synthetic(root)
