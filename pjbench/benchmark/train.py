"""Training one probe for one seed: AdamW, early stopping and checkpoint choice on the
validation split only; the test split is evaluated once, with the chosen checkpoint."""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..tasks import Example, Task
from .feeders import Feeder
from .metrics import confusion, hit_accuracy, multiclass_metrics, multilabel_metrics


@dataclass(frozen=True)
class TrainConfig:
    head: str = "published"
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    lr: float | None = None  # None: the task's paper default
    batch_size: int | None = None
    weight_decay: float = 0.01
    max_epochs: int = 100
    patience: int = 15
    max_segments: int = 30
    standardize: bool = False  # published head: standardise inputs with training-split frame statistics per dimension
    pos_weight_scale: float = 1.4  # multi-label: pos_weight = scale * (N - pos) / pos, as the paper
    device: str = "cpu"


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


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def targets_tensor(task: Task, examples: list[Example], device: torch.device) -> torch.Tensor:
    if task.kind == "multilabel":
        return torch.tensor([ex.target for ex in examples], dtype=torch.float32, device=device)
    if task.accept is not None:
        # one answer counts if it is any true label: the best single answer is the class most likely to be
        # among the true ones, arg-max P(c in S | x), so each class learns that marginal (multi-hot, sigmoid);
        # a softmax towards 1/|S| per true label learns E[1(c in S)/|S|] instead, which favours labels that
        # come alone and scores below a constant guess of the most common label when the input says little
        hot = torch.zeros(len(examples), task.n_classes, device=device)
        for row, ex in enumerate(examples):
            hot[row, list(ex.accept)] = 1.0
        return hot
    return torch.tensor([ex.target for ex in examples], dtype=torch.long, device=device)


def make_loss(task: Task, train: list[Example], cfg: TrainConfig, device: torch.device) -> nn.Module:
    if task.kind == "multilabel":
        y = np.array([ex.target for ex in train], dtype=float)
        pos = np.clip(y.sum(0), 1, None)
        pos_weight = cfg.pos_weight_scale * (len(y) - pos) / pos
        return nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, dtype=torch.float32, device=device))
    if task.accept is not None:
        return nn.BCEWithLogitsLoss()  # unweighted: the arg-max needs calibrated marginals, not balanced ones
    return nn.CrossEntropyLoss()  # takes logits: the softmax is applied exactly once


@torch.no_grad()
def predict(model: nn.Module, feeder: Feeder, task: Task, examples: list[Example], batch_size: int, device: torch.device) -> np.ndarray:
    model.eval()
    outs = []
    for inputs, _ in feeder.batches(examples, batch_size, device):
        outs.append(output_probabilities(task, model(*inputs)).cpu().numpy())
    return np.concatenate(outs)


def output_probabilities(task: Task, logits: torch.Tensor) -> torch.Tensor:
    """Per-class probabilities for a multi-label task; a distribution over classes otherwise. A hit-accuracy
    task's sigmoid marginals are normalised to sum to one (the arg-max is unchanged) so the multiclass metrics
    of its reference label (ROC-AUC, confusion) read them as a distribution."""
    if task.kind == "multilabel":
        return torch.sigmoid(logits)
    if task.accept is not None:
        marginals = torch.sigmoid(logits)
        return marginals / marginals.sum(dim=1, keepdim=True)
    return torch.softmax(logits, dim=1)


def evaluate(task: Task, examples: list[Example], probs: np.ndarray) -> dict[str, float]:
    if task.kind == "multilabel":
        return multilabel_metrics(np.array([ex.target for ex in examples]), probs, task.classes)
    y = np.array([ex.target for ex in examples])
    out = multiclass_metrics(y, probs, task.ordinal, task.n_classes)
    if task.accept is not None:
        out["hit_accuracy"] = hit_accuracy([ex.accept for ex in examples], probs)
    return out


def train_seed(
    task: Task, feeder: Feeder, splits: dict[str, list[Example]], cfg: TrainConfig, seed: int, progress: bool = True
) -> SeedOutcome:
    return train_model(task, feeder, splits, cfg, seed, progress)[1]


def fit_epochs(
    model: nn.Module, task: Task, feeder: Feeder, examples: list[Example], cfg: TrainConfig, epochs: int, seed: int
) -> list[float]:
    """Continue training ``model`` for a fixed number of epochs (no selection); the mean loss per epoch."""
    device = torch.device(cfg.device)
    lr = cfg.lr if cfg.lr is not None else task.lr
    batch_size = cfg.batch_size or task.batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    loss_fn = make_loss(task, examples, cfg, device)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for inputs, chunk in feeder.batches([examples[i] for i in rng.permutation(len(examples))], batch_size, device):
            loss = loss_fn(model(*inputs), targets_tensor(task, chunk, device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(chunk)
        losses.append(total / max(len(examples), 1))
    return losses


def train_model(
    task: Task, feeder: Feeder, splits: dict[str, list[Example]], cfg: TrainConfig, seed: int, progress: bool = True
) -> tuple[nn.Module, SeedOutcome]:
    """Train one seed; the model returned holds the validation-selected weights."""
    device = torch.device(cfg.device)
    set_seed(seed)
    model = feeder.make_model(task).to(device)
    lr = cfg.lr if cfg.lr is not None else task.lr
    batch_size = cfg.batch_size or task.batch_size
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    loss_fn = make_loss(task, splits["train"], cfg, device)
    rng = np.random.default_rng(seed)
    best: tuple[float, int, dict[str, Any]] | None = None
    curve: list[dict[str, float]] = []
    start = time.perf_counter()
    bar = tqdm(range(cfg.max_epochs), desc=f"{task.name} seed {seed}", unit="epoch", disable=not progress, leave=False)
    epoch = 0
    for epoch in bar:
        model.train()
        order = [splits["train"][i] for i in rng.permutation(len(splits["train"]))]
        total, count = 0.0, 0
        for inputs, chunk in feeder.batches(order, batch_size, device):
            loss = loss_fn(model(*inputs), targets_tensor(task, chunk, device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(chunk)
            count += len(chunk)
        val_metrics = evaluate(task, splits["val"], predict(model, feeder, task, splits["val"], batch_size, device))
        score = val_metrics[task.primary_metric]
        curve.append(
            {"epoch": epoch, "train_loss": total / max(count, 1), **{f"val_{k}": v for k, v in val_metrics.items() if "/" not in k}}
        )
        bar.set_postfix(loss=f"{total / max(count, 1):.3f}", val=f"{score:.3f}")
        if best is None or score > best[0]:
            best = (score, epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= cfg.patience:
            break
    bar.close()
    assert best is not None
    model.load_state_dict(best[2])
    train_seconds = time.perf_counter() - start
    val_probs = predict(model, feeder, task, splits["val"], batch_size, device)
    test_probs = predict(model, feeder, task, splits["test"], batch_size, device)
    test_conf = None
    if task.kind != "multilabel":
        test_conf = confusion(np.array([ex.target for ex in splits["test"]]), test_probs.argmax(1), task.n_classes)
    mix = getattr(model, "layer_mix", None)
    return model, SeedOutcome(
        seed=seed,
        best_epoch=best[1],
        epochs_run=epoch + 1,
        val=evaluate(task, splits["val"], val_probs),
        test=evaluate(task, splits["test"], test_probs),
        test_confusion=test_conf,
        train_seconds=train_seconds,
        curve=curve,
        layer_weights=mix.weights() if mix is not None else None,
    )
