"""The task registry: expertise ranking, difficulty, technique, and a user manifest's task."""

from __future__ import annotations

from dataclasses import replace

from ..datasets.base import Dataset
from ..datasets.synthetic.scores import TECHNIQUES
from .base import Example, Task, build_examples, multi_hot

_DIFF9 = tuple(str(i) for i in range(1, 10))

TASKS: dict[str, Task] = {
    "expertise-2way": Task(
        "expertise-2way",
        "pairwise",
        ("first better", "second better"),
        "Which of two performances is by the more expert player (pairs of different levels)",
        5e-5,
        12,
        "accuracy",
        label=lambda r: r.labels["expertise"],
        pair_mode="2way",
    ),
    "expertise-4way": Task(
        "expertise-4way",
        "pairwise",
        ("a-b=-2", "a-b=-1", "a-b=+1", "a-b=+2"),
        "The expertise level difference of a pair (-2, -1, +1, +2)",
        5e-5,
        12,
        "accuracy",
        ordinal=True,
        label=lambda r: r.labels["expertise"],
        pair_mode="4way",
    ),
    "expertise-3way": Task(
        "expertise-3way",
        "multiclass",
        ("beginner", "advanced", "virtuoso"),
        "The expertise level of one performance",
        5e-5,
        12,
        "acc0",
        ordinal=True,
        label=lambda r: int(r.labels["expertise"]),
    ),
    "difficulty-9way": Task(
        "difficulty-9way",
        "multiclass",
        _DIFF9,
        "The piece's difficulty 1-9 (Henle levels in CIPI)",
        5e-5,
        64,
        "acc0",
        ordinal=True,
        label=lambda r: int(r.labels["difficulty"]) - 1,
    ),
    "difficulty-3way": Task(
        "difficulty-3way",
        "multiclass",
        ("easy (1-3)", "medium (4-6)", "hard (7-9)"),
        "The piece's difficulty in three bands",
        5e-5,
        64,
        "acc0",
        ordinal=True,
        label=lambda r: (int(r.labels["difficulty"]) - 1) // 3,
    ),
    "technique-multilabel": Task(
        "technique-multilabel",
        "multilabel",
        TECHNIQUES,
        "Which of seven piano techniques occur",
        5e-6,
        12,
        "mAP",
        label=lambda r: multi_hot(r.labels["techniques"], TECHNIQUES),
    ),
    "technique-single": Task(
        "technique-single",
        "multiclass",
        TECHNIQUES,
        "One technique per clip; a prediction counts if it is any of the clip's techniques",
        5e-6,
        12,
        "hit_accuracy",
        label=lambda r: TECHNIQUES.index(r.labels["technique_primary"]),
        accept=lambda r: tuple(TECHNIQUES.index(t) for t in r.labels["techniques"]),
    ),
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
            "multilabel",
            classes,
            "Multi-label classification from the manifest",
            5e-5,
            12,
            "mAP",
            label=lambda r: multi_hot(r.labels["label"], classes),
        )
    classes = tuple(sorted(set(values)))
    return Task(
        name, "multiclass", classes, "Classification from the manifest", 5e-5, 12, "acc0", label=lambda r: classes.index(r.labels["label"])
    )


def get_task(name: str, dataset: Dataset) -> Task:
    name = ALIASES.get(name, name)
    if name == "icpc-transfer":
        raise ValueError("icpc-transfer applies a PLD-trained ranking probe to the competition: run `pjbench transfer`")
    if name not in dataset.tasks:
        raise ValueError(f"task {name!r} is not defined on dataset {dataset.name}; its tasks: {', '.join(dataset.tasks)}")
    if name in TASKS:
        return TASKS[name]
    return manifest_task(name, dataset)


__all__ = ["ALIASES", "TASKS", "Example", "Task", "build_examples", "get_task"]
