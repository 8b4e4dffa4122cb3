"""Task kinds: everything that depends on what a task's answer looks like, in one class per kind.

A kind supplies the examples a task's recordings make, the training targets, the loss, the rule that turns a
model's outputs into probabilities, the metrics and the chance level. A new task of an existing kind is
one :class:`~pjbench.tasks.base.Task` entry in the registry; a new kind is one subclass here (registered in
``KINDS``). The training loop, the result builder and the leaderboard ask the kind and never test
a task's name or kind themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch
from torch import nn

from ..scoring import bootstrap, metrics
from .examples import Example, build_pairs

if TYPE_CHECKING:
    from ..datasets.base import Recording
    from .base import Task


class TaskKind:
    """Single-label classification over ``task.classes``: softmax, cross-entropy, the multiclass metrics."""

    name: ClassVar[str] = "multiclass"
    inputs_per_example: ClassVar[int] = 1  # recordings side by side in one model input (2 for a ranking pair)
    runner: ClassVar[str] = "probe"  # the command that runs tasks of this kind: probe | transfer | pisa
    description: ClassVar[str] = "one class per recording"

    def examples(self, task: Task, recordings: list[Recording], pair_group: str | None, seed: int = 0) -> list[Example]:
        assert task.label is not None, f"task {task.name} has no label function"
        return [Example((rec.id,), task.label(rec), task.accept(rec) if task.accept else ()) for rec in recordings]

    def targets(self, task: Task, examples: list[Example], device: torch.device) -> torch.Tensor:
        return torch.tensor([ex.target for ex in examples], dtype=torch.long, device=device)

    def loss(self, task: Task, train: list[Example], pos_weight_scale: float, device: torch.device) -> nn.Module:
        return nn.CrossEntropyLoss()  # takes logits: the softmax is applied exactly once

    def probabilities(self, task: Task, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits, dim=1)

    def metrics(self, task: Task, examples: list[Example], probs: np.ndarray) -> dict[str, float]:
        y = np.array([ex.target for ex in examples])
        return metrics.multiclass_metrics(y, probs, task.ordinal, task.n_classes, task.class_values)

    def weighted_metrics(
        self, task: Task, examples: list[Example], probs: np.ndarray, weights: np.ndarray, only: Collection[str] | None = None
    ) -> dict[str, np.ndarray]:
        """The metrics with integer item weights, one value per row of ``weights`` (bootstrap replicates); equal to
        :meth:`metrics` at unit weights. ``only``: just these metrics (a comparison needs one; each costs a pass)."""
        y = np.array([ex.target for ex in examples])
        pred = probs.argmax(axis=1)
        makers: dict[str, Callable[[], np.ndarray]] = {
            "accuracy": lambda: bootstrap.weighted_mean(weights, pred == y),
            "acc0": lambda: bootstrap.weighted_acc_within(weights, y, metrics.class_distance(y, pred), 0),
            "f1": lambda: bootstrap.weighted_macro_f1(weights, y, pred),
        }
        if task.ordinal:
            makers["acc1"] = lambda: bootstrap.weighted_acc_within(weights, y, metrics.class_distance(y, pred, task.class_values), 1)
        return {metric: make() for metric, make in makers.items() if only is None or metric in only}

    def chance_levels(self, task: Task, test: list[Example]) -> dict[str, float]:
        """Every metric's chance level: the best score of a constant answer (the same class for every item)."""
        best: dict[str, float] = {}
        for c in range(task.n_classes):
            constant = np.zeros((len(test), task.n_classes), dtype=np.float32)
            constant[:, c] = 1.0
            for metric, value in self.metrics(task, test, constant).items():
                if "/" not in metric:
                    best[metric] = max(best.get(metric, -np.inf), value)
        return {**best, task.primary_metric: self.chance(task, test)}

    def confusion(self, task: Task, examples: list[Example], probs: np.ndarray) -> list[list[int]] | None:
        return metrics.confusion(np.array([ex.target for ex in examples]), probs.argmax(1), task.n_classes)

    def chance(self, task: Task, test: list[Example]) -> float:
        """The primary metric of the best guess that ignores the input: 1/classes for per-class-averaged
        accuracy, the most common answer's share for plain accuracy."""
        if task.primary_metric == "acc0":
            return 1.0 / len({ex.target for ex in test})
        _, counts = np.unique([ex.target for ex in test], return_counts=True)
        return float(counts.max() / len(test))


class PairwiseKind(TaskKind):
    """Ranking pairs: two recordings side by side, the class says which is better (or by how many levels)."""

    name = "pairwise"
    inputs_per_example = 2
    description = "a pair of recordings; which is better, or the level difference"

    def examples(self, task: Task, recordings: list[Recording], pair_group: str | None, seed: int = 0) -> list[Example]:
        return build_pairs(task, recordings, pair_group, seed)


class MultilabelKind(TaskKind):
    """Several classes per recording: a sigmoid per class, weighted BCE as the paper, mAP and ROC-AUC."""

    name = "multilabel"
    description = "a set of classes per recording"

    def targets(self, task: Task, examples: list[Example], device: torch.device) -> torch.Tensor:
        return torch.tensor([ex.target for ex in examples], dtype=torch.float32, device=device)

    def loss(self, task: Task, train: list[Example], pos_weight_scale: float, device: torch.device) -> nn.Module:
        y = np.array([ex.target for ex in train], dtype=float)
        pos = np.clip(y.sum(0), 1, None)
        pos_weight = pos_weight_scale * (len(y) - pos) / pos  # the paper's pos_weight
        return nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, dtype=torch.float32, device=device))

    def probabilities(self, task: Task, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def metrics(self, task: Task, examples: list[Example], probs: np.ndarray) -> dict[str, float]:
        return metrics.multilabel_metrics(np.array([ex.target for ex in examples]), probs, task.classes)

    def weighted_metrics(
        self, task: Task, examples: list[Example], probs: np.ndarray, weights: np.ndarray, only: Collection[str] | None = None
    ) -> dict[str, np.ndarray]:
        return bootstrap.weighted_multilabel(weights, np.array([ex.target for ex in examples]), probs, only)

    def confusion(self, task: Task, examples: list[Example], probs: np.ndarray) -> list[list[int]] | None:
        return None

    def chance(self, task: Task, test: list[Example]) -> float:
        """mAP of a random ranking (the AP of a constant score, the prevalence, is lower: any trained model ranks)."""
        y = np.array([ex.target for ex in test])
        present = [k for k in range(y.shape[1]) if y[:, k].sum() > 0]
        return float(np.mean([metrics.expected_random_ap(int(y[:, k].sum()), len(y)) for k in present]))

    def chance_levels(self, task: Task, test: list[Example]) -> dict[str, float]:
        """mAP of a random ranking; ROC-AUC 0.5; per label the majority answer; the most common label set."""
        y = np.array([ex.target for ex in test], dtype=bool)
        prevalence = y.mean(axis=0)
        _, set_counts = np.unique(y, axis=0, return_counts=True)
        return {
            "mAP": self.chance(task, test),
            "roc_auc": 0.5,
            "labelwise_accuracy": float(np.mean(np.maximum(prevalence, 1 - prevalence))),
            "exact_match": float(set_counts.max() / len(y)),
        }


class SetHitKind(TaskKind):
    """One answer per recording that counts if it is any of the recording's true labels (technique-single).

    The best single answer is the class most likely to be among the true ones, arg-max P(c in S | x), so each
    class learns that marginal (a sigmoid per class, unweighted BCE on the set). A softmax towards 1/|S| per
    true label would learn E[1(c in S)/|S|] instead, which favours labels that come alone and scores below a
    constant guess of the most common label when the input says little."""

    name = "single-of-set"
    description = "one answer per recording, right if it is any of its true labels"

    def targets(self, task: Task, examples: list[Example], device: torch.device) -> torch.Tensor:
        hot = torch.zeros(len(examples), task.n_classes, device=device)
        for row, ex in enumerate(examples):
            hot[row, list(ex.accept)] = 1.0
        return hot

    def loss(self, task: Task, train: list[Example], pos_weight_scale: float, device: torch.device) -> nn.Module:
        return nn.BCEWithLogitsLoss()  # unweighted: the arg-max needs calibrated marginals, not balanced ones

    def probabilities(self, task: Task, logits: torch.Tensor) -> torch.Tensor:
        """The sigmoid marginals normalised to sum to one (the arg-max is unchanged), so the multiclass metrics of
        the reference label (ROC-AUC, confusion) read them as a distribution."""
        marginals = torch.sigmoid(logits)
        return marginals / marginals.sum(dim=1, keepdim=True)

    def metrics(self, task: Task, examples: list[Example], probs: np.ndarray) -> dict[str, float]:
        out = super().metrics(task, examples, probs)
        out["hit_accuracy"] = metrics.hit_accuracy([ex.accept for ex in examples], probs)
        return out

    def weighted_metrics(
        self, task: Task, examples: list[Example], probs: np.ndarray, weights: np.ndarray, only: Collection[str] | None = None
    ) -> dict[str, np.ndarray]:
        out = super().weighted_metrics(task, examples, probs, weights, only)
        if only is None or "hit_accuracy" in only:
            pred = probs.argmax(axis=1)
            out["hit_accuracy"] = bootstrap.weighted_mean(weights, np.array([p in ex.accept for p, ex in zip(pred, examples)]))
        return out

    def chance(self, task: Task, test: list[Example]) -> float:
        counts = np.zeros(task.n_classes)
        for ex in test:
            for a in ex.accept:
                counts[a] += 1
        return float(counts.max() / len(test))  # always guessing the most common label


class TransferKind(TaskKind):
    """A ranking probe trained on one dataset judges pairs of another (ICPC-2015); run by `pjbench transfer`."""

    name = "transfer"
    inputs_per_example = 2
    runner = "transfer"
    description = "a ranking probe applied to pairs of another dataset"

    def chance(self, task: Task, test: list[Example]) -> float:
        return 0.5  # the pairs come in both orders: either constant verdict is right half the time


class PlayerLevelKind(TaskKind):
    """An ordinal level (PISA's 1-10) from several clips: cross-entropy plus the paper's L1 + L2 of the expected
    level; accuracy, balanced accuracy, within-one, MAE, Spearman. Run by `pjbench pisa`."""

    name = "player-level"
    runner = "pisa"
    description = "an ordinal level from clips of video, audio or both"
    reg_weight: ClassVar[float] = 0.1  # the paper's Eq. 1

    def loss_of(self, logits: torch.Tensor, levels: torch.Tensor, reg_weight: float | None = None) -> torch.Tensor:
        from ..heads.pisa import level_loss

        return level_loss(logits, levels, self.reg_weight if reg_weight is None else reg_weight)

    def chance_of(self, levels: list[int]) -> float:
        _, counts = np.unique(levels, return_counts=True)
        return float(counts.max() / counts.sum())  # always the test split's most common level


class RegressionKind(TaskKind):
    """Several numbers per recording (PercePiano's 19 perceptual ratings): the head's outputs are the predictions, on
    the task's scale (``task.target_scale``: centre + spread x output, so an untrained head predicts the scale's
    middle), mean squared error; R² per output and its mean (primary), Pearson's r. The chance level is an answer
    that ignores the input, the mean: R² 0."""

    name = "regression"
    description = "several numbers per recording (ratings)"

    def targets(self, task: Task, examples: list[Example], device: torch.device) -> torch.Tensor:
        return torch.tensor([ex.target for ex in examples], dtype=torch.float32, device=device)

    def loss(self, task: Task, train: list[Example], pos_weight_scale: float, device: torch.device) -> nn.Module:
        return ScaledMSELoss(*(task.target_scale or (0.0, 1.0)))

    def probabilities(self, task: Task, logits: torch.Tensor) -> torch.Tensor:
        centre, spread = task.target_scale or (0.0, 1.0)
        return centre + spread * logits

    def metrics(self, task: Task, examples: list[Example], probs: np.ndarray) -> dict[str, float]:
        return metrics.regression_metrics(np.array([ex.target for ex in examples]), probs, task.classes)

    def weighted_metrics(
        self, task: Task, examples: list[Example], probs: np.ndarray, weights: np.ndarray, only: Collection[str] | None = None
    ) -> dict[str, np.ndarray]:
        return bootstrap.weighted_regression(weights, np.array([ex.target for ex in examples]), probs, only)

    def confusion(self, task: Task, examples: list[Example], probs: np.ndarray) -> list[list[int]] | None:
        return None

    def chance(self, task: Task, test: list[Example]) -> float:
        return 0.0

    def chance_levels(self, task: Task, test: list[Example]) -> dict[str, float]:
        """The test mean as the answer to every item: R² 0, r undefined (a constant), its MSE the targets' variance."""
        y = np.array([ex.target for ex in test], dtype=np.float64)
        return {"r2": 0.0, "pearson": float("nan"), "mse": float(np.mean(y.var(axis=0)))}


class ScaledMSELoss(nn.Module):
    """Mean squared error of ``centre + spread x output`` against the targets: the head's outputs are the
    predictions on the task's own scale."""

    def __init__(self, centre: float, spread: float) -> None:
        super().__init__()
        self.centre, self.spread = centre, spread

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(self.centre + self.spread * output, target)


KINDS: dict[str, TaskKind] = {
    kind.name: kind
    for kind in (TaskKind(), PairwiseKind(), MultilabelKind(), SetHitKind(), TransferKind(), PlayerLevelKind(), RegressionKind())
}
