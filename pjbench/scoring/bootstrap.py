"""Intervals that include the test sample: a two-stage bootstrap over test groups and training seeds.

A score on the board is the mean over seeds of a metric on one test split. It varies with the seeds (training
randomness) and with the test split (which pieces, performers or videos happened to be drawn). One bootstrap
replicate redraws both: the test *groups* with replacement (every item of a drawn group comes along, so clips of
one piece count as one draw, not many), and the seeds with replacement; it scores each drawn seed on the
re-weighted items and averages. The 95% interval is the 2.5th and 97.5th percentiles of the replicates.

An item that spans two groups (a ranking pair of two performers) gets the product of its groups' draw counts
(the pigeonhole bootstrap for crossed data, Owen 2007); an item of one group, or a pair within one piece, gets its
group's count. Items without the group key are their own group.

The same replicate draws (from a fixed seed, groups in sorted order) serve every result on the same test items,
so two results' replicates are paired: their difference per replicate is the paired bootstrap of ``compare``.

Resampling is done with integer weights on the items, never by copying them, and every metric has a weighted
form here that equals :mod:`pjbench.scoring.metrics` at unit weights (a test checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import mean_ci

RESAMPLES = 2000
BOOTSTRAP_SEED = 0
METHOD = "two-stage percentile bootstrap: test groups (clusters) and seeds, both with replacement"


@dataclass(frozen=True)
class Clusters:
    """Which test groups each item belongs to (indices into ``names``)."""

    key: str | None  # the group kind resampled ("piece", "performer", ...); None: every recording alone
    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]  # per item, its distinct group indices

    @property
    def n_groups(self) -> int:
        return len(self.names)


def clusters_of(items: Sequence[tuple[Sequence[str], Sequence[dict[str, str]]]], key: str | None) -> Clusters:
    """From each item's recording ids and their group dicts (as a predictions file stores them)."""
    labels = []
    for ids, groups in items:
        own = []
        for rec_id, g in zip(ids, groups):
            own.append(f"{key}:{g[key]}" if key is not None and key in g else f"recording:{rec_id}")
        labels.append(tuple(dict.fromkeys(own)))
    names = tuple(sorted({n for own in labels for n in own}))
    index = {n: k for k, n in enumerate(names)}
    return Clusters(key, names, tuple(tuple(index[n] for n in own) for own in labels))


def group_counts(n_groups: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, groups): how often each group is drawn per replicate (sums to the number of groups)."""
    rng = np.random.default_rng([seed, 0])
    return rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=resamples).astype(np.float64)


def weights_from(counts: np.ndarray, members: Sequence[Sequence[int]]) -> np.ndarray:
    """(resamples, items) weights: the product of each item's groups' draw counts."""
    weights = np.ones((len(counts), len(members)))
    for item, own in enumerate(members):
        for k in own:
            weights[:, item] *= counts[:, k]
    return weights


def item_weights(clusters: Clusters, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, items) integer weights: each replicate draws the groups with replacement."""
    return weights_from(group_counts(clusters.n_groups, resamples, seed), clusters.members)


def seed_draws(n_seeds: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, n_seeds) how often each seed is drawn per replicate (sums to n_seeds; all ones for one seed)."""
    rng = np.random.default_rng([seed, 1])
    return rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=resamples).astype(np.float64)


# --- weighted metrics: every function takes W (replicates, items) and returns one value per replicate -----------


def _nanmean(rows: list[np.ndarray], n: int) -> np.ndarray:
    """The mean over rows ignoring NaN, per replicate; NaN (silently) where a replicate has no defined row."""
    if not rows:
        return np.full(n, np.nan)
    stacked = np.stack(rows)
    defined = np.isfinite(stacked)
    count = defined.sum(axis=0)
    total = np.where(defined, stacked, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_mean(w: np.ndarray, hits: np.ndarray) -> np.ndarray:
    return _ratio(w @ hits.astype(np.float64), w.sum(axis=1))


def weighted_acc_within(w: np.ndarray, y: np.ndarray, distance: np.ndarray, n: float) -> np.ndarray:
    """Per-class-averaged share within ``n`` (Acc_n), over the classes present in each replicate."""
    within = (distance <= n + 1e-9).astype(np.float64)
    per_class = []
    for c in np.unique(y):
        cols = y == c
        per_class.append(_ratio(w[:, cols] @ within[cols], w[:, cols].sum(axis=1)))
    return _nanmean(per_class, len(w))


def weighted_macro_f1(w: np.ndarray, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Macro F1 over the classes present in the truth of each replicate (as metrics.multiclass_metrics)."""
    scores = []
    for c in np.unique(y):
        tp = w[:, (y == c) & (pred == c)].sum(axis=1)
        fp = w[:, (y != c) & (pred == c)].sum(axis=1)
        fn = w[:, (y == c) & (pred != c)].sum(axis=1)
        present = w[:, y == c].sum(axis=1) > 0
        f1 = _ratio(2 * tp, 2 * tp + fp + fn)
        scores.append(np.where(present, np.nan_to_num(f1), np.nan))
    return _nanmean(scores, len(w))


def _threshold_counts(w: np.ndarray, truth: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted true and false positives at each distinct score threshold, highest first (as scikit-learn). The
    weights are integer counts, so every running sum is exact and ``fps`` is the total less ``tps``."""
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], truth[order].astype(bool)
    ws = w[:, order]
    last_of_run = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(np.where(t, ws, 0.0), axis=1)[:, last_of_run]
    fps = np.cumsum(ws, axis=1)[:, last_of_run] - tps
    return tps, fps


def _average_precision(tps: np.ndarray, fps: np.ndarray) -> np.ndarray:
    precision = _ratio(tps, tps + fps)
    recall = _ratio(tps, tps[:, -1:])
    gain = np.diff(np.concatenate([np.zeros((len(tps), 1)), recall], axis=1), axis=1)
    return np.where(tps[:, -1] > 0, np.nansum(gain * np.nan_to_num(precision), axis=1), np.nan)


def _roc_auc(tps: np.ndarray, fps: np.ndarray) -> np.ndarray:
    tpr = np.concatenate([np.zeros((len(tps), 1)), _ratio(tps, tps[:, -1:])], axis=1)
    fpr = np.concatenate([np.zeros((len(tps), 1)), _ratio(fps, fps[:, -1:])], axis=1)
    area = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
    return np.where((tps[:, -1] > 0) & (fps[:, -1] > 0), area, np.nan)


def weighted_average_precision(w: np.ndarray, truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    return _average_precision(*_threshold_counts(w, truth, score))


def weighted_roc_auc(w: np.ndarray, truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    return _roc_auc(*_threshold_counts(w, truth, score))


def weighted_multilabel(w: np.ndarray, y: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    ap, auc = [], []
    for k in range(y.shape[1]):
        counts = _threshold_counts(w, y[:, k], scores[:, k])  # once for both curves
        ap.append(_average_precision(*counts))
        auc.append(_roc_auc(*counts))
    pred = scores >= 0.5
    return {
        "mAP": _nanmean(ap, len(w)),
        "roc_auc": _nanmean(auc, len(w)),
        "labelwise_accuracy": weighted_mean(w, np.mean(pred == y.astype(bool), axis=1)),
        "exact_match": weighted_mean(w, np.all(pred == y.astype(bool), axis=1)),
    }


def weighted_level_metrics(w: np.ndarray, y: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`pjbench.scoring.metrics.level_metrics` under weights, but for Spearman's rho (seeds only)."""
    pred = probs.argmax(axis=1)
    distance = np.abs(pred - y).astype(np.float64)
    return {
        "accuracy": weighted_mean(w, pred == y),
        "acc0": weighted_acc_within(w, y, distance, 0),
        "within_one": weighted_mean(w, distance <= 1),
        "mae": weighted_mean(w, distance),
    }


def unit_weight_metrics(task: Any, examples: Sequence[Any], probs: np.ndarray) -> dict[str, float]:
    """The task's metrics that have a weighted form, at unit weights: the values of ``task.metrics`` (to float
    rounding; a test checks it) at a fraction of scikit-learn's per-call cost (25 ms against 2 ms for the multi-label
    metrics of 270 clips). For a split scored every epoch: validation."""
    values = task.weighted_metrics(examples, probs, np.ones((1, len(examples))))
    return {metric: float(v[0]) for metric, v in values.items()}


# --- replicates and intervals ---------------------------------------------------------------------------------


def seed_average(
    per_seed_values: Sequence[dict[str, np.ndarray]], resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> dict[str, np.ndarray]:
    """metric -> (resamples,) replicate values: each replicate's drawn seeds' weighted metrics, averaged. An undrawn
    seed adds nothing; a drawn seed whose metric is undefined on this replicate (a class left out by the draw) makes
    the replicate undefined, and it is dropped from the percentiles."""
    draws = seed_draws(len(per_seed_values), resamples, seed)
    total: dict[str, np.ndarray] = {}
    for s, values_of in enumerate(per_seed_values):
        for metric, values in values_of.items():
            contribution = np.where(draws[:, s] > 0, draws[:, s] * values, 0.0)
            total[metric] = total.get(metric, np.zeros(resamples)) + contribution
    return {metric: values / len(per_seed_values) for metric, values in total.items()}


def replicates(
    metric_fn: Any, per_seed: Sequence[tuple[Any, np.ndarray]], clusters: Clusters, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> dict[str, np.ndarray]:
    """metric -> (resamples,) seed-averaged replicate values. ``metric_fn(examples, probs, W)`` gives the weighted
    metrics of one seed; ``per_seed`` holds each seed's test examples and probabilities, items in one order."""
    w = item_weights(clusters, resamples, seed)
    return seed_average([metric_fn(examples, probs, w) for examples, probs in per_seed], resamples, seed)


def replicates_varying_items(
    per_seed: Sequence[tuple[Sequence[Sequence[int]], Any]], n_groups: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> dict[str, np.ndarray]:
    """As :func:`replicates` when each seed is scored on its own items (the ICPC transfer's seeded halves): one draw
    of the groups (indices into one list of ``n_groups``) serves every seed; ``per_seed`` holds each seed's item
    memberships and a function from item weights (resamples, items) to weighted metrics."""
    counts = group_counts(n_groups, resamples, seed)
    return seed_average([metric_fn(weights_from(counts, members)) for members, metric_fn in per_seed], resamples, seed)


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


def interval_scores(per_seed_scores: list[dict[str, float]], boot: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """metric -> mean over seeds; ``ci_low``/``ci_high`` of the two-stage bootstrap (where the metric has a weighted
    form); ``ci95``, the larger distance from the mean to an end (what a ± shows); ``seed_ci95``, the Student-t
    half-width over the seeds alone (NaN for one seed)."""
    out: dict[str, dict[str, float]] = {}
    for metric in sorted(per_seed_scores[0]):
        mean, seed_half = mean_ci([s[metric] for s in per_seed_scores])
        entry = {"mean": mean, "ci95": seed_half, "seed_ci95": seed_half}
        if metric in boot and np.isfinite(mean):
            low, high = percentile_interval(boot[metric])
            if np.isfinite(low):
                entry.update(ci_low=low, ci_high=high, ci95=max(mean - low, high - mean, 0.0))
        out[metric] = entry
    return out


def resampling_record(
    clusters: Clusters, n_items: int, n_seeds: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> dict[str, Any]:
    """What a result records about its intervals."""
    return {
        "method": METHOD,
        "group": clusters.key,
        "n_groups": clusters.n_groups,
        "n_items": n_items,
        "n_seeds": n_seeds,
        "resamples": resamples,
        "seed": seed,
        "level": 0.95,
    }


def task_scores(
    task: Any,
    test_per_seed: Sequence[tuple[Any, np.ndarray]],
    item_groups: Sequence[tuple[Sequence[str], Sequence[dict[str, str]]]],
    group_key: str | None,
    per_seed_records: Sequence[dict[str, Any]],
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """A probe result's scores (mean, two-stage interval, seed-only interval per metric) and the record of how the
    interval was made; ``test_per_seed`` holds each seed's test examples and probabilities in one item order,
    ``item_groups`` each item's recording ids and group dicts."""
    clusters = clusters_of(item_groups, group_key)
    boot = replicates(task.weighted_metrics, test_per_seed, clusters)
    scores = interval_scores([r["test"] for r in per_seed_records], boot)
    return scores, resampling_record(clusters, len(item_groups), len(test_per_seed))
