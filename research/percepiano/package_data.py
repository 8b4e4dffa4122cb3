"""Pack PercePiano's public files into pjbench (pjbench/data/percepiano/): the 1,202 performance MIDI files, both label
files and every rater's raw answers, in one reproducible archive (sorted members, fixed times and owners: the same
input gives the same bytes), with the MIT licence and a provenance file (repository, commit, each file's sha256 and git
blob id, which equals the upstream repository's).

Run: python research/percepiano/package_data.py [SOURCE] (default ../shared/datasets/percepiano)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import shutil
import tarfile
from pathlib import Path

REPOSITORY = "https://github.com/JonghoKimSNU/PercePiano"
COMMIT = "e672299"
UPSTREAM_PATHS = {  # where each packed file lies in the upstream repository
    "labels/label_2round_mean_reg_19_with0_rm_highstd0.json": "labels/label_2round_mean_reg_19_with0_rm_highstd0.json",
    "labels/label_2round_std_reg_19_with0_rm_highstd0.json": "labels/label_2round_std_reg_19_with0_rm_highstd0.json",
    "labels/total_2rounds.csv": "labels/total_2rounds.csv",
    "midi/": "virtuoso/data/all_2rounds/",
}
OUT = Path(__file__).resolve().parents[2] / "pjbench" / "data" / "percepiano"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", nargs="?", default=str(Path(__file__).resolve().parents[3] / "shared" / "datasets" / "percepiano"))
    args = parser.parse_args()
    source = Path(args.source)
    members = sorted(
        [p.relative_to(source).as_posix() for p in (source / "midi").iterdir() if p.suffix == ".mid"]
        + [p.relative_to(source).as_posix() for p in (source / "labels").iterdir()]
    )
    buffer = io.BytesIO()
    files = {}
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in members:
            data = (source / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
            tar.addfile(info, io.BytesIO(data))
            files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "git_blob": git_blob_id(data)}
    OUT.mkdir(parents=True, exist_ok=True)
    archive = OUT / "percepiano.tar.xz"
    archive.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    shutil.copy(source / "LICENSE", OUT / "LICENSE")
    provenance = {
        "dataset": "PercePiano (Park et al., Scientific Reports 2024)",
        "repository": REPOSITORY,
        "commit": COMMIT,
        "licence": "MIT (LICENSE beside this file, the repository's own)",
        "upstream_paths": UPSTREAM_PATHS,
        "archive": {"name": archive.name, "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(), "members": len(files)},
        "command": "python research/percepiano/package_data.py",
        "files": files,
    }
    (OUT / "PROVENANCE.json").write_text(json.dumps(provenance, indent=1, sort_keys=True) + "\n")
    print(f"{archive}: {archive.stat().st_size / 1e6:.2f} MB, {len(files)} files")


if __name__ == "__main__":
    main()
