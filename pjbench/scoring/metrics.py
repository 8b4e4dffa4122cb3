"""Metrics, always computed once over all predictions of a split (never per-batch averages).

- ``acc0`` / ``acc1``: per-class-averaged accuracy within n classes (paper Eq. 2);
  ``acc0`` is balanced accuracy.
- ``accuracy``: plain top-1 accuracy (pairwise accuracy for ranking pairs).
- ``f1``: macro F1.
- multi-label: macro ``mAP`` and per-class AP, macro ``roc_auc``, ``labelwise_accuracy``
  at 0.5 and ``exact_match``.
- ``hit_accuracy``: a single-label prediction is right if it is any of the true labels.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, balanced_accuracy_score, confusion_matrix, f1_score, roc_auc_score


def class_distance(y_true: np.ndarray, y_pred: np.ndarray, values: tuple[float, ...] | None = None) -> np.ndarray:
    """How far each prediction is from the truth: in class positions, or on the classes' own ``values`` when the
    positions are not evenly spaced levels (expertise-4way's differences -2, -1, +1, +2)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if values is None:
        return np.abs(y_pred - y_true).astype(np.float64)
    levels = np.asarray(values, dtype=np.float64)
    return np.abs(levels[y_pred] - levels[y_true])


def acc_within(y_true: np.ndarray, y_pred: np.ndarray, n: int, values: tuple[float, ...] | None = None) -> float:
    """Acc_n: for each class present in y_true, the share of its items predicted within n; averaged over classes."""
    y_true = np.asarray(y_true)
    close = class_distance(y_true, y_pred, values) <= n + 1e-9
    per_class = [float(np.mean(close[y_true == c])) for c in np.unique(y_true)]
    return float(np.mean(per_class))


def multiclass_metrics(
    y_true: np.ndarray, probs: np.ndarray, ordinal: bool, n_classes: int, values: tuple[float, ...] | None = None
) -> dict[str, float]:
    y_pred = probs.argmax(axis=1)
    out = {
        "accuracy": float(np.mean(y_pred == y_true)),
        "acc0": acc_within(y_true, y_pred, 0),
        "f1": float(f1_score(y_true, y_pred, average="macro", labels=np.unique(y_true), zero_division=0)),
    }
    if ordinal:
        out["acc1"] = acc_within(y_true, y_pred, 1, values)
    return out


def hit_accuracy(accept: list[tuple[int, ...]], probs: np.ndarray) -> float:
    y_pred = probs.argmax(axis=1)
    return float(np.mean([p in a for p, a in zip(y_pred, accept)]))


def multilabel_metrics(y_true: np.ndarray, scores: np.ndarray, classes: tuple[str, ...]) -> dict[str, float]:
    """Classes with no positive (AP) or no negative too (AUC) in this split are left out of the macro means."""
    ap, auc = {}, {}
    for k, name in enumerate(classes):
        col = y_true[:, k]
        if col.sum() > 0:
            ap[name] = float(average_precision_score(col, scores[:, k]))
            if col.sum() < len(col):
                auc[name] = float(roc_auc_score(col, scores[:, k]))
    pred = scores >= 0.5
    out = {
        "mAP": float(np.mean(list(ap.values()))) if ap else float("nan"),
        "roc_auc": float(np.mean(list(auc.values()))) if auc else float("nan"),
        "labelwise_accuracy": float(np.mean(pred == y_true.astype(bool))),
        "exact_match": float(np.mean(np.all(pred == y_true.astype(bool), axis=1))),
    }
    out.update({f"AP/{k}": v for k, v in ap.items()})
    return out


def regression_metrics(y_true: np.ndarray, pred: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
    """Per output: R² (scikit-learn's ``r2_score``: 1 - residual / total sum of squares about the split's mean) and
    Pearson's r (undefined, NaN, where either side is constant); their means over the outputs (NaN left out), and the
    mean squared error."""
    from sklearn.metrics import r2_score

    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    r2 = r2_score(y, p, multioutput="raw_values")
    r = np.array([_pearson(y[:, k], p[:, k]) for k in range(y.shape[1])])
    out = {"r2": float(np.mean(r2)), "pearson": float(np.nanmean(r)) if np.isfinite(r).any() else float("nan")}
    out["mse"] = float(np.mean((y - p) ** 2))
    out.update({f"r2/{name}": float(v) for name, v in zip(names, r2)})
    out.update({f"r/{name}": float(v) for name, v in zip(names, r)})
    return out


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    da, db = a - a.mean(), b - b.mean()
    den = np.sqrt((da**2).sum() * (db**2).sum())
    return float((da * db).sum() / den) if den > 0 else float("nan")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> list[list[int]]:
    return confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).tolist()


def mean_ci(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of a Student-t confidence interval over seeds."""
    arr = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if arr.size == 0:
        return float("nan"), float("nan")
    if arr.size == 1:
        return float(arr[0]), float("nan")
    half = stats.t.ppf(0.5 + level / 2, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size)
    return float(arr.mean()), float(half)


def expected_random_ap(positives: int, total: int) -> float:
    """Expected average precision of a uniformly random ranking of ``total`` items, ``positives`` of them relevant:
    (1/N) [H_N + (P-1)/(N-1) (N - H_N)], H_N the N-th harmonic number. Each rank r holds a positive with chance P/N,
    and then the precision there is (1 + (P-1)(r-1)/(N-1)) / r on average. Above P/N for finite N (for 90 clips and
    a prevalence of 0.1, 0.14)."""
    if positives <= 0 or total <= 0:
        raise ValueError(f"need positives and items, got {positives} of {total}")
    if total == 1:
        return 1.0
    harmonic = float(np.sum(1.0 / np.arange(1, total + 1)))
    return (harmonic + (positives - 1) / (total - 1) * (total - harmonic)) / total


def level_metrics(y: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Accuracy (the papers' metric), balanced accuracy, within-one-level accuracy, mean absolute level error, and
    Spearman's rank correlation between the expected level (the softmax's mean) and the true one: an ordinal view
    that a constant guess scores 0 on, whatever the level distribution."""
    pred = probs.argmax(1)
    expected = probs @ np.arange(probs.shape[1], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # predicted levels absent from the truth are expected, not news
        balanced = float(balanced_accuracy_score(y, pred))
        rho = float(spearmanr(expected, y).statistic) if np.ptp(expected) > 0 and np.ptp(y) > 0 else 0.0
    return {
        "accuracy": float(np.mean(pred == y)),
        "acc0": balanced,
        "within_one": float(np.mean(np.abs(pred - y) <= 1)),
        "mae": float(np.mean(np.abs(pred - y))),
        "spearman": rho,
    }
