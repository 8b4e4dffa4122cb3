"""Datasets: the embedded synthetic set, a user's CSV manifest, and (later) the published benchmarks."""

from __future__ import annotations

import logging
from pathlib import Path

from .base import Dataset, Recording

log = logging.getLogger(__name__)

DATASETS: dict[str, str] = {
    "synthetic": "the embedded synthetic piano set, size small (built on first use; `pjbench synth`)",
    "synthetic-tiny": "the embedded synthetic set, size tiny (about 100 short clips; for tests)",
    "synthetic-full": "the embedded synthetic set, size full (several thousand clips)",
    "synthetic-short": "the embedded synthetic set, size short (360 clips of 8.5-12 s; one PISA sample per keyboard video)",
    "pld-expertise": "PLD expertise: novice / advanced (YouTube) and virtuoso (ATEPP) recordings; needs --audio-root",
    "pld-technique": "PLD technique clips, 7 techniques, multi-label; needs --audio-root",
    "cipi-difficulty": "CIPI works (Henle levels 1-9) with performance audio, official split; needs --audio-root",
    "icpc2015": "ICPC-2015 preliminary-round recitals, labelled by the stage reached (transfer only); needs --audio-root",
}
REAL_DATASETS = ("pld-expertise", "pld-technique", "cipi-difficulty", "icpc2015")


def load_real_dataset(name: str, audio_root: Path | None, labels_dir: Path | None = None, split_seed: int = 0) -> Dataset:
    if audio_root is None:
        raise ValueError(f"dataset {name} needs --audio-root DIR (your copy of its audio; labels from --labels or DIR/labels)")
    from .cipi import load_cipi_difficulty
    from .icpc import load_icpc2015
    from .pld import load_pld_expertise, load_pld_technique

    loaders = {
        "pld-expertise": load_pld_expertise,
        "pld-technique": load_pld_technique,
        "cipi-difficulty": load_cipi_difficulty,
        "icpc2015": load_icpc2015,
    }
    return loaders[name](Path(audio_root), Path(labels_dir) if labels_dir else None, split_seed)


def load_dataset(
    name: str | None = None,
    manifest: Path | None = None,
    build_missing: bool = True,
    audio_root: Path | None = None,
    labels_dir: Path | None = None,
    split_seed: int = 0,
) -> Dataset:
    """``name`` is a registered dataset or a folder holding a synthetic dataset; ``manifest`` a CSV.
    The published datasets (PLD, CIPI, ICPC-2015) read their label files and the user's audio."""
    if name in REAL_DATASETS:
        return load_real_dataset(name, audio_root, labels_dir, split_seed)
    if manifest is not None:
        from .manifest import load_manifest

        return load_manifest(manifest)
    if name is None:
        raise ValueError("give a dataset name or --manifest")
    from .synthetic.build import SynthConfig, build
    from .synthetic.dataset import load_synthetic

    if name in ("synthetic", "synthetic-tiny", "synthetic-small", "synthetic-full", "synthetic-short"):
        size = "small" if name == "synthetic" else name.split("-", 1)[1]
        cfg = SynthConfig.for_size(size)
        root = cfg.default_dir()
        if not (root / "dataset.json").exists():
            if not build_missing:
                raise FileNotFoundError(f"{name} is not built yet: run `pjbench synth --size {size}`")
            log.info("building the %s synthetic dataset in %s", size, root)
            build(cfg, root)
        return load_synthetic(root)
    path = Path(name)
    if path.is_dir():
        return load_synthetic(path)
    if path.suffix == ".csv" and path.is_file():
        from .manifest import load_manifest

        return load_manifest(path)
    raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}, a synthetic dataset folder, or --manifest FILE.csv")


__all__ = ["DATASETS", "REAL_DATASETS", "Dataset", "Recording", "load_dataset"]
