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
}


def load_dataset(name: str | None = None, manifest: Path | None = None, build_missing: bool = True) -> Dataset:
    """``name`` is a registered dataset or a folder holding a synthetic dataset; ``manifest`` a CSV."""
    if manifest is not None:
        from .manifest import load_manifest

        return load_manifest(manifest)
    if name is None:
        raise ValueError("give a dataset name or --manifest")
    from .synthetic.build import SynthConfig, build
    from .synthetic.dataset import load_synthetic

    if name in ("synthetic", "synthetic-tiny", "synthetic-small", "synthetic-full"):
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


__all__ = ["DATASETS", "Dataset", "Recording", "load_dataset"]
