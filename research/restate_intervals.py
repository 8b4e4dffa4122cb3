"""Recompute the intervals of result files from their predictions under the current interval design: both crossed
grouping factors of the dataset (the synthetic set: pieces and performers) and each result's own seed stream
(docs/statistics.md). The per-seed metrics must come out exactly as recorded (they do not depend on the design);
only `scores` (the intervals), `intervals`, `config.dataset.resample_group` and the configuration hash change.

    PJBENCH_UPDATE_REFERENCE=1 python research/restate_intervals.py results/synthetic --group piece --group performer

Used on 2026-12-04 for the committed reference results (issue 34); `pjbench rescore` is exact on them after."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pjbench.hashing import config_hash
from pjbench.reporting.rescore import task_of
from pjbench.results import predictions
from pjbench.results.record import UPDATE_REFERENCE_ENV, TaskResult, is_reference, score_differences
from pjbench.scoring import bootstrap
from pjbench.tasks import TASKS


def restate(path: Path, group: tuple[str, ...]) -> str:
    result = TaskResult.load(path)
    if result.task in TASKS and TASKS[result.task].kind.runner != "probe":
        return "skipped (not a probe result)"
    task = task_of(result)
    rows = predictions.read(path, result.predictions)
    grouped = predictions.by_seed_and_split(rows)
    first = result.per_seed[0]["seed"]
    items = [(r["ids"], r["groups"]) for r in rows if r["seed"] == first and r["split"] == "test"]
    per_seed = [{"seed": s["seed"], "test": task.metrics(*grouped[(s["seed"], "test")])} for s in result.per_seed]
    differ = score_differences(result.per_seed, per_seed)
    if differ:
        raise SystemExit(f"{path}: its per-seed metrics do not follow from its predictions: {differ[:2]}")
    stream = bootstrap.seed_stream_of(result.encoder, result.head)
    scores, intervals = bootstrap.task_scores(
        task, [grouped[(s["seed"], "test")] for s in result.per_seed], items, group, result.per_seed, stream=stream
    )
    before = result.scores[result.primary_metric]
    result.scores, result.intervals = scores, intervals
    config = {k: v for k, v in result.config.items() if k != "hash"}
    config["dataset"] = {**config["dataset"], "resample_group": list(group)}
    result.config = {**config, "hash": config_hash(config)}
    path.write_text(result.to_json())
    after = scores[result.primary_metric]
    return f"{result.primary_metric} ±{100 * before['ci95']:.2f} -> ±{100 * after['ci95']:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--group", action="append", required=True, help="a grouping factor, in order (repeat for crossed ones)")
    args = parser.parse_args()
    if is_reference(args.folder.parent) and os.environ.get(UPDATE_REFERENCE_ENV) != "1":
        sys.exit(f"{args.folder} is pjbench's committed reference: set {UPDATE_REFERENCE_ENV}=1")
    for path in sorted(args.folder.rglob("*.json")):
        if path.name.startswith("leaderboard"):
            continue
        print(f"{path.relative_to(args.folder)}: {restate(path, tuple(args.group))}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
