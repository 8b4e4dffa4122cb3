"""Paired comparison of two results on the same test items (`pjbench compare`), and of every pair on a board.

Both results are scored on the same bootstrap replicates (the same draws of test groups; each its own seeds,
drawn by the same rule), so the replicate-by-replicate difference is a paired bootstrap of the difference of the
two scores, seeds and test sample included. The verdict reads the difference's 95% interval: above zero, ``A
better``; below, ``B better``; else ``tie``. The p-value is the two-sided bootstrap p (twice the smaller tail
share); over many pairs, Holm's step-down correction keeps the chance of any false verdict at 5%.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np

from ..hashing import config_hash, file_sha256
from ..paths import cache_dir
from ..results import predictions
from ..results.record import TaskResult, nan_to_null
from ..scoring import bootstrap
from ..tasks import Example, Task
from . import keyed_store
from .rescore import task_of

LEVEL = 0.95


@dataclass
class Scored:
    """A result with its per-seed predictions on one split, ready to be resampled."""

    path: Path
    result: TaskResult
    task: Task
    split: str
    examples: list[Example]  # sorted by their recording ids: every result on the same items has the same order
    per_seed: list[np.ndarray]  # each seed's probabilities, rows in ``examples`` order
    groups: list[list[dict[str, str]]]
    predictions_sha: str = ""  # the predictions file's own sha256 (what a stored comparison is keyed by)

    @property
    def label(self) -> str:
        return f"{self.result.encoder} {self.result.label}"

    def keys(self) -> list[tuple[str, ...]]:
        return [ex.ids for ex in self.examples]

    @cached_property
    def means(self) -> dict[str, float]:
        """Each metric's mean over seeds on this split (computed once)."""
        if self.split == "test":  # recorded in the result (rescore checks they are the predictions' own)
            return {m: float(s["mean"]) for m, s in self.result.scores.items()}
        values = [self.task.metrics(self.examples, p) for p in self.per_seed]
        return {m: float(np.mean([v[m] for v in values])) for m in values[0]}


def load_scored(path: Path, split: str = "test") -> Scored:
    result = TaskResult.load(path)
    task = task_of(result)
    rows = predictions.read(path, result.predictions)
    grouped = predictions.by_seed_and_split(rows)
    seeds = [s["seed"] for s in result.per_seed]
    missing = [s for s in seeds if (s, split) not in grouped]
    if missing:
        raise ValueError(f"{path}: no {split} predictions for seed(s) {missing}")
    first, _ = grouped[(seeds[0], split)]
    group_of = {tuple(r["ids"]): r["groups"] for r in rows if r["seed"] == seeds[0] and r["split"] == split}
    examples = sorted(first, key=lambda e: e.ids)
    per_seed = []
    for s in seeds:
        seed_examples, probs = grouped[(s, split)]
        position = {e.ids: i for i, e in enumerate(seed_examples)}
        if set(position) != set(group_of):
            raise ValueError(f"{path}: seed {s} has other {split} items than seed {seeds[0]}")
        per_seed.append(probs[[position[e.ids] for e in examples]])
    sha = file_sha256(Path(path).with_name(result.predictions["file"]))
    return Scored(Path(path), result, task, split, examples, per_seed, [group_of[e.ids] for e in examples], sha)


Memo = dict[tuple[str, str, int, int, tuple[str, ...]], bootstrap.Parts]


def boot_values(
    scored: Scored,
    clusters: bootstrap.Clusters,
    resamples: int = bootstrap.RESAMPLES,
    memo: Memo | None = None,
    seed: int = bootstrap.BOOTSTRAP_SEED,
    metrics: Sequence[str] | None = None,
) -> bootstrap.Parts:
    """The result's replicate parts of ``metrics`` (default: every metric with a weighted form), memoised per file,
    split, resamples, seed and metrics (a board compares one row with many), drawn from its own seed stream."""
    key = (str(scored.path), scored.split, resamples, seed, tuple(metrics or ()))
    if memo is not None and key in memo:
        return memo[key]
    values = bootstrap.replicate_parts(
        partial(scored.task.weighted_metrics, only=metrics),
        [(scored.examples, p) for p in scored.per_seed],
        clusters,
        resamples,
        seed,
        scored.result.intervals.get("seed_stream"),
    )
    if memo is not None:
        memo[key] = values
    return values


def group_key(scored: Scored) -> str | None:
    return scored.result.config.get("dataset", {}).get("resample_group")


def check_comparable(a: Scored, b: Scored) -> None:
    if (a.result.dataset, a.result.task) != (b.result.dataset, b.result.task):
        raise ValueError(
            f"{a.path} and {b.path} are not on one dataset and task ({a.result.dataset}/{a.result.task} against "
            f"{b.result.dataset}/{b.result.task})"
        )
    da, db = a.result.data_digest, b.result.data_digest
    if da and db and da != db:
        raise ValueError(
            f"{a.path} and {b.path} were made on different data (data fingerprints {da[:8]} and {db[:8]}: ids, labels, groups, "
            "splits or audio differ), so their scores are not comparable"
        )
    if sorted(a.keys()) != sorted(b.keys()):
        only_a, only_b = set(a.keys()) - set(b.keys()), set(b.keys()) - set(a.keys())
        raise ValueError(
            f"{a.path} and {b.path} were scored on different {a.split} items ({len(only_a)} only in A, {len(only_b)} only "
            f"in B; e.g. {sorted(only_a or only_b)[0]}): a different split or cache coverage; compare results of one split"
        )


@dataclass(frozen=True)
class Comparison:
    dataset: str
    task: str
    split: str
    metric: str
    a: str
    b: str
    mean_a: float
    mean_b: float
    low: float  # the 95% interval of mean_a - mean_b
    high: float
    p: float
    n_items: int
    n_groups: int
    group: str | None
    resamples: int
    p_adjusted: float | None = None
    p_mc_error: float = 0.0  # the Monte-Carlo standard error of p (from the number of resamples)
    unsettled: bool = False  # p stayed within Monte-Carlo error of the 5% line at the most resamples: counted a tie

    @property
    def difference(self) -> float:
        return self.mean_a - self.mean_b

    @property
    def verdict(self) -> str:
        # over many pairs the Holm-adjusted p decides; for one pair, whether the interval excludes zero
        significant = self.p_adjusted < 1 - LEVEL if self.p_adjusted is not None else self.low > 0 or self.high < 0
        if not significant or self.unsettled:
            return "tie"
        return "A better" if self.difference > 0 else "B better"


COMPARE_VERSION = 1  # bump when the comparison's arithmetic changes: stored comparisons are then recomputed


def _stored_key(a: Scored, b: Scored, metric: str, resamples: int, seed: int) -> str:
    """What a paired comparison's numbers depend on: both predictions files (by content), the split, the seeds and
    their streams, the grouping, the metric, the resamples and the bootstrap's seed."""

    def side(s: Scored) -> dict[str, Any]:
        seeds = [r["seed"] for r in s.result.per_seed]
        return {
            "predictions": s.predictions_sha,
            "seeds": seeds,
            "stream": s.result.intervals.get("seed_stream"),
            "task": s.result.config.get("task"),
        }

    return config_hash(
        {"v": COMPARE_VERSION, "a": side(a), "b": side(b), "split": a.split, "group": group_key(a), "metric": metric}
        | {"resamples": resamples, "seed": seed},
        length=24,
    )


def paired(
    a: Scored,
    b: Scored,
    metrics: Sequence[str],
    resamples: int = bootstrap.RESAMPLES,
    memo: Memo | None = None,
    seed: int = bootstrap.BOOTSTRAP_SEED,
    store: Path | None = None,
) -> list[Comparison]:
    """The paired bootstrap comparison of A and B on each metric: the same test groups drawn for both; each result's
    seeds from its own stream (shared only by results of one encoder and head); crossed factors combined as in
    `bootstrap.combine`, on the differences. Each comparison is stored under ``store`` (default
    ``$PJBENCH_HOME/cache/compared``) by what it depends on (`_stored_key`), so a board rebuilt after one new row
    recomputes only that row's comparisons."""
    check_comparable(a, b)
    folder = store or cache_dir() / "compared"
    storable = bool(a.predictions_sha and b.predictions_sha)  # results made in memory are not stored
    means_a, means_b = a.means, b.means
    found: dict[str, dict[str, Any]] = {}
    for metric in metrics if storable else ():
        data = keyed_store.read(folder, _stored_key(a, b, metric, resamples, seed))
        if data is not None and set(data) >= {"low", "high", "p", "p_mc_error", "n_groups", "group"}:
            found[metric] = data
    todo = [m for m in metrics if m not in found]
    if todo:
        clusters = bootstrap.clusters_of([(ex.ids, g) for ex, g in zip(a.examples, a.groups)], group_key(a))
        boot_a = boot_values(a, clusters, resamples, memo, seed, todo)
        boot_b = boot_values(b, clusters, resamples, memo, seed, todo)
        for metric in todo:
            if any(metric not in part for part in (*boot_a.values(), *boot_b.values())):
                known = ", ".join(sorted(bootstrap.unit_weight_metrics(a.task, a.examples, a.per_seed[0])))
                raise ValueError(f"metric {metric!r} is not one the interval is computed for; choose from {known}")
            diff = bootstrap.combine({k: boot_a[k][metric] - boot_b[k][metric] for k in boot_a})
            diff = diff[np.isfinite(diff)]
            low, high = bootstrap.percentile_interval(diff, LEVEL)
            p = 1.0 if diff.size == 0 else min(1.0, 2 * min(float(np.mean(diff <= 0)), float(np.mean(diff >= 0))))
            found[metric] = {
                "low": low,
                "high": high,
                "p": p,
                "p_mc_error": float(np.sqrt(p * (1 - p) / max(diff.size, 1))),
                "n_groups": clusters.n_groups,
                "group": clusters.key,
            }
            if storable:
                keyed_store.write(folder, _stored_key(a, b, metric, resamples, seed), {**found[metric], "a": str(a.path), "b": str(b.path)})
    return [
        Comparison(
            a.result.dataset,
            a.result.task,
            a.split,
            metric,
            a.label,
            b.label,
            means_a[metric],
            means_b[metric],
            found[metric]["low"],
            found[metric]["high"],
            found[metric]["p"],
            len(a.examples),
            found[metric]["n_groups"],
            found[metric]["group"],
            resamples,
            p_mc_error=found[metric]["p_mc_error"],
        )
        for metric in metrics
    ]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (monotone, capped at 1)."""
    order = np.argsort(p_values, kind="mergesort")
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


# the most resamples a decision gets before it is called unsettled (cost: items x resamples); 8,000 left a call whose
# adjusted p lay at the edge of its settling band (nuisance against mel's published head on paper's schedule,
# expertise-3way: p 0.0013-0.0027) unsettled under one bootstrap seed in ten and decided under the others
MAX_RESAMPLES = 32_000
SETTLE_Z = 3.0  # a decision is settled when its adjusted p lies this many Monte-Carlo errors from the 5% line


# how much more a p-value varies with the bootstrap's seed than a binomial count of its resamples does: the crossed
# factors' variance, which scales the replicates, is itself estimated from the draws (measured 1.6 at 8,000 resamples
# and 2.0 at 2,000 on the committed board's closest call, 12 seeds each)
SEED_SPREAD = 2.0


def settle_error(p: float, resamples: int) -> float:
    """The Monte-Carlo standard error a decision on ``p`` (a share of ``resamples``) is settled against: the binomial
    error of the add-one estimate (a handful of resamples in the tail read 0.003 where the truth was 0.008, and looked
    precise), times SEED_SPREAD."""
    n = max(resamples, 1)
    smoothed = (p * n + 1) / (n + 2)
    return SEED_SPREAD * float(np.sqrt(smoothed * (1 - smoothed) / n))


def settled(one: Callable[[int, int], Comparison], n: int, resamples: int = bootstrap.RESAMPLES) -> list[Comparison]:
    """A family of ``n`` comparisons (``one(i, resamples)``), Holm-adjusted; a comparison whose adjusted p lies
    within SETTLE_Z Monte-Carlo errors (`settle_error`) of the 5% line is drawn again with 4 times the resamples (it alone: the
    others' p stay), up to MAX_RESAMPLES; one still that close is marked unsettled and counts as a tie. So a verdict
    does not flip with the bootstrap's seed."""
    found = [one(i, resamples) for i in range(n)]
    alpha = 1 - LEVEL
    while found:
        adjusted = holm([c.p for c in found])
        order = list(np.argsort([c.p for c in found], kind="mergesort"))
        factor = {i: len(found) - rank for rank, i in enumerate(order)}  # Holm's multiplier of each p
        close = {i for i, c in enumerate(found) if abs(adjusted[i] - alpha) < SETTLE_Z * factor[i] * settle_error(c.p, c.resamples)}
        again = [i for i in close if found[i].resamples < MAX_RESAMPLES]
        if not again:
            return [replace(c, p_adjusted=p, unsettled=i in close) for i, (c, p) in enumerate(zip(found, adjusted))]
        for i in again:
            found[i] = one(i, min(found[i].resamples * 4, MAX_RESAMPLES))
    return found


def compare_all(
    paths: Sequence[Path], split: str = "test", metric: str | None = None, seed: int = bootstrap.BOOTSTRAP_SEED
) -> list[Comparison]:
    """Every pair of results on one dataset, data fingerprint and task, on the primary metric (or ``metric``),
    Holm-corrected per dataset and task, settled (`settled`). Results without predictions are left out (the caller
    says so)."""
    loaded: dict[tuple[str, str, str], list[Scored]] = {}
    for path in paths:
        scored = load_scored(path, split)
        loaded.setdefault((scored.result.dataset, scored.result.data_digest, scored.result.task), []).append(scored)
    out: list[Comparison] = []
    memo: Memo = {}
    for _, group in sorted(loaded.items()):
        pairs = list(itertools.combinations(group, 2))

        def one(i: int, resamples: int, pairs: list[tuple[Scored, Scored]] = pairs) -> Comparison:
            a, b = pairs[i]
            return paired(a, b, [metric or a.result.primary_metric], resamples, memo, seed)[0]

        out += settled(one, len(pairs))
    return out


def ties_with_best(
    scored: Sequence[Scored],
    metric: str,
    resamples: int = bootstrap.RESAMPLES,
    memo: Memo | None = None,
    seed: int = bootstrap.BOOTSTRAP_SEED,
) -> tuple[int, set[int]]:
    """The index of the best row on ``metric`` (highest mean) and the indices of the rows not distinguishable from
    it (paired bootstrap against the best, Holm over the column, settled: an unsettled decision is a tie)."""
    means = [s.means.get(metric, float("nan")) for s in scored]
    best = int(np.nanargmax(means))
    others = [i for i in range(len(scored)) if i != best]
    found = settled(lambda k, r: paired(scored[best], scored[others[k]], [metric], r, memo, seed)[0], len(others), resamples)
    return best, {i for i, c in zip(others, found) if c.verdict == "tie"}


def describe(c: Comparison, scale: float = 100.0) -> str:
    """Two lines: the numbers, then the verdict."""
    p_text = (
        f"p < {1 / c.resamples:.2g} (no resample crossed zero)"
        if c.p == 0
        else f"p = {c.p:.3g} (± {c.p_mc_error:.2g} Monte-Carlo)"
        + (f", Holm-adjusted {c.p_adjusted:.3g}" if c.p_adjusted not in (None, c.p) else "")
    )
    if c.unsettled:
        p_text += f", unsettled at {c.resamples} resamples: counted a tie"
    return (
        f"{c.task} {c.metric} on {c.dataset} ({c.split}, {c.n_items} items in {c.n_groups} "
        f"{c.group or 'recording'} groups, {c.resamples} paired resamples):\n"
        f"  A = {c.a}: {scale * c.mean_a:.1f}   B = {c.b}: {scale * c.mean_b:.1f}   "
        f"A - B = {scale * c.difference:+.1f} [{scale * c.low:+.1f}, {scale * c.high:+.1f}], {p_text} -> {c.verdict}"
    )


def as_record(c: Comparison) -> dict[str, Any]:
    """The comparison as strict JSON values (an undefined number is None)."""
    record, _ = nan_to_null({**c.__dict__, "difference": c.difference, "verdict": c.verdict})
    return dict(record)
