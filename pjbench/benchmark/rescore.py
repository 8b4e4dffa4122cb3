"""Recompute a probe result's metrics and intervals from its predictions file alone (`pjbench rescore`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..tasks import KINDS, Task
from . import bootstrap, predictions
from .results import TaskResult, score_differences


def task_of(result: TaskResult) -> Task:
    """The task as the result recorded it (a manifest's task too): kind, classes, primary metric, ordinal."""
    recorded = result.config.get("task", {})
    if "kind" not in recorded or recorded["kind"] not in KINDS:
        raise ValueError(f"{result.task}: the result does not record its task kind; rerun it with this pjbench")
    kind = KINDS[recorded["kind"]]
    if kind.runner != "probe":
        raise ValueError(f"{result.task}: rescoring covers probe results; {kind.runner} results keep no predictions file yet")
    return Task(
        recorded["name"],
        kind,
        tuple(recorded["classes"]),
        "",
        0.0,
        0,
        recorded.get("primary_metric", result.primary_metric),
        ordinal=bool(recorded.get("ordinal", False)),
        class_values=tuple(recorded["class_values"]) if recorded.get("class_values") else None,
    )


def rescore(path: Path) -> tuple[TaskResult, list[dict[str, Any]], dict[str, dict[str, float]]]:
    """The recorded result, the per-seed validation and test metrics recomputed from its predictions, and each
    test metric's mean and intervals (test groups and seeds; seeds alone)."""
    result = TaskResult.load(path)
    task = task_of(result)
    rows = predictions.read(path, result.predictions)
    grouped = predictions.by_seed_and_split(rows)
    per_seed = []
    for recorded in result.per_seed:
        entry: dict[str, Any] = {"seed": recorded["seed"]}
        for split in ("val", "test"):
            if (recorded["seed"], split) not in grouped:
                raise ValueError(f"{path}: the predictions file has no {split} items for seed {recorded['seed']}")
            examples, probs = grouped[(recorded["seed"], split)]
            entry[split] = task.metrics(examples, probs)
        per_seed.append(entry)
    first = result.per_seed[0]["seed"]
    items = [(r["ids"], r["groups"]) for r in rows if r["seed"] == first and r["split"] == "test"]
    scores, _ = bootstrap.task_scores(
        task,
        [grouped[(s["seed"], "test")] for s in result.per_seed],
        items,
        result.config.get("dataset", {}).get("resample_group"),
        per_seed,
    )
    return result, per_seed, scores


def differences(result: TaskResult, per_seed: list[dict[str, Any]], scores: dict[str, dict[str, float]]) -> list[str]:
    """Every recomputed number that is not exactly the recorded one (NaN equals NaN)."""
    out = score_differences(result.per_seed, per_seed, ("val", "test"))
    for metric in sorted(set(result.scores) | set(scores)):
        a, b = result.scores.get(metric), scores.get(metric)
        if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
            out.append(f"{metric} over seeds: {a} recorded, {b} recomputed")
    return out
