"""Results bundles (`pjbench export`): a results folder's results, predictions, plots and provenance, nothing else,
as a folder or a ``.tar.gz`` that another machine passes to ``pjbench leaderboard --results-dir``.

A bundle is a results folder (``<dataset>/<encoder>/<task>.<head>-<schedule>.json`` with its predictions and plot,
the split lists, the layer results and curves) plus ``bundle.json``: who made it with what, each dataset's data
fingerprints, and every file's sha256. docs/results-format.md describes both.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..hashing import file_sha256
from ..results.record import SCHEMA_VERSION, TaskResult, environment, plot_problem
from .sources import BUNDLE_SUFFIXES, is_bundle_file

BUNDLE_FORMAT = 1
MANIFEST_NAME = "bundle.json"


@dataclass
class Bundle:
    files: dict[str, Path] = field(default_factory=dict)  # name in the bundle -> file here
    results: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[dict[str, str]] = field(default_factory=list)


def _problem(result: TaskResult, path: Path) -> str | None:
    """Why a result cannot travel whole (None: it can)."""
    if result.predictions:
        pred = path.with_name(result.predictions["file"])
        if not pred.is_file():
            return f"its predictions file {pred.name} is missing"
        if file_sha256(pred) != result.predictions.get("sha256"):
            return f"{pred.name} is not the predictions file it was written with"
    return plot_problem(result)


def collect(results_dir: Path, datasets: Sequence[str] | None = None, encoders: Sequence[str] | None = None, layers: bool = True) -> Bundle:
    """What goes into a bundle of ``results_dir``: each result (board and, with ``layers``, per-layer ones) with its
    predictions and plot, the split lists and layer curves of what is kept; results that cannot travel whole are left
    out with the reason."""
    bundle = Bundle()
    patterns = ["*/*/*.json"] + (["*/*/layers/*.json"] if layers else [])
    kept_dirs: set[Path] = set()
    for path in sorted(p for pattern in patterns for p in results_dir.glob(pattern)):
        try:
            result = TaskResult.load(path)
        except (ValueError, TypeError, KeyError):
            continue  # not a result (a note someone left): not part of the bundle
        if (datasets and result.dataset not in datasets) or (encoders and result.encoder not in encoders):
            continue
        rel = path.relative_to(results_dir).as_posix()
        why = _problem(result, path)
        if why:
            bundle.left_out.append({"file": rel, "why": why})
            continue
        bundle.files[rel] = path
        if result.predictions:
            bundle.files[str(Path(rel).with_name(result.predictions["file"]))] = path.with_name(result.predictions["file"])
        if result.plot:
            bundle.files[str(Path(rel).with_name(result.plot["file"]))] = path.with_name(result.plot["file"])
        kept_dirs.add(path.parent)
        bundle.results.append(
            {
                "file": rel,
                "dataset": result.dataset,
                "encoder": result.encoder,
                "task": result.task,
                "head": result.label,
                "layer": result.layer,
                "fingerprint": result.data_digest,
                "schema_version": result.schema_version,
            }
        )
    for folder in sorted(kept_dirs):
        for curve in sorted(folder.glob("*.layer-curve.*")):
            bundle.files[curve.relative_to(results_dir).as_posix()] = curve
    for dataset in sorted({r["dataset"] for r in bundle.results}):
        for splits in sorted((results_dir / dataset).glob("splits-*.csv")):
            bundle.files[splits.relative_to(results_dir).as_posix()] = splits
    return bundle


def manifest(bundle: Bundle, results_dir: Path) -> dict[str, Any]:
    env = environment()
    fingerprints: dict[str, list[str]] = {}
    for r in bundle.results:
        fingerprints.setdefault(r["dataset"], [])
        if r["fingerprint"] not in fingerprints[r["dataset"]]:
            fingerprints[r["dataset"]].append(r["fingerprint"])
    return {
        "bundle_format": BUNDLE_FORMAT,
        "result_schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "from": str(results_dir),
        "pjbench": env["pjbench"],
        "git_revision": env["git_revision"],
        "fingerprints": fingerprints,
        "results": bundle.results,
        "left_out": bundle.left_out,
        "files": {name: file_sha256(path) for name, path in sorted(bundle.files.items())},
    }


def export(
    results_dir: Path,
    out: Path,
    datasets: Sequence[str] | None = None,
    encoders: Sequence[str] | None = None,
    layers: bool = True,
) -> dict[str, Any]:
    """Write the bundle of ``results_dir`` to ``out``: a ``.tar.gz`` (by its name) or a new folder; returns its
    manifest (``bundle.json``)."""
    if not results_dir.is_dir():
        raise ValueError(f"{results_dir}: no results folder there")
    bundle = collect(results_dir, datasets, encoders, layers)
    if not bundle.results:
        what = " and ".join(x for x in (f"dataset {datasets}" if datasets else "", f"encoder {encoders}" if encoders else "") if x)
        raise ValueError(f"{results_dir}: no results to export{' for ' + what if what else ''}")
    record = manifest(bundle, results_dir)
    text = json.dumps(record, indent=2).encode()
    if is_bundle_file(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        with tarfile.open(tmp, "w:gz") as tar:
            for name, path in sorted(bundle.files.items()):
                tar.add(path, arcname=name, recursive=False)
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime = len(text), int(time.time())
            tar.addfile(info, io.BytesIO(text))
        tmp.replace(out)  # whole or not at all
        return record
    if out.suffix in (".gz", ".tar", ".zip"):
        raise ValueError(f"{out}: a bundle is a folder or a file ending in {' or '.join(BUNDLE_SUFFIXES)}")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} exists and is not empty: export into a new folder (or a .tar.gz)")
    for name, path in bundle.files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (out / MANIFEST_NAME).write_text(text.decode())
    return record
