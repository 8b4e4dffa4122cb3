"""CIPI difficulty (Henle levels 1-9) with the performance audio of the Piano Judges paper.

difficulty_metadata.csv: one row per work (movement) with ``henle``, the audio file
``audio_path`` (a YouTube id + extension; ``audio_id`` is sometimes a URL, so the path is the
key), the CIPI work ``original_id`` (the piece group) and the official ``split`` (CIPI split 0,
with its ``val`` part used for validation, and the test part used once, as it is).

Some audio files are listed for several works. Rule (each case is reported): rows naming the
same file with the same level and split are one recording; with different levels the file is
dropped (its label is ambiguous); with the same level in different splits it is kept in the
evaluation split (test before val before train), so the official evaluation sets are unchanged
and no audio is on two sides.
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .labelfiles import LabelFileError, label_file, read_rows
from .realdata import LabelRow, assemble

DIFFICULTY_FILE = "difficulty_metadata.csv"
_PRIORITY = {"test": 0, "val": 1, "train": 2}


def difficulty_rows(labels_dir: Path) -> tuple[list[LabelRow], list[str]]:
    path = label_file(labels_dir, DIFFICULTY_FILE)
    by_file: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, r in enumerate(read_rows(path, ("henle", "audio_path", "original_id", "split")), start=2):
        try:
            henle = int(float(r["henle"]))
        except ValueError:
            raise LabelFileError(f"{path}:{line}: henle {r['henle']!r} is not a number") from None
        if not 1 <= henle <= 9:
            raise LabelFileError(f"{path}:{line}: henle {henle} is outside 1-9")
        if r["split"] not in _PRIORITY:
            raise LabelFileError(f"{path}:{line}: split {r['split']!r} is not train, val or test")
        if not r["audio_path"]:
            raise LabelFileError(f"{path}:{line}: empty audio_path")
        by_file.setdefault(r["audio_path"], []).append((line, {**r, "henle": str(henle)}))
    rows, notes = [], []
    for audio_path, entries in by_file.items():
        levels = {e["henle"] for _, e in entries}
        lines = ", ".join(f"line {line} ({e['original_id']}, henle {e['henle']}, {e['split']})" for line, e in entries)
        if len(levels) > 1:
            notes.append(f"{path}: {audio_path} dropped: listed with different levels: {lines}")
            continue
        chosen = min(entries, key=lambda e: _PRIORITY[e[1]["split"]])[1]
        if len(entries) > 1:
            notes.append(f"{path}: {audio_path} listed {len(entries)} times: {lines} -> kept once, in {chosen['split']}")
        rows.append(
            LabelRow(
                id=Path(audio_path).stem,
                stem=Path(audio_path).stem,
                relative=audio_path,
                groups={"piece": chosen["original_id"]},
                labels={"difficulty": int(chosen["henle"]), "work": chosen["original_id"]},
                stratum=chosen["henle"],
                split=chosen["split"],
                source=f"{DIFFICULTY_FILE}:{audio_path}",
            )
        )
    return rows, notes


def load_cipi_difficulty(audio_root: Path, labels_dir: Path | None = None, split_seed: int = 0) -> Dataset:
    """``split_seed`` is unused: CIPI has an official split."""
    labels_dir = labels_dir or audio_root / "labels"
    rows, notes = difficulty_rows(labels_dir)
    return assemble("cipi-difficulty", rows, audio_root, labels_dir, ("difficulty-9way", "difficulty-3way"), label_notes=notes)
