"""Recompute a result's metrics and intervals from its predictions file alone (`pjbench rescore`): probes, the ICPC
transfer and PISA."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..results import predictions
from ..results.record import TaskResult, score_differences
from ..scoring import bootstrap
from ..tasks import KINDS, TASKS, Task


def task_of(result: TaskResult) -> Task:
    """The task as the result recorded it (a manifest's task too): kind, classes, primary metric, ordinal."""
    recorded = result.config.get("task", {})
    if "kind" not in recorded or recorded["kind"] not in KINDS:
        raise ValueError(f"{result.task}: the result does not record its task kind; rerun it with this pjbench")
    kind = KINDS[recorded["kind"]]
    if kind.runner != "probe":
        raise ValueError(
            f"{result.task}: rescore and compare cover probe results; a {kind.runner} result keeps its predictions file "
            "(and its intervals include the test sample) but is not recomputed from it yet"
        )
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
    """The recorded result, the per-seed metrics recomputed from its predictions (validation and test; the test
    half, fitting and all pairs for the transfer), and each test metric's mean and intervals."""
    result = TaskResult.load(path)
    rows = predictions.read(path, result.predictions)
    runner = TASKS[result.task].kind.runner if result.task in TASKS else "probe"
    if runner == "transfer":
        return (result, *_rescore_transfer(result, rows))
    if runner == "pisa":
        return (result, *_rescore_pisa(result, rows))
    task = task_of(result)
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
        stream=result.intervals.get("seed_stream"),  # None: written before seed streams, drawn from the shared one
    )
    return result, per_seed, scores


def _rescore_transfer(result: TaskResult, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    from ..experiments.icpc_transfer import seeds_from_rows, source_accuracy, transfer_scores

    judged = seeds_from_rows(rows, [s["seed"] for s in result.per_seed])
    names = sorted({n for r in rows if r["split"] == "all" for n in r["ids"]})
    per_seed = [{"seed": s.seed, "test": s.metrics(names, source_accuracy(s, TASKS["expertise-2way"]))} for s in judged]
    scores, _ = transfer_scores(judged, per_seed, names)
    return per_seed, scores


def _rescore_pisa(result: TaskResult, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    from ..experiments.pisa import level_scores
    from ..scoring.metrics import level_metrics

    per_seed, probabilities = [], []
    videos = {r["ids"][0]: r["groups"][0]["video"] for r in rows}
    for s in (entry["seed"] for entry in result.per_seed):
        arrays = {}
        for split in ("val", "test"):
            mine = [r for r in rows if r["seed"] == s and r["split"] == split]
            arrays[split] = (np.array([r["target"] for r in mine]), np.array([r["scores"] for r in mine], dtype=np.float32))
        probabilities.append(arrays)
        per_seed.append({"seed": s, "val": level_metrics(*arrays["val"]), "test": level_metrics(*arrays["test"])})
    test_ids = [r["ids"][0] for r in rows if r["seed"] == per_seed[0]["seed"] and r["split"] == "test"]
    scores, _ = level_scores(per_seed, probabilities, test_ids, videos)
    return per_seed, scores


def differences(result: TaskResult, per_seed: list[dict[str, Any]], scores: dict[str, dict[str, float]]) -> list[str]:
    """Every recomputed number that is not exactly the recorded one (NaN equals NaN)."""
    splits = tuple(split for split in ("val", "test") if split in per_seed[0])  # the transfer has no validation
    out = score_differences(result.per_seed, per_seed, splits)
    for metric in sorted(set(result.scores) | set(scores)):
        a, b = result.scores.get(metric), scores.get(metric)
        if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
            out.append(f"{metric} over seeds: {a} recorded, {b} recomputed")
    return out
