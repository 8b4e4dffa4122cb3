"""Training one probe for one seed: AdamW, early stopping and checkpoint choice on the validation split only
(through the one loop, :func:`pjbench.benchmark.fit.fit`); the test split is evaluated once, with the chosen
checkpoint. What depends on the task (targets, loss, probabilities, metrics) comes from its kind."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..tasks import Example, Task
from .feeders import Feeder
from .fit import FitOutcome, fit


@dataclass(frozen=True)
class TrainConfig:
    head: str = "published"
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    lr: float | None = None  # None: the head's default (the task's paper lr for the published head)
    batch_size: int | None = None
    weight_decay: float = 0.01
    max_epochs: int = 100
    patience: int = 15
    max_segments: int = 30
    standardize: bool = False  # published head: standardise inputs with training-split frame statistics per dimension
    pos_weight_scale: float = 1.4  # multi-label: pos_weight = scale * (N - pos) / pos, as the paper
    device: str = "cpu"
    schedule: str = ""  # the named schedule these settings are, or custom-<hash>; "" lets the settings name it

    def lr_for(self, task: Task) -> float:
        return self.lr if self.lr is not None else task.lr

    def batch_size_for(self, task: Task) -> int:
        return self.batch_size or task.batch_size


@dataclass
class SeedOutcome:
    seed: int
    best_epoch: int
    epochs_run: int
    val: dict[str, float]
    test: dict[str, float]
    test_confusion: list[list[int]] | None
    train_seconds: float
    curve: list[dict[str, float]] = field(default_factory=list)
    layer_weights: list[float] | None = None
    # split -> the probabilities the metrics were computed from (kept in the predictions file, not the result JSON)
    probabilities: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def record(self) -> dict[str, Any]:
        """The JSON record of this seed (without the probabilities)."""
        out = asdict(self)
        del out["probabilities"]
        return out


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def predict(model: nn.Module, feeder: Feeder, task: Task, examples: list[Example], batch_size: int, device: torch.device) -> np.ndarray:
    model.eval()
    outs = []
    for inputs, _ in feeder.batches(examples, batch_size, device):
        outs.append(task.probabilities(model(*inputs)).cpu().numpy())
    return np.concatenate(outs)


def fit_probe(
    model: nn.Module,
    task: Task,
    feeder: Feeder,
    train: list[Example],
    cfg: TrainConfig,
    seed: int,
    epochs: int,
    val: list[Example] | None = None,
    progress: bool = True,
) -> FitOutcome:
    """Train a probe on ``train``; with ``val``, keep the epoch with the best validation score (early stopping)."""
    device = torch.device(cfg.device)
    batch_size = cfg.batch_size_for(task)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr_for(task), weight_decay=cfg.weight_decay)
    loss_fn = task.loss(train, cfg.pos_weight_scale, device)

    def batches(order: list[Example], rng: np.random.Generator):
        for inputs, chunk in feeder.batches(order, batch_size, device):
            yield (inputs, chunk), len(chunk)

    def batch_loss(batch) -> torch.Tensor:
        inputs, chunk = batch
        return loss_fn(model(*inputs), task.targets(chunk, device))

    validate = None
    if val is not None:
        held_out = val

        def validate() -> tuple[float, dict[str, float]]:
            scores = task.metrics(held_out, predict(model, feeder, task, held_out, batch_size, device))
            return scores[task.primary_metric], scores

    return fit(model, train, batches, batch_loss, optimizer, epochs, seed, validate, cfg.patience, f"{task.name} seed {seed}", progress)


def train_model(
    task: Task, feeder: Feeder, splits: dict[str, list[Example]], cfg: TrainConfig, seed: int, progress: bool = True
) -> tuple[nn.Module, SeedOutcome]:
    """Train one seed; the model returned holds the validation-selected weights."""
    device = torch.device(cfg.device)
    set_seed(seed)
    model = feeder.make_model(task).to(device)
    outcome = fit_probe(model, task, feeder, splits["train"], cfg, seed, cfg.max_epochs, splits["val"], progress)
    batch_size = cfg.batch_size_for(task)
    val_probs = predict(model, feeder, task, splits["val"], batch_size, device)
    test_probs = predict(model, feeder, task, splits["test"], batch_size, device)
    mix = getattr(model, "layer_mix", None)
    return model, SeedOutcome(
        seed=seed,
        best_epoch=outcome.best_epoch,
        epochs_run=outcome.epochs_run,
        val=task.metrics(splits["val"], val_probs),
        test=task.metrics(splits["test"], test_probs),
        test_confusion=task.confusion(splits["test"], test_probs),
        train_seconds=outcome.train_seconds,
        curve=outcome.curve,
        layer_weights=mix.weights() if mix is not None else None,
        probabilities={"val": val_probs, "test": test_probs},
    )
