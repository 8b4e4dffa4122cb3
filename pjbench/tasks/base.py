"""A task is a dataset's label view, a kind (which owns targets, loss, metrics, chance and plots), and training defaults."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..datasets.base import Recording
from .examples import Example, build_pairs, multi_hot, pair_target
from .kinds import TaskKind

__all__ = ["Example", "Task", "build_pairs", "multi_hot", "pair_target"]

if TYPE_CHECKING:
    import torch
    from torch import nn


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
    target_scale: tuple[float, float] | None = None  # regression: (centre, spread) of the targets' scale
    # the recording label holding its split for this task (PercePiano's piece split beside its performer split, on
    # the same recordings and embeddings); None: the dataset's own split
    split_label: str | None = None
    # the groups its test items are resampled by for intervals, where its split draws other units than the dataset's
    # (PercePiano's piece split holds out compositions); None: the dataset's
    resample_group: str | tuple[str, ...] | None = None

    def split_of(self, recording: Recording) -> str:
        return recording.split if self.split_label is None else str(recording.labels[self.split_label])

    def recordings(self, dataset: Any, split: str) -> list[Recording]:
        """The dataset's recordings in ``split`` as this task splits them."""
        return [r for r in dataset.recordings if self.split_of(r) == split]

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

    def weighted_metrics(
        self, examples: list[Example], probs: np.ndarray, weights: np.ndarray, only: Collection[str] | None = None
    ) -> dict[str, np.ndarray]:
        return self.kind.weighted_metrics(self, examples, probs, weights, only)
