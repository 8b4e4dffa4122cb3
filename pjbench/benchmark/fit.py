"""The one training loop: probes, the ICPC fitting and PISA all train through :func:`fit`.

Each epoch visits the training items in a seeded random order; with a ``validate`` callback the epoch whose
validation score is highest is kept (early stopping after ``patience`` epochs without a better one) and its
weights are loaded back into the model. Without one, every epoch runs and the last weights stay (the ICPC
protocol's fixed "fitting" epochs). The test split never enters here.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from ..progress import progress_bar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Batch = Any


@dataclass
class FitOutcome:
    best_epoch: int  # the epoch whose weights the model holds (the last one without validation)
    epochs_run: int
    train_seconds: float
    losses: list[float] = field(default_factory=list)  # mean training loss per epoch
    curve: list[dict[str, float]] = field(default_factory=list)  # per epoch: loss and validation metrics
    stopped_early: bool = False


def fit(
    model: nn.Module,
    items: list[Item],
    batches: Callable[[list[Item], np.random.Generator], Iterable[tuple[Batch, int]]],
    batch_loss: Callable[[Batch], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    epochs: int,
    seed: int,
    validate: Callable[[], tuple[float, dict[str, float]]] | None = None,
    patience: int | None = None,
    desc: str = "fit",
    progress: bool = True,
) -> FitOutcome:
    """Train ``model`` on ``items``. ``batches(order, rng)`` yields (batch, number of items in it) for the items in
    ``order`` (``rng`` for augmentation); ``batch_loss(batch)`` is the batch's mean loss; ``validate()`` returns the
    score to maximise and the metrics to record."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    best: tuple[float, int, dict[str, Any]] | None = None
    losses: list[float] = []
    curve: list[dict[str, float]] = []
    stopped_early = False
    bar = progress_bar(range(epochs), desc=desc, unit="epoch", enabled=progress)
    epoch = -1
    for epoch in bar:
        model.train()
        order = [items[i] for i in rng.permutation(len(items))]
        total, count = 0.0, 0
        for batch, n in batches(order, rng):
            loss = batch_loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * n
            count += n
        losses.append(total / max(count, 1))
        if validate is None:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            continue
        score, val_metrics = validate()
        curve.append({"epoch": epoch, "train_loss": losses[-1], **{f"val_{k}": v for k, v in val_metrics.items() if "/" not in k}})
        bar.set_postfix(loss=f"{losses[-1]:.3f}", val=f"{score:.3f}")
        if best is None or score > best[0]:
            best = (score, epoch, copy.deepcopy(model.state_dict()))
        elif patience is not None and epoch - best[1] >= patience:
            stopped_early = epoch + 1 < epochs  # patience running out on the last epoch is no early stop
            break
    bar.close()
    if best is not None:
        model.load_state_dict(best[2])
        if stopped_early:
            log.info("%s: stopped early at epoch %d of %d (best on validation: epoch %d)", desc, epoch + 1, epochs, best[1] + 1)
    return FitOutcome(
        best_epoch=best[1] if best is not None else epoch,
        epochs_run=epoch + 1,
        train_seconds=time.perf_counter() - start,
        losses=losses,
        curve=curve,
        stopped_early=stopped_early,
    )
