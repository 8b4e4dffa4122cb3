"""A task is a dataset's label view, a kind (which owns targets, loss, metrics, chance and plots), and training defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..datasets.base import Recording
from .kinds import TaskKind

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class Example:
    ids: tuple[str, ...]  # one recording, or two for a ranking pair
    target: int | tuple[int, ...]  # class index, or a multi-hot vector
    accept: tuple[int, ...] = ()  # classes that count as a hit (single-label view of a multi-label set)


@dataclass(frozen=True)
class Task:
    name: str
    kind: TaskKind
    classes: tuple[str, ...]
    description: str
    lr: float  # the paper's defaults per task family (docs/architecture.md)
    batch_size: int
    primary_metric: str
    columns: tuple[str, ...] = ()  # the leaderboard's metrics for this task, in order (default: the primary metric)
    ordinal: bool = False  # class order is meaningful: report Acc_1
    label: Callable[[Recording], Any] | None = None  # recording -> class index / multi-hot / level
    pair_mode: Literal["2way", "4way"] | None = None
    accept: Callable[[Recording], tuple[int, ...]] | None = None  # classes that count as a hit (single-of-set)
    datasets: str = ""  # where the task is defined, for `pjbench list tasks`
    class_values: tuple[float, ...] | None = None  # ordinal classes' levels when not evenly spaced (Acc_1's distance)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def leaderboard_columns(self) -> tuple[str, ...]:
        return self.columns or (self.primary_metric,)

    # the kind's behaviour, bound to this task
    def examples(self, recordings: list[Recording], pair_group: str | None, seed: int = 0) -> list[Example]:
        return self.kind.examples(self, recordings, pair_group, seed)

    def targets(self, examples: list[Example], device: torch.device) -> torch.Tensor:
        return self.kind.targets(self, examples, device)

    def loss(self, train: list[Example], pos_weight_scale: float, device: torch.device) -> nn.Module:
        return self.kind.loss(self, train, pos_weight_scale, device)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return self.kind.probabilities(self, logits)

    def metrics(self, examples: list[Example], probs: np.ndarray) -> dict[str, float]:
        return self.kind.metrics(self, examples, probs)

    def confusion(self, examples: list[Example], probs: np.ndarray) -> list[list[int]] | None:
        return self.kind.confusion(self, examples, probs)

    def chance(self, test: list[Example]) -> float:
        return self.kind.chance(self, test)

    def chance_levels(self, test: list[Example]) -> dict[str, float]:
        return self.kind.chance_levels(self, test)

    def weighted_metrics(self, examples: list[Example], probs: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
        return self.kind.weighted_metrics(self, examples, probs, weights)


def multi_hot(names: tuple[str, ...], classes: tuple[str, ...]) -> tuple[int, ...]:
    unknown = set(names) - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} are not among {classes}")
    return tuple(int(c in names) for c in classes)


def pair_target(level_a: float, level_b: float, mode: str) -> int:
    """2-way: 0 if the first is better, else 1. 4-way: the level difference a - b of -2, -1, +1, +2 -> 0..3 (as the reference)."""
    diff = level_a - level_b
    if mode == "2way":
        return 0 if diff > 0 else 1
    mapping = {-2: 0, -1: 1, 1: 2, 2: 3}
    return mapping[int(round(diff))]


def build_pairs(task: Task, recordings: list[Recording], pair_group: str | None, seed: int) -> list[Example]:
    """Ordered pairs of recordings at different levels.

    With a ``pair_group`` (the synthetic set: the same piece), every ordered pair of
    different levels within a group. Without one (PLD), as the paper: each level is
    balanced to the smallest, shuffled, and paired element-wise across levels, in both orders.
    """
    assert task.label is not None and task.pair_mode is not None
    levels = {rec.id: float(task.label(rec)) for rec in recordings}
    allowed_diffs = {1, 2} if task.pair_mode == "4way" else None
    pairs: list[tuple[str, str]] = []
    if pair_group is not None:
        groups: dict[str, list[Recording]] = {}
        for rec in recordings:
            groups.setdefault(rec.groups[pair_group], []).append(rec)
        for members in groups.values():
            for first in members:
                for second in members:
                    if levels[first.id] != levels[second.id]:
                        pairs.append((first.id, second.id))
    else:
        rng = np.random.default_rng(seed)
        by_level: dict[float, list[str]] = {}
        for rec in recordings:
            by_level.setdefault(levels[rec.id], []).append(rec.id)
        smallest = min(len(v) for v in by_level.values())
        balanced = {lvl: list(rng.permutation(sorted(ids))[:smallest]) for lvl, ids in sorted(by_level.items())}
        lvls = sorted(balanced)
        for i, li in enumerate(lvls):
            for lj in lvls[i + 1 :]:
                for x, y in zip(balanced[li], balanced[lj]):
                    pairs += [(str(x), str(y)), (str(y), str(x))]
    out = []
    for a, b in pairs:
        diff = abs(levels[a] - levels[b])
        if allowed_diffs is not None and int(round(diff)) not in allowed_diffs:
            raise ValueError(f"task {task.name} needs level differences of 1 or 2, got {diff} ({a}, {b})")
        out.append(Example((a, b), pair_target(levels[a], levels[b], task.pair_mode)))
    return out
