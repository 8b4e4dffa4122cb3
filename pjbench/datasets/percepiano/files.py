"""PercePiano's packed files: the archive inside pjbench, checked against its provenance and unpacked once under
``$PJBENCH_HOME/datasets``."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from ...hashing import file_sha256
from ...paths import datasets_dir

PACKED = Path(__file__).resolve().parents[2] / "data" / "percepiano"
ARCHIVE = PACKED / "percepiano.tar.xz"
MEAN_LABELS = "labels/label_2round_mean_reg_19_with0_rm_highstd0.json"
STD_LABELS = "labels/label_2round_std_reg_19_with0_rm_highstd0.json"
RAW_ANSWERS = "labels/total_2rounds.csv"


def provenance() -> dict:
    return json.loads((PACKED / "PROVENANCE.json").read_text())


def unpacked(root: Path | None = None) -> Path:
    """The folder holding ``midi/`` and ``labels/``, unpacked from the archive on first use (checked by its sha256;
    unpacked into a temporary folder and renamed, so an interrupted unpacking leaves nothing half-done)."""
    meta = provenance()["archive"]
    target = (root or datasets_dir()) / f"percepiano-files-{meta['sha256'][:12]}"
    if (target / MEAN_LABELS).is_file():
        return target
    if not ARCHIVE.is_file():
        raise FileNotFoundError(f"{ARCHIVE}: PercePiano's packed files are missing from this pjbench installation")
    if file_sha256(ARCHIVE) != meta["sha256"]:
        raise ValueError(f"{ARCHIVE}: not the packed archive (sha256 differs from {PACKED / 'PROVENANCE.json'}); reinstall pjbench")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".percepiano-", dir=target.parent))
    try:
        with tarfile.open(ARCHIVE, "r:xz") as tar:
            tar.extractall(staging, filter="data")
        os.replace(staging, target) if not target.exists() else shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
