"""Give result files written before data fingerprints (schema 2) their dataset's fingerprint, where the files prove
they were made on that very data: the manifest's sha256, the generator version and the soundfonts' sha256 they
recorded must all equal the dataset's now. Nothing else in a file changes (undefined numbers become null: schema 3).

    python research/stamp_fingerprints.py results/synthetic --dataset synthetic

Used once, on 2026-12-04, for the committed reference results (PJBENCH_UPDATE_REFERENCE=1)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pjbench.datasets.fingerprint import fingerprint
from pjbench.datasets.registry import load_dataset
from pjbench.hashing import file_sha256
from pjbench.results.record import SCHEMA_VERSION, UPDATE_REFERENCE_ENV, TaskResult, is_reference


def evidence_differs(result: TaskResult, manifest_sha: str, generator: str, soundfonts: list[str]) -> str | None:
    recorded = result.config.get("provenance", {})
    if recorded.get("manifest_sha256") != manifest_sha:
        return f"manifest sha256 {recorded.get('manifest_sha256')} recorded, {manifest_sha} now"
    if str(recorded.get("generator_version")) != generator:
        return f"generator {recorded.get('generator_version')} recorded, {generator} now"
    if sorted(s.get("sha256") for s in recorded.get("soundfonts", [])) != soundfonts:
        return "other soundfonts"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="results/<dataset>: every result JSON under it")
    parser.add_argument("--dataset", required=True, help="the built synthetic dataset the results were made on")
    args = parser.parse_args()
    if is_reference(args.folder.parent) and os.environ.get(UPDATE_REFERENCE_ENV) != "1":
        sys.exit(f"{args.folder} is pjbench's committed reference: set {UPDATE_REFERENCE_ENV}=1 to stamp it")
    ds = load_dataset(args.dataset, build_missing=False)
    if ds.root is None or "generator_version" not in ds.info:
        sys.exit("only the synthetic set's results record the evidence this script checks")
    data = fingerprint(ds)
    manifest_sha = file_sha256(ds.root / "manifest.csv")
    generator = str(ds.info["generator_version"])
    soundfonts = sorted(t["sha256"] for t in ds.info["timbres"])
    stamped = 0
    for path in sorted(args.folder.rglob("*.json")):
        result = TaskResult.load(path)
        if result.dataset != ds.name or result.data_digest:
            continue
        why = evidence_differs(result, manifest_sha, generator, soundfonts)
        if why:
            sys.exit(f"{path}: not made on this data ({why}); left as it is")
        result.fingerprint = data
        result.schema_version = SCHEMA_VERSION
        path.write_text(result.to_json())
        stamped += 1
    print(f"{stamped} results stamped with fingerprint {data['digest']} of {ds.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
