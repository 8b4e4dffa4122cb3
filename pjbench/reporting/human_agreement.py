"""How well one expert agrees with the others: PercePiano's human ceiling, from every rater's own answers.

On a task's test segments, each rater's answer to a dimension (/ 7) is taken as a prediction of the mean of the other
raters' answers to it (/ 7), for every segment and rater with an answer and at least one other answer. Per dimension:
R² (1 - residual / total sum of squares about the others' means) and Pearson's r over those pairs; their means over the
19 dimensions are the ceiling's scores. A model is scored against the mean of all raters, which is less noisy than any
one rater's answer: a model can exceed this ceiling, and that is what it means to predict the panel better than one of
its members does. The interval resamples the test segments' pieces and performers as the models' intervals do (each
segment's pairs go with it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..datasets.percepiano.labels import DIMENSIONS, N_DIMENSIONS, SCALE, RaterAnswers
from ..scoring import bootstrap


@dataclass(frozen=True)
class RaterPairs:
    """Per (segment, rater) pair: the rater's answers and the other raters' mean, NaN where either is missing."""

    segments: list[str]
    rater: np.ndarray  # (pairs, 19)
    others: np.ndarray  # (pairs, 19)


def rater_pairs(answers: Sequence[RaterAnswers], segments: Sequence[str]) -> RaterPairs:
    wanted = set(segments)
    by_segment: dict[str, list[np.ndarray]] = defaultdict(list)
    for row in answers:
        if row.segment in wanted:
            by_segment[row.segment].append(np.array([np.nan if a is None else a for a in row.answers], dtype=np.float64) / SCALE)
    names, own, rest = [], [], []
    for segment in sorted(by_segment):
        table = np.stack(by_segment[segment])  # (raters, 19)
        answered = np.isfinite(table)
        totals, counts = np.where(answered, table, 0.0).sum(0), answered.sum(0)
        for k in range(len(table)):
            n_others = counts - answered[k]
            with np.errstate(invalid="ignore", divide="ignore"):
                others = np.where(n_others > 0, (totals - np.where(answered[k], table[k], 0.0)) / np.maximum(n_others, 1), np.nan)
            names.append(segment)
            own.append(table[k])
            rest.append(others)
    empty = np.zeros((0, N_DIMENSIONS))
    return RaterPairs(names, np.stack(own) if own else empty, np.stack(rest) if rest else empty)


def weighted_agreement(pairs: RaterPairs, w: np.ndarray) -> dict[str, np.ndarray]:
    """Per replicate (rows of ``w``, weights of the pairs): the mean over dimensions of R² and r, and each dimension's."""
    out: dict[str, np.ndarray] = {}
    r2_all, r_all = [], []
    for k, (name, _, _) in enumerate(DIMENSIONS):
        mask = np.isfinite(pairs.rater[:, k]) & np.isfinite(pairs.others[:, k])
        values = bootstrap.weighted_regression(w[:, mask], pairs.others[mask, k : k + 1], pairs.rater[mask, k : k + 1], ("r2", "pearson"))
        out[f"r2/{name}"], out[f"r/{name}"] = values["r2"], values["pearson"]
        r2_all.append(values["r2"])
        r_all.append(values["pearson"])
    out["r2"] = bootstrap._nanmean(r2_all, len(w))
    out["pearson"] = bootstrap._nanmean(r_all, len(w))
    return out


def human_ceiling(answers: Sequence[RaterAnswers], test: Sequence[Any], resample_group: bootstrap.GroupKey) -> dict[str, Any]:
    """The ceiling on ``test`` (recordings with ``id`` and ``groups``): scores with 95% intervals, and how many
    segments, raters and pairs it rests on."""
    groups = {rec.id: rec.groups for rec in test}
    pairs = rater_pairs(answers, list(groups))
    if not pairs.segments:
        raise ValueError("no rater answered any of the test segments")
    point = {m: float(v[0]) for m, v in weighted_agreement(pairs, np.ones((1, len(pairs.segments)))).items()}
    clusters = bootstrap.clusters_of([([s], [groups[s]]) for s in pairs.segments], resample_group)
    no_seeds = [(None, np.zeros(0))]  # one set of answers: the replicates redraw the test groups only
    boot = bootstrap.replicates(lambda _examples, _probs, w: weighted_agreement(pairs, w), no_seeds, clusters)
    scores = {}
    for metric, value in point.items():
        low, high = bootstrap.percentile_interval(boot[metric])
        scores[metric] = {"mean": value, "ci_low": low, "ci_high": high}
    return {
        "scores": scores,
        "n_segments": len(set(pairs.segments)),
        "n_pairs": len(pairs.segments),
        "method": "each rater's answer / 7 against the mean of the other raters' answers / 7, per dimension; " + bootstrap.CROSSED_METHOD,
    }
