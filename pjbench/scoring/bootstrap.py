"""Intervals that include the test sample: a two-stage bootstrap over test groups and training seeds.

A score on the board is the mean over seeds of a metric on one test split. It varies with the seeds (training
randomness) and with the test split (which pieces, performers or videos happened to be drawn). One bootstrap
replicate redraws both: the test *groups* with replacement (every item of a drawn group comes along, so clips of
one piece count as one draw, not many), and the seeds with replacement; it scores each drawn seed on the
re-weighted items and averages. The 95% interval is the 2.5th and 97.5th percentiles of the replicates.

An item that spans two groups (a ranking pair of two performers) gets the product of its groups' draw counts
(the pigeonhole bootstrap for crossed data, Owen 2007); an item of one group, or a pair within one piece, gets its
group's count. Items without the group key are their own group.

Where items are grouped by two crossed factors (the synthetic set: a piece is played by several performers, a
performer plays several pieces), the interval takes the two-way cluster-robust variance of Cameron, Gelbach and
Miller (2011): V = V(pieces) + V(performers) - V(recordings), each term the variance of a one-way bootstrap (groups
of that factor; of the recordings, the groups both factors share), all three on the same seed draws. The replicates are
the first factor's, their spread around their mean scaled to V (never narrowed below the first factor's own): the
percentile interval keeps that bootstrap's shape and gets the variance both factors carry. (The pigeonhole bootstrap, which multiplies both
factors' draw counts, counts the items' own variance about three times over: on the committed expertise-3way board
it gave +-7.9 where V gives +-4.1.) Paired comparisons combine the three variances of the replicate differences
the same way.

Seeds: a result's seeds are drawn from a stream named by its encoder and head (`seed_stream`): two results of one
encoder and head (schedules, layers) share their seed draws, since seed s gives both the same initial weights; two
encoders' seeds are unrelated runs and are drawn independently. Results written before streams (no `seed_stream`
in their `intervals`) drew one shared stream, and are recomputed that way.

The same replicate draws (from a fixed seed, groups in sorted order) serve every result on the same test items,
so two results' replicates are paired: their difference per replicate is the paired bootstrap of ``compare``.

Resampling is done with integer weights on the items, never by copying them, and every metric has a weighted
form here that equals :mod:`pjbench.scoring.metrics` at unit weights (a test checks it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import mean_ci

RESAMPLES = 2000
BOOTSTRAP_SEED = 0
METHOD = "two-stage percentile bootstrap: test groups (clusters) and seeds, both with replacement"


GroupKey = str | Sequence[str] | None  # one factor, crossed factors (first: the primary), or none


def factors_of(key: GroupKey) -> tuple[str, ...]:
    if key is None:
        return ()
    return (key,) if isinstance(key, str) else tuple(key)


@dataclass(frozen=True)
class Clusters:
    """Which test groups each item belongs to (indices into ``names``), and each group's factor."""

    key: str | None  # the group kinds resampled, as shown ("piece", "piece×performer"); None: every recording alone
    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]  # per item, its distinct group indices
    factor_of: tuple[int, ...] = ()  # per name, its factor (0: the first factor, or a recording alone); () all 0
    cells: Clusters | None = None  # crossed factors: the items grouped by recording (a piece played by a performer)

    @property
    def n_groups(self) -> int:
        return len(self.names)

    def groups_per_factor(self) -> list[int]:
        factors = self.factor_of or (0,) * len(self.names)
        return [sum(1 for f in factors if f == k) for k in range(max(factors, default=0) + 1)]

    @property
    def crossed(self) -> bool:
        return len(self.groups_per_factor()) > 1

    def one_way(self, factor: int) -> Clusters:
        """The items grouped by one factor alone (an item with no group of it is its own group)."""
        factors = self.factor_of or (0,) * len(self.names)
        kept = [k for k, f in enumerate(factors) if f == factor]
        index = {k: i for i, k in enumerate(kept)}
        names = [self.names[k] for k in kept]
        members = []
        for item, own in enumerate(self.members):
            mine = tuple(index[k] for k in own if k in index)
            if not mine:
                names.append(f"item:{item}")
                mine = (len(names) - 1,)
            members.append(mine)
        return Clusters(self.names[kept[0]].split(":", 1)[0] if kept else None, tuple(names), tuple(members))

    def intersection(self) -> Clusters:
        """The groups both factors share: a recording (one performer's performance of one piece); a ranking pair
        spans its two recordings."""
        if self.cells is None:
            raise ValueError("one factor: no intersection")
        return self.cells


def clusters_of(items: Sequence[tuple[Sequence[str], Sequence[dict[str, str]]]], key: GroupKey) -> Clusters:
    """From each item's recording ids and their group dicts (as a predictions file stores them). With crossed
    factors, a recording lacking the first factor is its own group; one lacking a later factor has none of it."""
    factors = factors_of(key)
    labels = []
    for ids, groups in items:
        own = []
        for rec_id, g in zip(ids, groups):
            first = factors[0] if factors else None
            own.append(f"{first}:{g[first]}" if first is not None and first in g else f"recording:{rec_id}")
            own += [f"{f}:{g[f]}" for f in factors[1:] if f in g]
        labels.append(tuple(dict.fromkeys(own)))
    factor_index = {f: k for k, f in enumerate(factors)}

    def factor(name: str) -> int:
        return factor_index.get(name.split(":", 1)[0], 0)

    # sorted within each factor, the first factor first: one factor gives exactly the one-way order
    names = tuple(sorted({n for own in labels for n in own}, key=lambda n: (factor(n), n)))
    index = {n: k for k, n in enumerate(names)}
    shown = "×".join(factors) if factors else None
    factor_of = tuple(factor(n) for n in names) if len(factors) > 1 else ()
    cells = clusters_of(items, None) if len(factors) > 1 else None
    return Clusters(shown, names, tuple(tuple(index[n] for n in own) for own in labels), factor_of, cells)


def group_counts(n_groups: int | Sequence[int], resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, groups): how often each group is drawn per replicate; per factor (``n_groups``: the groups of
    each factor, in the names' order) the draws sum to that factor's number of groups, each factor drawn on its own
    (the first from the one-way stream, so one factor draws exactly as before)."""
    sizes = [n_groups] if isinstance(n_groups, int) else list(n_groups)
    parts = []
    for k, n in enumerate(sizes):
        if n == 0:
            parts.append(np.zeros((resamples, 0)))
            continue
        rng = np.random.default_rng([seed, 0] if k == 0 else [seed, 0, k])
        parts.append(rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64))
    return np.concatenate(parts, axis=1) if parts else np.zeros((resamples, 0))


def weights_from(counts: np.ndarray, members: Sequence[Sequence[int]]) -> np.ndarray:
    """(resamples, items) weights: the product of each item's groups' draw counts (gathered column-wise: one
    gather per group position, not one loop per item)."""
    if not members:
        return np.ones((len(counts), 0))
    longest = max(len(own) for own in members)
    padded = np.full((len(members), longest), counts.shape[1])  # the extra column of ones pads shorter items
    for item, own in enumerate(members):
        padded[item, : len(own)] = own
    extended = np.concatenate([counts, np.ones((len(counts), 1))], axis=1)
    weights = extended[:, padded[:, 0]]
    for position in range(1, longest):
        weights = weights * extended[:, padded[:, position]]
    # row-major, as the metrics' matrix products expect: another memory order sums fractional values in another order
    return np.ascontiguousarray(weights)


def item_weights(clusters: Clusters, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, items) integer weights: each replicate draws the groups of every factor with replacement."""
    return weights_from(group_counts(clusters.groups_per_factor(), resamples, seed), clusters.members)


def stream_number(stream: str) -> int:
    """A stable number for a seed stream's name (not Python's hash, which changes between runs)."""
    return int(hashlib.sha256(stream.encode()).hexdigest()[:12], 16)


def seed_draws(n_seeds: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED, stream: str | None = None) -> np.ndarray:
    """(resamples, n_seeds) how often each seed is drawn per replicate (sums to n_seeds; all ones for one seed);
    ``stream``: the result's seed stream (its encoder and head), None for the shared stream of older results."""
    rng = np.random.default_rng([seed, 1] if stream is None else [seed, 1, stream_number(stream)])
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


def _onehot(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return (values[:, None] == classes[None, :]).astype(np.float64)


def weighted_acc_within(w: np.ndarray, y: np.ndarray, distance: np.ndarray, n: float) -> np.ndarray:
    """Per-class-averaged share within ``n`` (Acc_n), over the classes present in each replicate. One matrix
    product per count (the weights are integer counts, so every sum is exact in any order)."""
    within = (distance <= n + 1e-9).astype(np.float64)
    truth = _onehot(y, np.unique(y))
    per_class = _ratio(w @ (truth * within[:, None]), w @ truth)  # (replicates, classes)
    return _nanmean(list(per_class.T), len(w))


def weighted_macro_f1(w: np.ndarray, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Macro F1 over the classes present in the truth of each replicate (as metrics.multiclass_metrics)."""
    classes = np.unique(y)
    truth, predicted = _onehot(y, classes), _onehot(pred, classes)
    tp = w @ (truth * predicted)
    fp = w @ ((1 - truth) * predicted)
    fn = w @ (truth * (1 - predicted))
    present = (w @ truth) > 0
    f1 = np.where(present, np.nan_to_num(_ratio(2 * tp, 2 * tp + fp + fn)), np.nan)
    return _nanmean(list(f1.T), len(w))


def _exact_counts(w: np.ndarray) -> np.ndarray:
    """The weights as 64-bit integers where they are whole counts (running sums of integers are exact, and numpy
    vectorises them where it cannot reorder a float sum: several times faster), else as they are."""
    whole = w.astype(np.int64)
    return whole if np.array_equal(whole, w) else w


def _threshold_counts(w: np.ndarray, truth: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted true and false positives at each distinct score threshold, highest first (as scikit-learn). With
    integer weights (:func:`_exact_counts`) every running sum is exact, and ``fps`` is the total less ``tps``."""
    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], truth[order].astype(bool)
    ws = np.take(w, order, axis=1)  # row-major (an index w[:, order] is not, and its running sums are slower)
    last_of_run = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    totals = np.take(np.cumsum(ws, axis=1), last_of_run, axis=1)
    tps = np.take(np.cumsum(ws * t, axis=1), last_of_run, axis=1)
    # column-major, as they were when computed from float weights: the curves' sums over thresholds then add in the
    # same order, and every recorded interval is reproduced to the last bit
    return np.asfortranarray(tps, dtype=np.float64), np.asfortranarray(totals - tps, dtype=np.float64)


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
    return _average_precision(*_threshold_counts(_exact_counts(w), truth, score))


def weighted_roc_auc(w: np.ndarray, truth: np.ndarray, score: np.ndarray) -> np.ndarray:
    return _roc_auc(*_threshold_counts(_exact_counts(w), truth, score))


def weighted_multilabel(w: np.ndarray, y: np.ndarray, scores: np.ndarray, only: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """The multi-label metrics under weights (``only``: just these)."""
    wanted = {"mAP", "roc_auc", "labelwise_accuracy", "exact_match"} if only is None else set(only)
    out: dict[str, np.ndarray] = {}
    if wanted & {"mAP", "roc_auc"}:
        ap, auc = [], []
        counts_w = _exact_counts(w)
        for k in range(y.shape[1]):
            counts = _threshold_counts(counts_w, y[:, k], scores[:, k])  # once for both curves
            if "mAP" in wanted:
                ap.append(_average_precision(*counts))
            if "roc_auc" in wanted:
                auc.append(_roc_auc(*counts))
        if "mAP" in wanted:
            out["mAP"] = _nanmean(ap, len(w))
        if "roc_auc" in wanted:
            out["roc_auc"] = _nanmean(auc, len(w))
    pred = scores >= 0.5
    if "labelwise_accuracy" in wanted:
        out["labelwise_accuracy"] = weighted_mean(w, np.mean(pred == y.astype(bool), axis=1))
    if "exact_match" in wanted:
        out["exact_match"] = weighted_mean(w, np.all(pred == y.astype(bool), axis=1))
    return out


def weighted_regression(w: np.ndarray, y: np.ndarray, pred: np.ndarray, only: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """:func:`pjbench.scoring.metrics.regression_metrics`' means under weights: R² and Pearson's r per output from
    weighted sums (an item drawn twice counts twice), averaged over the outputs; the mean squared error."""
    wanted = {"r2", "pearson", "mse"} if only is None else set(only)
    w = w.astype(np.float64)
    y, p = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    total = w.sum(axis=1, keepdims=True)  # (B, 1)
    safe = np.where(total > 0, total, 1.0)

    def mean(values: np.ndarray) -> np.ndarray:  # (n, K) -> (B, K)
        return (w @ values) / safe

    out: dict[str, np.ndarray] = {}
    residual = mean((y - p) ** 2)
    if "mse" in wanted:
        out["mse"] = np.where(total[:, 0] > 0, residual.mean(axis=1), np.nan)
    if wanted & {"r2", "pearson"}:
        my, mp = mean(y), mean(p)
        var_y = mean(y**2) - my**2
        with np.errstate(invalid="ignore", divide="ignore"):
            if "r2" in wanted:
                r2 = np.where(var_y > 1e-15, 1 - residual / np.where(var_y > 1e-15, var_y, 1.0), np.nan)
                out["r2"] = _nanmean(list(r2.T), len(w))
            if "pearson" in wanted:
                cov = mean(y * p) - my * mp
                var_p = mean(p**2) - mp**2
                den = np.sqrt(np.clip(var_y, 0, None) * np.clip(var_p, 0, None))
                r = np.where(den > 1e-15, cov / np.where(den > 1e-15, den, 1.0), np.nan)
                out["pearson"] = _nanmean(list(r.T), len(w))
    return out


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
    per_seed_values: Sequence[dict[str, np.ndarray]], resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED, stream: str | None = None
) -> dict[str, np.ndarray]:
    """metric -> (resamples,) replicate values: each replicate's drawn seeds' weighted metrics, averaged. An undrawn
    seed adds nothing; a drawn seed whose metric is undefined on this replicate (a class left out by the draw) makes
    the replicate undefined, and it is dropped from the percentiles."""
    draws = seed_draws(len(per_seed_values), resamples, seed, stream)
    total: dict[str, np.ndarray] = {}
    for s, values_of in enumerate(per_seed_values):
        for metric, values in values_of.items():
            contribution = np.where(draws[:, s] > 0, draws[:, s] * values, 0.0)
            total[metric] = total.get(metric, np.zeros(resamples)) + contribution
    return {metric: values / len(per_seed_values) for metric, values in total.items()}


Parts = dict[str, dict[str, np.ndarray]]  # "all" (one factor) or "first", "second", "items" -> metric -> replicates


def replicate_parts(
    metric_fn: Any,
    per_seed: Sequence[tuple[Any, np.ndarray]],
    clusters: Clusters,
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    stream: str | None = None,
) -> Parts:
    """The replicates a result's interval is made of: one set for one factor; for two crossed factors, the one-way
    bootstraps of each and of the items alone (see the module), all on the same seed draws."""

    def one(c: Clusters) -> dict[str, np.ndarray]:
        w = item_weights(c, resamples, seed)
        return seed_average([metric_fn(examples, probs, w) for examples, probs in per_seed], resamples, seed, stream)

    if not clusters.crossed:
        return {"all": one(clusters)}
    if len(clusters.groups_per_factor()) > 2:
        raise ValueError("the interval resamples at most two crossed factors")
    return {"first": one(clusters.one_way(0)), "second": one(clusters.one_way(1)), "items": one(clusters.intersection())}


def combine(parts: dict[str, np.ndarray]) -> np.ndarray:
    """One metric's replicates from its parts: the one factor's; for crossed factors, the first factor's (the
    second's where the first does not vary) scaled to the two-way cluster-robust variance V(first) + V(second) -
    V(recordings) ("items": the intersection), never below the first factor's own (the usual floor where the
    estimate falls short of it)."""
    if "all" in parts:
        return parts["all"]
    var = {k: float(np.nanvar(v)) if np.isfinite(v).sum() > 1 else float("nan") for k, v in parts.items()}
    if not all(np.isfinite(v) for v in var.values()):
        return parts["first"]
    base = "first" if var["first"] > 0 else "second"
    target = max(var["first"] + var["second"] - var["items"], var["first"])
    if not var[base] > 0 or not target > 0:
        return parts[base]
    scale = np.sqrt(target / var[base])
    centre = float(np.nanmean(parts[base]))
    return centre + scale * (parts[base] - centre)


def combined(parts: Parts) -> dict[str, np.ndarray]:
    """metric -> replicates (see `combine`)."""
    metrics = next(iter(parts.values()))
    return {m: combine({k: part[m] for k, part in parts.items()}) for m in metrics}


def replicates(
    metric_fn: Any,
    per_seed: Sequence[tuple[Any, np.ndarray]],
    clusters: Clusters,
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    stream: str | None = None,
) -> dict[str, np.ndarray]:
    """metric -> (resamples,) seed-averaged replicate values. ``metric_fn(examples, probs, W)`` gives the weighted
    metrics of one seed; ``per_seed`` holds each seed's test examples and probabilities, items in one order."""
    return combined(replicate_parts(metric_fn, per_seed, clusters, resamples, seed, stream))


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


CROSSED_METHOD = (
    "two-stage percentile bootstrap over the first factor's groups and seeds, its spread scaled to the two-way "
    "cluster-robust variance V(first) + V(second) - V(recordings) (Cameron, Gelbach and Miller 2011)"
)


def resampling_record(
    clusters: Clusters, n_items: int, n_seeds: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED, stream: str | None = None
) -> dict[str, Any]:
    """What a result records about its intervals (what `rescore` needs to draw the same replicates)."""
    return {
        "method": CROSSED_METHOD if clusters.crossed else METHOD,
        **({"seed_stream": stream} if stream is not None else {}),
        "group": clusters.key,
        "n_groups": clusters.n_groups,
        **({"groups_per_factor": clusters.groups_per_factor()} if clusters.factor_of else {}),
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
    group_key: GroupKey,
    per_seed_records: Sequence[dict[str, Any]],
    stream: str | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """A probe result's scores (mean, two-stage interval, seed-only interval per metric) and the record of how the
    interval was made; ``test_per_seed`` holds each seed's test examples and probabilities in one item order,
    ``item_groups`` each item's recording ids and group dicts; ``stream``: its seed stream (`seed_stream_of`)."""
    clusters = clusters_of(item_groups, group_key)
    boot = replicates(task.weighted_metrics, test_per_seed, clusters, stream=stream)
    scores = interval_scores([r["test"] for r in per_seed_records], boot)
    return scores, resampling_record(clusters, len(item_groups), len(test_per_seed), stream=stream)


def seed_stream_of(encoder: str, head: str) -> str:
    """The seed stream of a result: its encoder and head (the seed fixes the same initial weights across schedules
    and layers of one encoder and head; across encoders, runs are unrelated)."""
    return f"{encoder}/{head}"
