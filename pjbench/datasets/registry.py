"""The dataset registry: one entry per dataset, with its loader, tasks, split rule, what it needs and its help.

A new dataset is one module with a loader (a function returning a :class:`~pjbench.datasets.base.Dataset`) and
one entry here; the CLI's help, `pjbench list datasets` and `load_dataset` read this table. Loaders are named as
``"module:function"`` and imported only when used."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..lazy import resolve
from .base import Dataset
from .synthetic import SYNTHETIC_TASKS

log = logging.getLogger(__name__)

PISA_TASKS = tuple(f"pisa-{m}-{s}" for m in ("video", "audio", "multimodal") for s in ("contiguous", "uniform"))


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    loader: str  # "module:function"
    tasks: tuple[str, ...]
    splits: str  # how train / val / test are made
    needs: Literal["", "audio-root", "video-root"] = ""  # what the user must give: their copy of the media
    command: str = "probe"  # the command that reads it (extract / probe / data check, or pisa)
    audio_root: Literal["", "optional"] = ""  # "optional": a built-in set that also reads the user's own audio (--audio-root)

    def load(self, media_root: Path | None = None, labels_dir: Path | None = None, split_seed: int = 0, build_missing: bool = True) -> Any:
        """The dataset: from the user's copy of its media (``--audio-root`` / ``--video-root``) and label files, or,
        for the embedded set, by name."""
        loader = resolve(self.loader, "dataset loader")
        if not self.needs:
            if media_root is not None:
                if not self.audio_root:
                    raise ValueError(f"dataset {self.name} is built in: it takes no --audio-root")
                return loader(self.name, build_missing, audio_root=Path(media_root))
            return loader(self.name, build_missing)
        if media_root is None:
            raise ValueError(f"dataset {self.name} needs --{self.needs} DIR (your copy of its media; labels from --labels or DIR/labels)")
        return loader(Path(media_root), Path(labels_dir) if labels_dir else None, split_seed=split_seed)


_SYNTH = "pjbench.datasets.synthetic.dataset:load_named"
_SYNTH_SPLIT = "by piece, with per-split performer pools (built in)"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "synthetic",
            "the embedded synthetic piano set, size small: 600 clips of 10-60 s (built on first use)",
            _SYNTH,
            SYNTHETIC_TASKS,
            _SYNTH_SPLIT,
        ),
        DatasetSpec(
            "synthetic-tiny",
            "the embedded synthetic set, size tiny: about 100 short clips (tests, a quick look)",
            _SYNTH,
            SYNTHETIC_TASKS,
            _SYNTH_SPLIT,
        ),
        DatasetSpec("synthetic-full", "the embedded synthetic set, size full: 4500 clips", _SYNTH, SYNTHETIC_TASKS, _SYNTH_SPLIT),
        DatasetSpec(
            "synthetic-short",
            "the embedded synthetic set, size short: 360 clips of 8.5-12 s; with keyboard videos for `pjbench pisa`",
            _SYNTH,
            SYNTHETIC_TASKS,
            _SYNTH_SPLIT,
        ),
        DatasetSpec(
            "percepiano",
            "PercePiano: 1,189 rated segments of performance MIDI by 20 players and the score, rendered offline; 19 perceptual "
            "ratings by experts (built on first use; --audio-root: your own renderings or recordings)",
            "pjbench.datasets.percepiano.dataset:load_percepiano",
            ("perceptual-performer", "perceptual-piece"),
            "the paper's two: performers 1-2 held out (recordings' split), and bars held out (perceptual-piece); fold 0 validates",
            audio_root="optional",
        ),
        DatasetSpec(
            "pld-expertise",
            "PLD expertise: novice / advanced (YouTube) and virtuoso (ATEPP) recordings",
            "pjbench.datasets.pld:load_pld_expertise",
            ("expertise-2way", "expertise-4way", "expertise-3way"),
            "grouped by performer, stratified by level, seeded (70/10/20; --split-seed)",
            needs="audio-root",
        ),
        DatasetSpec(
            "pld-technique",
            "PLD technique clips, 7 techniques, multi-label",
            "pjbench.datasets.pld:load_pld_technique",
            ("technique-multilabel", "technique-single"),
            "grouped by source video and channel, stratified by primary technique, seeded (70/10/20)",
            needs="audio-root",
        ),
        DatasetSpec(
            "cipi-difficulty",
            "CIPI works (Henle levels 1-9) with performance audio",
            "pjbench.datasets.cipi:load_cipi_difficulty",
            ("difficulty-9way", "difficulty-3way"),
            "the official CIPI split",
            needs="audio-root",
        ),
        DatasetSpec(
            "icpc2015",
            "ICPC-2015 preliminary-round recitals, labelled by the stage reached (`pjbench transfer`)",
            "pjbench.datasets.icpc:load_icpc2015",
            ("icpc-transfer",),
            "none: every candidate is judged; the fitting protocol draws seeded halves",
            needs="audio-root",
            command="transfer",
        ),
        DatasetSpec(
            "pisa",
            "PISA: 61 piano performances with video, player level 1-10 (`pjbench pisa`)",
            "pjbench.datasets.pisa:load_pisa",
            PISA_TASKS,
            "the released split; validation carved from the available training videos",
            needs="video-root",
            command="pisa",
        ),
    )
}


ALIASES = {"synthetic-small": "synthetic"}


def _own_name(dataset: Dataset) -> Dataset:
    """A manifest is named by its file; one named like a built-in dataset (``pld-expertise.csv``) takes
    ``<name>-manifest`` instead, so that it never gets that dataset's identity (its published reference rows, its
    results folder)."""
    name = dataset.name
    if name in DATASETS or name in ALIASES or name.startswith("synthetic"):
        dataset.name = f"{name}-manifest"
        log.warning(
            "%s: named like pjbench's built-in dataset %s; its results go under %s", dataset.info.get("manifest"), name, dataset.name
        )
    return dataset


def load_dataset(
    name: str | None = None,
    manifest: Path | None = None,
    build_missing: bool = True,
    audio_root: Path | None = None,
    labels_dir: Path | None = None,
    split_seed: int = 0,
) -> Dataset:
    """A registered dataset, a folder holding a synthetic dataset, or a user's CSV manifest (``manifest``, or a
    ``name`` ending in .csv)."""
    if manifest is not None:
        from .manifest import load_manifest

        return _own_name(load_manifest(manifest))
    if name is None:
        raise ValueError("give a dataset name or --manifest")
    spec = DATASETS.get(ALIASES.get(name, name))
    if spec is not None:
        if spec.command == "pisa":
            raise ValueError(f"dataset {name} holds videos: run `pjbench pisa --dataset {name}`")
        return spec.load(audio_root, labels_dir, split_seed, build_missing)
    path = Path(name)
    if path.is_dir():
        from .synthetic.dataset import load_synthetic

        return load_synthetic(path)
    if path.suffix == ".csv" and path.is_file():
        from .manifest import load_manifest

        return _own_name(load_manifest(path))
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}, a synthetic dataset folder, or --manifest FILE.csv")
