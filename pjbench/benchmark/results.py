"""Typed, versioned result records: ``results/<dataset>/<encoder>/<task>.<head>.json``."""

from __future__ import annotations

import json
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class TaskResult:
    dataset: str
    encoder: str
    task: str
    head: str
    primary_metric: str
    scores: dict[str, dict[str, float]]  # metric -> {"mean", "ci95"} on the test split
    per_seed: list[dict[str, Any]]  # seed, best_epoch, val and test metrics, timings
    config: dict[str, Any]
    encoder_meta: dict[str, Any]
    counts: dict[str, Any]
    environment: dict[str, Any]
    timings: dict[str, float]
    confusion: list[list[int]] | None = None  # test confusion summed over seeds
    classes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific payload (the ICPC ranking)
    schema_version: int = SCHEMA_VERSION

    def path(self, results_dir: Path) -> Path:
        return results_dir / self.dataset / self.encoder / f"{self.task}.{self.head}.json"

    def save(self, results_dir: Path) -> Path:
        path = self.path(results_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=False, default=float))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> TaskResult:
        data = json.loads(Path(path).read_text())
        version = data.get("schema_version", 0)
        if version > SCHEMA_VERSION:
            raise ValueError(f"{path}: result schema {version} is newer than this pjbench understands ({SCHEMA_VERSION})")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def git_revision() -> str:
    try:
        here = Path(__file__).resolve().parent
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        # results/ is where runs write: a result written earlier must not mark the code as modified
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)results"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if rev.returncode != 0:
            return "unknown"
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment() -> dict[str, Any]:
    import h5py
    import numpy
    import sklearn
    import torch

    from .. import __version__

    return {
        "pjbench": __version__,
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
        "h5py": h5py.__version__,
        "platform": platform.platform(),
        "processor": platform.machine(),
    }
