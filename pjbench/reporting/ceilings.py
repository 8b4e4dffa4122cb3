"""Human ceilings on the board: for tasks whose raters' own answers are known (PercePiano's), a row saying how well one
rater agrees with the others on the board's own test items, next to the models' rows (never ranked with them)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..paths import cache_dir
from ..results import predictions
from ..results.record import TaskResult
from . import keyed_store

CEILING_VERSION = "1"
LABEL = "human (one rater vs the rest)"
NOTE = (
    "human: one rater's answers against the mean of the other raters' on the same test segments (R² and r per "
    "dimension, averaged; interval over the groups the models' intervals resample); models are scored against the mean of all raters, "
    "which is less noisy than one rater, so a model can pass it (docs/percepiano.md)"
)


def _percepiano(items: Sequence[tuple[str, dict[str, str]]], resample_group: Any) -> dict[str, Any]:
    from types import SimpleNamespace

    from ..datasets.percepiano.files import RAW_ANSWERS, unpacked
    from ..datasets.percepiano.labels import raw_answers
    from .human_agreement import human_ceiling

    answers, _ = raw_answers(unpacked() / RAW_ANSWERS)
    return human_ceiling(answers, [SimpleNamespace(id=i, groups=g) for i, g in items], resample_group)


# task -> how its ceiling is computed from the test items (segment id, groups) and the groups the intervals resample
CEILINGS: dict[str, Callable[[Sequence[tuple[str, dict[str, str]]], Any], dict[str, Any]]] = {
    "perceptual-performer": _percepiano,
    "perceptual-piece": _percepiano,
}


def test_items(result: TaskResult, results_dir: Path | None) -> list[tuple[str, dict[str, str]]]:
    """The test items of a result (its first seed's), as its predictions file records them."""
    rows = predictions.read(result.file_in(results_dir), result.predictions)
    first = min(row["seed"] for row in rows)
    return [(row["ids"][0], row["groups"][0]) for row in rows if row["seed"] == first and row["split"] == "test"]


def ceiling(task: str, results: Sequence[TaskResult], results_dir: Path | None) -> dict[str, Any] | None:
    """The task's ceiling on the test items of its results (None: no ceiling for this task, or no predictions), stored
    under ``$PJBENCH_HOME/cache/ceilings`` by the items."""
    if task not in CEILINGS:
        return None
    with_predictions = [r for r in results if r.task == task and r.predictions]
    if not with_predictions:
        return None
    items = sorted(test_items(with_predictions[0], results_dir))
    group = with_predictions[0].config.get("dataset", {}).get("resample_group")  # as the models' intervals resample
    group = tuple(group) if isinstance(group, list) else group
    key_text = json.dumps([CEILING_VERSION, task, group, [[i, sorted(g.items())] for i, g in items]])
    key = hashlib.sha256(key_text.encode()).hexdigest()[:24]
    folder = cache_dir() / "ceilings"
    stored = keyed_store.read(folder, key)
    if stored is None:
        stored = CEILINGS[task](items, group)
        keyed_store.write(folder, key, stored)
    return stored
