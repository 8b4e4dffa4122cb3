"""The task registry, one entry per task: expertise ranking, difficulty, technique, the ICPC-2015 transfer, the
PISA player level, and a user manifest's task. A new task of an existing kind is one more entry here."""

from __future__ import annotations

from dataclasses import replace

from ..datasets.base import Dataset
from ..datasets.percepiano.labels import DIMENSIONS, SCALE
from ..datasets.techniques import TECHNIQUES
from .base import Example, Task, multi_hot
from .kinds import KINDS, TaskKind

MULTICLASS, PAIRWISE, MULTILABEL, SINGLE_OF_SET = KINDS["multiclass"], KINDS["pairwise"], KINDS["multilabel"], KINDS["single-of-set"]
REGRESSION = KINDS["regression"]

_DIFF9 = tuple(str(i) for i in range(1, 10))

TASKS: dict[str, Task] = {
    "expertise-2way": Task(
        "expertise-2way",
        PAIRWISE,
        ("first better", "second better"),
        "Which of two performances is by the more expert player (pairs of different levels)",
        5e-5,
        12,
        "accuracy",
        label=lambda r: r.labels["expertise"],
        pair_mode="2way",
        datasets="synthetic, pld-expertise",
    ),
    "expertise-4way": Task(
        "expertise-4way",
        PAIRWISE,
        ("a-b=-2", "a-b=-1", "a-b=+1", "a-b=+2"),
        "The expertise level difference of a pair (-2, -1, +1, +2)",
        5e-5,
        12,
        "accuracy",
        ordinal=True,
        label=lambda r: r.labels["expertise"],
        pair_mode="4way",
        class_values=(-2.0, -1.0, 1.0, 2.0),  # Acc_1 counts -1 and +1 as two levels apart, not neighbours
        datasets="synthetic, pld-expertise",
    ),
    "expertise-3way": Task(
        "expertise-3way",
        MULTICLASS,
        ("beginner", "advanced", "virtuoso"),
        "The expertise level of one performance",
        5e-5,
        12,
        "acc0",
        ordinal=True,
        label=lambda r: int(r.labels["expertise"]),
        datasets="synthetic, pld-expertise",
    ),
    "difficulty-9way": Task(
        "difficulty-9way",
        MULTICLASS,
        _DIFF9,
        "The piece's difficulty 1-9 (CIPI: Henle levels; synthetic: from measured score properties)",
        5e-5,
        64,
        "acc0",
        columns=("acc0", "acc1"),
        ordinal=True,
        label=lambda r: int(r.labels["difficulty"]) - 1,
        datasets="synthetic, cipi-difficulty",
    ),
    "difficulty-3way": Task(
        "difficulty-3way",
        MULTICLASS,
        ("easy (1-3)", "medium (4-6)", "hard (7-9)"),
        "The piece's difficulty in three bands",
        5e-5,
        64,
        "acc0",
        columns=("acc0", "accuracy"),
        ordinal=True,
        label=lambda r: (int(r.labels["difficulty"]) - 1) // 3,
        datasets="synthetic, cipi-difficulty",
    ),
    "technique-multilabel": Task(
        "technique-multilabel",
        MULTILABEL,
        TECHNIQUES,
        "Which of seven piano techniques occur",
        5e-6,
        12,
        "mAP",
        columns=("mAP", "roc_auc"),
        label=lambda r: multi_hot(r.labels["techniques"], TECHNIQUES),
        datasets="synthetic, pld-technique",
    ),
    "technique-single": Task(
        "technique-single",
        SINGLE_OF_SET,
        TECHNIQUES,
        "One technique per clip; a prediction counts if it is any of the clip's techniques",
        5e-6,
        12,
        "hit_accuracy",
        label=lambda r: TECHNIQUES.index(r.labels["technique_primary"]),
        accept=lambda r: tuple(TECHNIQUES.index(t) for t in r.labels["techniques"]),
        datasets="synthetic, pld-technique",
    ),
    "icpc-transfer": Task(
        "icpc-transfer",
        KINDS["transfer"],
        ("first better", "second better"),
        "The PLD expertise-2way probe judges pairs of 2015 Chopin Competition candidates (`pjbench transfer`)",
        5e-5,
        12,
        "accuracy_vote",
        columns=(
            "accuracy_vote",
            "f1_vote",
            "fit_accuracy_vote",
            "fit_f1_vote",
            "accuracy_mean_prob",
            "all_accuracy_vote",
            "kendall_tau",
            "spearman",
        ),
        datasets="icpc2015 (trained on pld-expertise)",
    ),
    **{
        f"perceptual-{split}": Task(
            f"perceptual-{split}",
            REGRESSION,
            tuple(name for name, _, _ in DIMENSIONS),
            f"PercePiano's 19 perceptual ratings (experts' means, 1-7 / 7) of a performance, {what}",
            5e-5,
            12,
            "r2",
            columns=("r2", "pearson"),
            label=lambda r: r.labels["ratings"],
            target_scale=(4 / SCALE, 1 / SCALE),  # the answers' middle, one step of the 1-7 scale
            split_label=None if split == "performer" else "split/piece",
            # the piece split draws whole compositions (the same bars, every player) into its test set: those are its
            # units, crossed with performers; the performer split's are the dataset's (excerpts x performers)
            resample_group=None if split == "performer" else ("composition", "performer"),
            datasets="percepiano",
        )
        for split, what in (("performer", "by performers unseen in training"), ("piece", "of bars unseen in training"))
    },
    **{
        f"pisa-{modality}-{sampling}": Task(
            f"pisa-{modality}-{sampling}",
            KINDS["player-level"],
            tuple(str(i) for i in range(1, 11)),
            f"Player level 1-10 from {modality if modality != 'multimodal' else 'video and audio'}, {sampling} clips (`pjbench pisa`)",
            1e-4,
            4,
            "accuracy",
            ordinal=True,
            datasets="pisa, synthetic-short",
        )
        for modality in ("video", "audio", "multimodal")
        for sampling in ("contiguous", "uniform")
    },
}

ALIASES = {"expertise": "expertise-2way", "difficulty": "difficulty-9way", "technique": "technique-multilabel"}


def manifest_task(name: str, dataset: Dataset) -> Task:
    """The task of a user's manifest; classes come from the labels of all its recordings."""
    values = [r.labels["label"] for r in dataset.recordings]
    if name == "ranking-2way":  # the expertise ranking task on the manifest's numeric levels
        return replace(
            TASKS["expertise-2way"],
            name=name,
            description="Which of two recordings has the higher level",
            label=lambda r: r.labels["label"],
        )
    if name == "multilabel":
        classes = tuple(sorted({c for v in values for c in v}))
        return Task(
            name,
            MULTILABEL,
            classes,
            "Multi-label classification from the manifest",
            5e-5,
            12,
            "mAP",
            label=lambda r: multi_hot(r.labels["label"], classes),
        )
    classes = tuple(sorted(set(values)))
    return Task(
        name, MULTICLASS, classes, "Classification from the manifest", 5e-5, 12, "acc0", label=lambda r: classes.index(r.labels["label"])
    )


def get_task(name: str, dataset: Dataset) -> Task:
    name = ALIASES.get(name, name)
    if name == "pisa-player-level" or (name in TASKS and TASKS[name].kind.runner != "probe"):
        runner = "pisa" if name == "pisa-player-level" else TASKS[name].kind.runner
        raise ValueError(f"task {name} has its own command: run `pjbench {runner}` (see `pjbench {runner} --help`)")
    if name not in dataset.tasks:
        raise ValueError(f"task {name!r} is not defined on dataset {dataset.name}; its tasks: {', '.join(dataset.tasks)}")
    if name in TASKS:
        return TASKS[name]
    return manifest_task(name, dataset)


# manifest tasks: the task follows from how the manifest's labels are written (see datasets/manifest.py)
MANIFEST_TASKS: dict[str, str] = {
    "classification": "one class per recording, from the manifest's label column",
    "multilabel": "several classes per recording ('a|b' in the label column)",
    "ranking-2way": "which of two recordings has the higher level (numeric labels)",
}


def probe_tasks() -> list[Task]:
    """The registered tasks that `pjbench probe` trains (the others have their own command)."""
    return [t for t in TASKS.values() if t.kind.runner == "probe"]


__all__ = ["ALIASES", "KINDS", "MANIFEST_TASKS", "TASKS", "Example", "Task", "TaskKind", "get_task", "probe_tasks"]
