"""Shared by the reference generators: the test signals, and writing a fixture with its provenance.

Each generator runs in a throwaway environment holding the original implementation (research/fidelity/README.md)
and writes tests/fixtures/fidelity/<name>/: the tiny random weights in the original's own file layout, the
original's outputs on the fixed signals (outputs.npz) and provenance.json (packages and versions, source
commits, seeds, the weights' and signals' sha256). pjbench is never imported here."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import fidelity_signals as signals  # noqa: E402, F401  (the generators' signals: the tests' own recipes)

FIXTURES = ROOT / "tests" / "fixtures" / "fidelity"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions(*packages: str) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(folder: Path) -> str:
    """The commit of a source checkout (a .git folder, or a COMMIT file written when it was exported)."""
    stamp = folder / "COMMIT"
    if stamp.exists():
        return stamp.read_text().strip()
    import subprocess

    return subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def write_fixture(name: str, outputs: dict[str, np.ndarray], provenance: dict[str, Any]) -> Path:
    folder = FIXTURES / name
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "outputs.npz", **{k: np.asarray(v, dtype=np.float32) for k, v in outputs.items()})
    weights = sorted(p for p in folder.iterdir() if p.name not in ("outputs.npz", "provenance.json"))
    provenance = {
        **provenance,
        "generator": f"research/fidelity/{Path(sys.argv[0]).name}",
        "files": {p.name: file_sha256(p) for p in [*weights, folder / "outputs.npz"]},
    }
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    print(f"wrote {folder}: {', '.join(sorted(outputs))}")
    return folder
