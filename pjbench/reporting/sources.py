"""Where a board's results come from: results folders and exported bundles (a folder or a ``.tar.gz`` from
`pjbench export`), one or several; and how their results are grouped into boards.

A board is one dataset under one data fingerprint: results of one dataset name made on other data (another
manifest of the same name, another generator version, a changed split) never share a column; they get a board of
their own, named ``<dataset>@<fingerprint>``. Each row keeps the source it came from.
"""

from __future__ import annotations

import json
import logging
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..datasets.fingerprint import short
from ..results.record import TaskResult, is_reference

BUNDLE_SUFFIXES = (".tar.gz", ".tgz")

log = logging.getLogger(__name__)


def load_results(results_dir: Path) -> dict[str, list[TaskResult]]:
    """Every result under ``results_dir`` by dataset. A JSON file that is no result at all (notes, a config someone
    left there) is skipped with a warning naming it; one that looks like a result but cannot be read is an error."""
    out: dict[str, list[TaskResult]] = {}
    for path in sorted(results_dir.glob("*/*/*.json")):
        try:
            result = TaskResult.load(path)
        except (ValueError, TypeError, KeyError) as err:
            if _looks_like_a_result(path):
                raise ValueError(f"{path}: not a pjbench result file ({err})") from err
            log.warning("%s: not a pjbench result (no task and scores in it); left out of the board", path)
            continue
        out.setdefault(result.dataset, []).append(result)
    return out


def _looks_like_a_result(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "task" in data and "scores" in data


@dataclass(frozen=True)
class Source:
    label: str  # as the board shows it: the folder or bundle as given
    folder: Path  # the folder holding <dataset>/<encoder>/<task>.<head>.json (a packed bundle: where it was unpacked)
    packed: bool = False

    @property
    def writable(self) -> bool:
        """Boards may be written into it: a plain folder, not pjbench's committed reference, not an unpacked bundle."""
        return not self.packed and not is_reference(self.folder)


def is_bundle_file(path: Path) -> bool:
    return path.name.endswith(BUNDLE_SUFFIXES)


def open_sources(paths: Sequence[Path], scratch: Path | None = None) -> list[Source]:
    """Each path as a source; packed bundles are unpacked into ``scratch`` (a temporary folder by default)."""
    sources: list[Source] = []
    for path in paths:
        if is_bundle_file(path):
            if not path.is_file():
                raise ValueError(f"{path}: no such bundle")
            where = Path(tempfile.mkdtemp(prefix="pjbench-bundle-", dir=scratch))
            unpack(path, where)
            sources.append(Source(str(path), where, packed=True))
        elif path.is_dir():
            sources.append(Source(str(path), path))
        else:
            raise ValueError(f"{path}: no results folder or bundle there (run `pjbench probe`, or give a folder from `pjbench export`)")
    labels = [s.label for s in sources]
    if len(set(labels)) != len(labels):
        raise ValueError(f"a results folder is given twice: {sorted({x for x in labels if labels.count(x) > 1})}")
    return sources


def unpack(bundle: Path, into: Path) -> None:
    """A bundle's files, refusing members that would land outside ``into`` or are not plain files and folders."""
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise ValueError(f"{bundle}: {member.name} is not a plain file (a bundle holds files and folders only)")
            tar.extractall(into, filter="data")  # 'data': no absolute paths, no '..', no links out of the folder
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ValueError(f"{bundle}: not a readable .tar.gz bundle ({err})") from None


def load_sources(sources: Sequence[Source]) -> list[TaskResult]:
    """Every result of every source (each knows its file: ``result.source``)."""
    return [r for s in sources for results in load_results(s.folder).values() for r in results]


def without_copies(results: Sequence[TaskResult]) -> tuple[list[TaskResult], int]:
    """The results with each one that several sources hold (the same row and the same predictions, byte for byte:
    a baseline both folders computed, a bundle of a folder also given) kept once, from the first source; and how
    many copies were dropped."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for r in results:
        sha = r.predictions.get("sha256", "")
        key = (r.dataset, r.encoder, r.task, r.label, str(r.layer), r.data_digest, sha)
        if sha and key in seen:
            continue
        seen.add(key)
        kept.append(r)
    return kept, len(results) - len(kept)


def origin(result: TaskResult, sources: Sequence[Source]) -> str:
    """The label of the source a result was read from."""
    path = result.file_in().resolve()
    for s in sources:
        if path.is_relative_to(s.folder.resolve()):
            return s.label
    return ""


def boards(results: Sequence[TaskResult]) -> dict[str, list[TaskResult]]:
    """Board name -> its results: per dataset, and per data fingerprint when one dataset's results were made on
    different data (results written before fingerprints count as their own data, `unrecorded`)."""
    by_dataset: dict[str, dict[str, list[TaskResult]]] = {}
    for r in results:
        by_dataset.setdefault(r.dataset, {}).setdefault(r.data_digest, []).append(r)
    out: dict[str, list[TaskResult]] = {}
    for dataset, groups in sorted(by_dataset.items()):
        if len(groups) == 1:
            out[dataset] = next(iter(groups.values()))
            continue
        for digest, members in sorted(groups.items()):
            out[f"{dataset}@{short(digest)}"] = members
    return out


def separated_note(name: str, results: Sequence[TaskResult], all_boards: dict[str, list[TaskResult]]) -> str | None:
    """Under a board split off by fingerprint: that it was, and what the data's digests are."""
    if "@" not in name:
        return None
    dataset = name.split("@", 1)[0]
    siblings = sorted(n for n in all_boards if n.split("@", 1)[0] == dataset and n != name)
    return (
        f"{dataset}'s results were made on {len(siblings) + 1} different data (fingerprints differ: ids, labels, groups, "
        f"splits or audio); this board holds those with fingerprint {name.split('@', 1)[1]}, the others are on "
        f"{', '.join(siblings)}: their numbers are not comparable"
    )
