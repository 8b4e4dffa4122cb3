"""The Pianism-Labeling Dataset (PLD): expertise levels and technique clips, from the published label files.

Expertise: novice_metadata.csv (level 0) and advanced_metadata.csv (level 1) name YouTube
ids (audio ``<id>.<ext>``), virtuoso_metadata.csv (level 2) ATEPP files by ``audio_path``.
The performer is the YouTube channel or the ATEPP artist; splits are grouped by performer
and stratified by level (the reference split by recording, so performers leaked).

Technique: technique_metadata.csv, the ``technique`` text (``A|B``, the first named is the
clip's primary technique) and seven one-hot columns. Rule for the rows where they disagree
(reported): the text's spelling is normalised (``Arpeggio`` -> ``Arpeggios``) and the clip's
techniques are the union of text and one-hot, so no annotator's mark is dropped. Splits are
grouped by source (the YouTube video a ``<id>_cut<n>`` clip was cut from, and its channel;
for the authors' own recordings the id without a trailing ``_<n>``) and stratified by the
primary technique.
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Dataset
from .labelfiles import LabelFileError, label_file, read_rows
from .realdata import LabelRow, assemble, union_groups
from .techniques import TECHNIQUES

EXPERTISE_FILES: tuple[tuple[int, str], ...] = ((0, "novice_metadata.csv"), (1, "advanced_metadata.csv"), (2, "virtuoso_metadata.csv"))
TECHNIQUE_FILE = "technique_metadata.csv"
_SPELLING = {t.lower(): t for t in TECHNIQUES} | {"arpeggio": "Arpeggios", "repeated notes": "Repeatednotes", "double notes": "Doublenotes"}
_CUT = re.compile(r"^(?P<video>[A-Za-z0-9_-]{11})_cut\d*$")


def expertise_rows(labels_dir: Path) -> list[LabelRow]:
    rows: list[LabelRow] = []
    for level, name in EXPERTISE_FILES:
        path = label_file(labels_dir, name)
        if level < 2:
            for r in read_rows(path, ("id", "channel_url", "duration")):
                rows.append(
                    LabelRow(
                        id=r["id"],
                        stem=r["id"],
                        relative=None,
                        groups={"performer": f"channel:{r['channel_url']}"},
                        labels={"expertise": level},
                        stratum=str(level),
                        duration=_float(r["duration"]),
                        source=f"{name}:{r['id']}",
                    )
                )
        else:
            for r in read_rows(path, ("artist", "audio_path", "audio_duration")):
                rows.append(
                    LabelRow(
                        id=str(Path(r["audio_path"]).with_suffix("")),
                        stem=None,
                        relative=r["audio_path"],
                        groups={"performer": f"artist:{r['artist']}"},
                        labels={"expertise": level},
                        stratum=str(level),
                        duration=_float(r["audio_duration"]),
                        source=f"{name}:{r['audio_path']}",
                    )
                )
    return rows


def load_pld_expertise(audio_root: Path, labels_dir: Path | None = None, split_seed: int = 0) -> Dataset:
    labels_dir = labels_dir or audio_root / "labels"
    return assemble(
        "pld-expertise",
        expertise_rows(labels_dir),
        audio_root,
        labels_dir,
        ("expertise-2way", "expertise-4way"),
        split_seed=split_seed,
        split_by="performer",
    )


def parse_techniques(text: str, where: str) -> tuple[str, ...]:
    names = []
    for part in filter(None, (p.strip() for p in text.split("|"))):
        name = _SPELLING.get(part.lower())
        if name is None:
            raise LabelFileError(f"{where}: unknown technique {part!r}; known: {', '.join(TECHNIQUES)}")
        if name not in names:
            names.append(name)
    return tuple(names)


def technique_source(rec_id: str, channel: str) -> list[str]:
    """The group ids that tie a clip to others: its source video, and its channel when known."""
    cut = _CUT.match(rec_id)
    video = cut.group("video") if cut else re.sub(r"_\d+$", "", rec_id)
    return [f"video:{video}"] + ([f"channel:{channel}"] if channel else [])


def technique_rows(labels_dir: Path) -> tuple[list[LabelRow], list[str]]:
    path = label_file(labels_dir, TECHNIQUE_FILE)
    rows, notes, links = [], [], {}
    raw = read_rows(path, ("id", "technique", "channel_url", "duration", *TECHNIQUES))
    for line, r in enumerate(raw, start=2):
        where = f"{path}:{line} ({r['id']})"
        text = parse_techniques(r["technique"], where)
        onehot = tuple(t for t in TECHNIQUES if _float(r[t]) == 1.0)
        techniques = tuple(t for t in TECHNIQUES if t in text or t in onehot)
        if set(text) != set(onehot) or any(p.strip() not in TECHNIQUES for p in r["technique"].split("|") if p.strip()):
            notes.append(f"{where}: text {r['technique']!r} vs one-hot {list(onehot)} -> {list(techniques)}")
        if not techniques:
            raise LabelFileError(f"{where}: no technique in the text or the one-hot columns")
        primary = text[0] if text else onehot[0]
        links[r["id"]] = technique_source(r["id"], r["channel_url"])
        rows.append(
            LabelRow(
                id=r["id"],
                stem=r["id"],
                relative=None,
                groups={},
                labels={"techniques": techniques, "technique_primary": primary},
                stratum=primary,
                duration=_float(r["duration"]),
                source=f"{TECHNIQUE_FILE}:{r['id']}",
            )
        )
    # clips sharing a video or a channel form one group (transitively)
    linked = union_groups(links)
    rows = [row.with_group("source", linked[row.id]) for row in rows]
    return rows, notes


def load_pld_technique(audio_root: Path, labels_dir: Path | None = None, split_seed: int = 0) -> Dataset:
    labels_dir = labels_dir or audio_root / "labels"
    rows, notes = technique_rows(labels_dir)
    return assemble(
        "pld-technique",
        rows,
        audio_root,
        labels_dir,
        ("technique-multilabel", "technique-single"),
        split_seed=split_seed,
        split_by="source",
        label_notes=notes,
    )


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
