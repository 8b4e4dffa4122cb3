"""PercePiano's labels, raters' answers and the paper's two splits, read from the packed files.

Names: ``<excerpt>_<N>bars_<A>_<B>`` (``Beethoven_WoO80_var27_8bars_1_15``). The authors' split code reads ``A`` as the
player (``get_performer_id``: ``Score`` there marks the score itself) and ``B`` as the segment of the excerpt; pjbench
reads them the same way, so the splits are theirs.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# the 19 dimensions in the label files' order: (name, low end, high end), the questionnaire's wording
DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("timing", "stable", "unstable"),
    ("articulation-length", "short", "long"),
    ("articulation-touch", "soft/cushioned", "hard/solid"),
    ("pedal-amount", "sparse/dry", "saturated/wet"),
    ("pedal-clarity", "clean", "blurred"),
    ("timbre-variety", "even", "colorful"),
    ("timbre-depth", "shallow", "rich"),
    ("timbre-brightness", "bright", "dark"),
    ("timbre-loudness", "soft", "loud"),
    ("dynamic-sophistication", "sophisticated/mellow", "raw/crude"),
    ("dynamic-range", "little", "large range"),
    ("music-making-pace", "fast-paced", "slow-paced"),
    ("music-making-space", "flat", "spacious"),
    ("music-making-balance", "disproportioned", "balanced"),
    ("music-making-drama", "pure", "dramatic/expressive"),
    ("mood-valence", "optimistic/pleasant", "dark"),
    ("mood-energy", "low", "high energy"),
    ("mood-imagination", "honest", "imaginative"),
    ("interpretation", "unsatisfactory/doubtful", "convincing"),
)
# the raters' file names for the score's renderings, renamed as the authors' label script does (map_midi_to_label.py)
SCORE2_SEGMENTS = {"Beethoven_WoO80": {str(k) for k in range(5, 17)}, "Schubert_D935_no.3_4bars": {"1"}}
N_DIMENSIONS = len(DIMENSIONS)
SCALE = 7.0  # answers are 1-7; the labels are answers / 7
# the authors' performer fold map (m2pf_dataset_performerfold.py): Beethoven's player ids by their index here
BEETHOVEN_PERFORMER_IDS = (1, 2, 3, 4, 7, 11, 14, 18, 19, 22, 24, 26)
PERFORMER_TEST_FOLDS = (1, 2)
PIECE_SPLIT_SEED = 42  # m2pf_dataset_compositionfold.py: random.seed(42)
PIECE_TEST_SHARE = 0.15
N_FOLDS = 4


class PercePianoError(ValueError):
    """A PercePiano file that cannot be read as published; the message names the file and the line."""


@dataclass(frozen=True)
class SegmentName:
    name: str
    excerpt: str  # the piece excerpt and its segment length, e.g. Beethoven_WoO80_var27_8bars
    player: str  # as in the name; "Score" for the score itself
    segment: str

    @classmethod
    def parse(cls, name: str) -> SegmentName:
        parts = name.strip().split("_")
        if len(parts) < 4 or not parts[-3].endswith("bars"):
            raise PercePianoError(f"{name!r}: not a PercePiano segment name (<excerpt>_<N>bars_<player>_<segment>)")
        return cls(name.strip(), "_".join(parts[:-2]), parts[-2], parts[-1])

    @property
    def is_score(self) -> bool:
        return self.player.startswith("Score")

    @property
    def performer_fold(self) -> int:
        """The authors' performer index (get_performer_fold_map): the score's renderings 0 (``Score``) and -1
        (``Score2``), Beethoven's player ids by position, the others as numbered."""
        if self.player == "Score":
            return 0
        if self.player == "Score2":
            return -1
        if "Beethoven" in self.excerpt:
            return BEETHOVEN_PERFORMER_IDS.index(int(self.player))
        return int(self.player)

    @property
    def composition(self) -> str:
        """The unit the piece split holds out (get_name_wo_performer): the same bars of one excerpt, every player."""
        return f"{self.excerpt}_{self.segment}"


def mean_labels(path: Path) -> dict[str, tuple[float, ...]]:
    """Segment name (stripped) -> its 19 mean ratings / 7 (the files' 20th number is an index, not a label)."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise PercePianoError(f"{path}: not a readable label file ({err})") from None
    out = {}
    for name, values in raw.items():
        if not isinstance(values, list) or len(values) < N_DIMENSIONS:
            raise PercePianoError(f"{path}: {name!r} has {values!r}, expected {N_DIMENSIONS} ratings")
        ratings = tuple(float(v) for v in values[:N_DIMENSIONS])
        bad = [v for v in ratings if not (math.isfinite(v) and 1 / SCALE - 1e-9 <= v <= 1 + 1e-9)]
        if bad:
            raise PercePianoError(f"{path}: {name!r} has ratings outside 1/7..1: {bad[:3]}")
        out[name.strip()] = ratings
    return out


@dataclass(frozen=True)
class RaterAnswers:
    rater: str
    segment: str
    answers: tuple[float | None, ...]  # 1-7 per dimension, None for no answer


def answer_name(file_stem: str) -> str:
    """The label name a rater's file name stands for: the authors' renaming of the score's renderings (``_score`` ->
    ``_Score``, and ``_Score_`` -> ``_Score2_`` for the segments their script lists)."""
    name = file_stem.replace("_score", "_Score")
    if "_Score_" in name:
        segment = name.rsplit("_", 1)[-1]
        if any(prefix in name and segment in segments for prefix, segments in SCORE2_SEGMENTS.items()):
            name = name.replace("_Score_", "_Score2_")
    return name


def raw_answers(path: Path) -> tuple[list[RaterAnswers], dict[str, int]]:
    """Every rater's answers to the 19 questions (the authors' script drops the 20th), and counts of what was left
    out: rows with an answer outside 1-7 (the authors drop those above 7), rows for the score's own renderings."""
    rows: list[RaterAnswers] = []
    skipped: dict[str, int] = defaultdict(int)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as err:
        raise PercePianoError(f"{path}: {err.strerror or err}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or header[:3] != ["user", "dataID", "filename"] or len(header) < 3 + N_DIMENSIONS:
            raise PercePianoError(f"{path}: not PercePiano's answers file (header {header[:4] if header else None})")
        for line, row in enumerate(reader, start=2):
            if len(row) < 3 + N_DIMENSIONS:
                raise PercePianoError(f"{path}:{line}: {len(row)} columns, expected at least {3 + N_DIMENSIONS}")
            name = row[2].strip().rsplit(".", 1)[0]
            try:
                values = [None if not v.strip() else float(v) for v in row[3 : 3 + N_DIMENSIONS]]
            except ValueError:
                raise PercePianoError(f"{path}:{line}: an answer is not a number: {row[3 : 3 + N_DIMENSIONS]}") from None
            if any(v is not None and v > SCALE for v in values):  # the authors' rule: such a row is a wrong entry
                skipped["an answer above 7"] += 1
                continue
            if any(v is not None and (v < 0 or v != int(v)) for v in values):
                raise PercePianoError(f"{path}:{line}: an answer is not one of 1-7 (or 0 for none): {row[3 : 3 + N_DIMENSIONS]}")
            answers = tuple(None if v is None or v == 0 else v for v in values)  # 0 or empty: no answer
            rows.append(RaterAnswers(row[0].strip(), answer_name(name), answers))
    for why, n in skipped.items():
        log.info("%s: %d rater rows left out (%s)", path, n, why)
    return rows, dict(skipped)


def performer_split(names: list[SegmentName], fold: int = 0) -> dict[str, str]:
    """The paper's performer split: test = the authors' performers 1 and 2; validation = fold ``fold``'s two performers
    (2 fold + 3, 2 fold + 4); training = the rest."""
    if not 0 <= fold < N_FOLDS:
        raise ValueError(f"fold {fold}: PercePiano's performer split has folds 0-{N_FOLDS - 1}")
    val = (2 * fold + 3, 2 * fold + 4)
    out = {}
    for n in names:
        f = n.performer_fold
        out[n.name] = "test" if f in PERFORMER_TEST_FOLDS else "val" if f in val else "train"
    return out


def piece_split(names: list[SegmentName], fold: int = 0) -> dict[str, str]:
    """The paper's piece split by its own procedure (m2pf_dataset_compositionfold.py): with Python's ``random`` seeded
    42, the segments shuffled, then whole compositions (the same bars, every player) drawn into the test set until it
    holds 15 % of the segments, then the other compositions dealt into 4 folds in order; fold ``fold`` validates.
    The authors shuffled their folder's listing, whose order the file system chose: pjbench shuffles the sorted names,
    so the procedure is theirs and the assignment reproducible, though not necessarily their exact draw."""
    if not 0 <= fold < N_FOLDS:
        raise ValueError(f"fold {fold}: PercePiano's piece split has folds 0-{N_FOLDS - 1}")
    rng = random.Random(PIECE_SPLIT_SEED)
    order = sorted(n.name for n in names)
    rng.shuffle(order)
    by_name = {n.name: n for n in names}
    groups: dict[str, list[str]] = {}
    for name in order:
        groups.setdefault(by_name[name].composition, []).append(name)
    test: list[str] = []
    while len(test) < PIECE_TEST_SHARE * len(order):
        key = rng.choice(list(groups))
        if len(groups[key]) > 1:
            test.extend(groups.pop(key))
    out = dict.fromkeys(test, "test")
    for i, members in enumerate(groups.values()):
        for name in members:
            out[name] = "val" if i % N_FOLDS == fold else "train"
    return out
