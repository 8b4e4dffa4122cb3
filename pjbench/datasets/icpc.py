"""ICPC-2015: preliminary-round recitals of the 17th Chopin Competition, labelled by the stage reached.

Read from a copy of the public ICPC2015-dataset repository (``--labels``): the per-round url
lists ``data/raw/<round>/urls_all.list``, the video titles (``_derived/info_summary.tsv``:
youtube id -> "Name – piece (stage)"), the published lists of who was admitted to the second
(``data/raw/02_recital2/participants_stage2.tsv``) and third round
(``data/participants_recital_2.txt``) and the preliminary pass/fail column of
``data/results.tsv``. The url lists of rounds 2 and 3 are incomplete, hence the name lists.

The score of a candidate is the number of rounds passed into (the paper's S(c)): 0 out after
the preliminary round, 1 stage I, 2 stage II, 3 stage III. The finals are in no published file,
so finalists count as stage III. Each preliminary video is a recording (``<youtube id>.<ext>``
under the audio root); a candidate with several videos has them all, in url-list order.
Candidates exempt from the preliminary round have no recording and are not in the set.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .base import Dataset
from .labelfiles import LabelFileError, label_file, read_list, read_rows
from .names import match_name, name_tokens
from .realdata import LabelRow, assemble

log = logging.getLogger(__name__)

ROUNDS: tuple[str, ...] = ("00_preliminary", "01_recital1", "02_recital2", "03_recital3")
STAGES: tuple[str, ...] = ("preliminary", "stage I", "stage II", "stage III")
INFO_FILE = "_derived/info_summary.tsv"
STAGE2_FILE = "data/raw/02_recital2/participants_stage2.tsv"
STAGE3_FILE = "data/participants_recital_2.txt"
RESULTS_FILE = "data/results.tsv"
_TITLE_NAME = re.compile(r"\s+[–—-]\s+")


def _video_id(url: str) -> str:
    match = re.search(r"(?:v/|v=|youtu\.be/)([A-Za-z0-9_-]{11})", url)
    return match.group(1) if match else url.rstrip("/").rsplit("/", 1)[-1]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1250"):  # participants_stage2.tsv is Windows-1250
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def stage_names(labels_dir: Path) -> tuple[list[str], list[str]]:
    """Names admitted to stage II and to stage III, from the published lists."""
    second = []
    for line in _read_text(label_file(labels_dir, STAGE2_FILE)).splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) >= 2 and cells[1]:
            second.append(cells[1])
    third = []
    for line in read_list(label_file(labels_dir, STAGE3_FILE)):
        line = re.sub(r"^(Mr|Ms|Mrs|Miss)\.?\s+", "", line)
        third.append(re.sub(r"\s*\([^)]*\)\s*$", "", line).strip())
    return second, third


def candidate_videos(labels_dir: Path) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Preliminary videos per candidate, and the names seen in each later round's videos."""
    titles = {r["youtube_id"]: r["title"] for r in read_rows(label_file(labels_dir, INFO_FILE), ("youtube_id", "title"), "\t")}
    per_round: dict[str, list[str]] = {}
    for rnd in ROUNDS:
        ids = [_video_id(u) for u in read_list(label_file(labels_dir, f"data/raw/{rnd}/urls_all.list"))]
        unknown = [i for i in ids if i not in titles]
        if unknown:
            log.warning("%s: %d %s videos have no title in %s; left out", labels_dir, len(unknown), rnd, INFO_FILE)
        per_round[rnd] = [i for i in ids if i in titles]
    prelim: dict[str, list[str]] = {}
    for vid in per_round[ROUNDS[0]]:
        name = _TITLE_NAME.split(titles[vid])[0].strip()
        if vid not in prelim.setdefault(name, []):
            prelim[name].append(vid)
    later = {rnd: {_TITLE_NAME.split(titles[v])[0].strip() for v in per_round[rnd]} for rnd in ROUNDS[1:]}
    return prelim, later


def icpc_rows(labels_dir: Path) -> tuple[list[LabelRow], list[str]]:
    prelim, later = candidate_videos(labels_dir)
    candidates = sorted(prelim)
    second, third = stage_names(labels_dir)
    results = read_rows(label_file(labels_dir, RESULTS_FILE), ("#name", "#preliminary"), "\t")
    notes: list[str] = []
    stage = dict.fromkeys(candidates, 0)
    unmatched: dict[tuple[str, ...], list[str]] = {}

    def admit(names: list[str] | set[str], level: int, where: str) -> None:
        for name in names:
            who = match_name(name, candidates)
            if who is None:
                unmatched.setdefault(name_tokens(name), []).append(f"{name!r} in {where}")
            else:
                stage[who] = max(stage[who], level)

    passed_by_results = [r["#name"] for r in results if r["#preliminary"] == "1"]
    admit(passed_by_results, 1, RESULTS_FILE)
    for level, rnd in enumerate(ROUNDS[1:], start=1):
        admit(later[rnd], level, f"data/raw/{rnd}/urls_all.list titles")
    admit(second, 2, STAGE2_FILE)
    admit(third, 3, STAGE3_FILE)
    for places in unmatched.values():
        notes.append(f"no preliminary-round recording (exempt from that round, or a spelling beyond matching): {'; '.join(places)}")
    failed_by_results = {match_name(r["#name"], candidates) for r in results if r["#preliminary"] == "0"}
    for who in candidates:
        if stage[who] > 0 and who in failed_by_results:
            notes.append(f"{who}: results.tsv says out after the preliminary round, but later rounds list them; stage {stage[who]} kept")
    rows = []
    for who in candidates:
        for order, vid in enumerate(prelim[who]):
            rows.append(
                LabelRow(
                    id=vid,
                    stem=vid,
                    relative=None,
                    groups={"performer": who},
                    labels={"stage": stage[who], "candidate": who, "part_order": order},
                    stratum=str(stage[who]),
                    split="test",
                    source=f"{ROUNDS[0]}:{vid}",
                )
            )
    if not rows:
        raise LabelFileError(f"{labels_dir}: no preliminary-round videos found")
    return rows, notes


def load_icpc2015(audio_root: Path, labels_dir: Path | None = None, split_seed: int = 0) -> Dataset:
    """All recordings are evaluation data (split ``test``): the probe is trained on PLD; the "with fitting"
    protocol draws its own candidate halves (see :mod:`pjbench.experiments.icpc_transfer`)."""
    labels_dir = labels_dir or audio_root / "labels"
    rows, notes = icpc_rows(labels_dir)
    ds = assemble("icpc2015", rows, audio_root, labels_dir, ("icpc-transfer",), label_notes=notes)
    ds.max_segments = None  # 30-minute recitals: every segment; the transfer cuts them into 5-minute parts
    return ds
