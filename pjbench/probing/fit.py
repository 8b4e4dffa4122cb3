"""The one training loop: probes, the ICPC fitting and PISA all train through :func:`fit` (one model) or
:func:`fit_members` (several models side by side on one batch stream).

Each epoch visits the training items in a random order drawn from the member's order seed; with a ``validate`` callback the
epoch whose validation score is highest is kept (early stopping after ``patience`` epochs without a better one) and
its weights are loaded back into the model. Without one, every epoch runs and the last weights stay (the ICPC
protocol's fixed "fitting" epochs). The test split never enters here.

Side by side, members with the same order seed share the order and every batch (read and prepared once for them);
members with different order seeds each draw their own order and batches. Each member has its own weights, optimizer
and torch random stream (dropout; on a GPU the device's generator too), swapped in around its own step, and stops on
its own validation. So a member's numbers are exactly those of the same member trained alone with the same order
seed: only the cost is shared (tests/test_train.py).

The losses stay where the model is: summed per epoch on the device in float64 (the same sums as Python floats), read
back once an epoch, so a step on a GPU never waits for the host.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
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


RandomState = tuple[torch.Tensor, torch.Tensor | None]  # the CPU generator's state; the GPU's (None: not on one)


def random_state(device: torch.device | None = None) -> RandomState:
    """The state of the generators dropout draws from: the CPU's, and ``device``'s where it is a GPU."""
    if device is None or device.type != "cuda":
        return torch.get_rng_state(), None
    return torch.get_rng_state(), torch.cuda.get_rng_state(device)


def set_random_state(state: RandomState, device: torch.device | None = None) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device if device is not None else "cuda")


@dataclass
class Member:
    """One model of a side-by-side fit. ``batch_loss(batch)`` is its mean loss on a batch; ``validate()`` returns
    the score to maximise and the metrics to record. ``random_state`` is its torch generators' state (dropout): by
    default the global CPU generator's state when the member is made, i.e. right after its model was initialised
    (:func:`random_state` with the model's device also holds a GPU's)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    batch_loss: Callable[[Batch], torch.Tensor]
    validate: Callable[[], tuple[float, dict[str, float]]] | None = None
    name: str = "fit"
    random_state: RandomState = field(default_factory=random_state)
    # the loop's own bookkeeping
    losses: list[float] = field(default_factory=list)
    curve: list[dict[str, float]] = field(default_factory=list)
    best: tuple[float, int, dict[str, Any]] | None = None
    done: bool = False
    stopped_early: bool = False
    epochs_run: int = 0
    seconds: float = 0.0

    @property
    def device(self) -> torch.device | None:
        """The GPU whose generator is part of this member's stream (None: the CPU's alone)."""
        if self.random_state[1] is None:
            return None
        return next(self.model.parameters()).device

    @contextmanager
    def own_random_stream(self) -> Iterator[None]:
        """Draw from this member's torch random stream (and leave the global one as it was)."""
        device = self.device
        shared = random_state(device)
        set_random_state(self.random_state, device)
        try:
            yield
        finally:
            self.random_state = random_state(device)
            set_random_state(shared, device)

    def step(self, batch: Batch) -> torch.Tensor:
        """One optimisation step on ``batch`` under this member's own random stream; returns the loss (detached,
        where the model is)."""
        with self.own_random_stream():
            loss = self.batch_loss(batch)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return loss.detach()


class NonFiniteLossError(ValueError):
    """A training loss of NaN or infinity: nothing after it would be a result."""


def step_together(active: list[Member], losses: list[torch.Tensor]) -> torch.Tensor:
    """One optimisation step of several members at once: one backward pass over the sum of their losses (which gives
    each member exactly its own gradient, also where a layer was computed for all of them in one call), then each
    optimizer once (members may share one: a member's update depends on its own parameters and gradients only)."""
    optimizers = list({id(m.optimizer): m.optimizer for m in active}.values())
    for optimizer in optimizers:
        optimizer.zero_grad()
    stacked = torch.stack(losses)
    stacked.sum().backward()
    for optimizer in optimizers:
        optimizer.step()
    return stacked.detach()


def fit_members(
    members: list[Member],
    items: list[Item],
    batches: Callable[[list[Item], np.random.Generator], Iterable[tuple[Batch, int]]],
    epochs: int,
    order_seeds: int | Sequence[int],
    patience: int | None = None,
    desc: str = "fit",
    progress: bool = True,
    validate: Callable[[list[Member]], list[tuple[float, dict[str, float]]]] | None = None,
    step: Callable[[list[Member], list[Batch]], torch.Tensor] | None = None,
) -> list[FitOutcome]:
    """Train every member on ``items``, side by side. ``order_seeds``: one per member (or one for all): the seed of
    the random generator that draws the member's order each epoch; ``batches(order, rng)`` yields (batch, number of
    items in it) for the items in ``order`` (``rng``, the same generator, for augmentation); members with the same
    order seed share their batches. A member whose patience runs out stops taking steps while the others go on.
    ``validate(members)``, if given, scores the members still training together (one pass over the validation
    inputs for all) instead of each member's own ``validate``; ``step(members, batches)``, if given, takes the
    optimisation step of all of them, each on its own batch (the same object where they share it), and returns their
    losses as one tensor (see :func:`step_together`) instead of a step per member."""
    seeds = [order_seeds] * len(members) if isinstance(order_seeds, int) else list(order_seeds)
    if len(seeds) != len(members):
        raise ValueError(f"{len(seeds)} order seeds for {len(members)} members")
    rngs = {seed: np.random.default_rng(seed) for seed in dict.fromkeys(seeds)}
    seed_of = {id(m): seed for m, seed in zip(members, seeds)}
    start = time.perf_counter()
    bar = progress_bar(range(epochs), desc=desc, unit="epoch", enabled=progress)
    for epoch in bar:
        active = [m for m in members if not m.done]
        if not active:
            break
        for m in active:
            m.model.train()
        drawing = list(dict.fromkeys(seed_of[id(m)] for m in active))  # the order seeds still in use, first come first
        streams = [batches([items[i] for i in rngs[seed].permutation(len(items))], rngs[seed]) for seed in drawing]
        slot = [drawing.index(seed_of[id(m)]) for m in active]
        totals: torch.Tensor | None = None  # on the device, float64: the sums Python floats would give
        count = 0
        for drawn in zip(*streams):  # every order has the same items, so the same number of batches
            n = drawn[0][1]
            own = [drawn[k][0] for k in slot]
            if step is not None:
                began = time.perf_counter()
                losses = step(active, own)
                for m in active:
                    m.seconds += (time.perf_counter() - began) / len(active)
            else:
                per_member = []
                for m, batch in zip(active, own):
                    began = time.perf_counter()
                    per_member.append(m.step(batch))
                    m.seconds += time.perf_counter() - began
                losses = torch.stack(per_member)
            weighted = losses.double() * n
            totals = weighted if totals is None else totals + weighted
            count += n
        sums = totals.tolist() if totals is not None else [0.0] * len(active)  # the epoch's one read back
        for m, total in zip(active, sums):
            if not math.isfinite(total):  # training on would only write NaN scores
                raise NonFiniteLossError(
                    f"{desc}: the training loss of {m.name} became {total} in epoch {epoch + 1}: non-finite inputs "
                    "(`pjbench cache verify CACHE` checks a cache) or a learning rate that diverges"
                )
            m.losses.append(total / max(count, 1))
            m.epochs_run = epoch + 1
            m.model.eval()
        if validate is not None:
            scores: list[tuple[float, dict[str, float]] | None] = list(validate(active))
        else:
            scores = [m.validate() if m.validate is not None else None for m in active]
        for m, scored in zip(active, scores):
            if scored is not None:
                _keep_best(m, scored, epoch, epochs, patience)
        bar.set_postfix(loss=f"{np.mean([m.losses[-1] for m in active]):.3f}", training=len(active))
    bar.close()
    elapsed = time.perf_counter() - start
    outcomes = []
    for m in members:
        if m.best is not None:
            m.model.load_state_dict(m.best[2])
        outcomes.append(
            FitOutcome(
                best_epoch=m.best[1] if m.best is not None else m.epochs_run - 1,
                epochs_run=m.epochs_run,
                # alone, the whole loop is the member's; side by side, its own steps and its share of the rest
                train_seconds=elapsed if len(members) == 1 else m.seconds + (elapsed - sum(x.seconds for x in members)) / len(members),
                losses=m.losses,
                curve=m.curve,
                stopped_early=m.stopped_early,
            )
        )
    stopped = [(m, o) for m, o in zip(members, outcomes) if o.stopped_early]
    if len(members) == 1 and stopped:
        log.info(
            "%s: stopped early at epoch %d of %d (best on validation: epoch %d)",
            desc,
            stopped[0][1].epochs_run,
            epochs,
            stopped[0][1].best_epoch + 1,
        )
    elif stopped:  # one line for the members together
        each = ", ".join(f"{m.name} at epoch {o.epochs_run} (best {o.best_epoch + 1})" for m, o in stopped)
        log.info("%s: stopped early (of %d epochs; best on validation): %s", desc, epochs, each)
    return outcomes


def _keep_best(m: Member, scored: tuple[float, dict[str, float]], epoch: int, epochs: int, patience: int | None) -> None:
    """After an epoch's validation: keep the member's best weights, and stop it when its patience runs out."""
    score, val_metrics = scored
    m.curve.append({"epoch": epoch, "train_loss": m.losses[-1], **{f"val_{k}": v for k, v in val_metrics.items() if "/" not in k}})
    if m.best is None or score > m.best[0]:
        m.best = (score, epoch, copy.deepcopy(m.model.state_dict()))
    elif patience is not None and epoch - m.best[1] >= patience:
        m.done = True
        m.stopped_early = epoch + 1 < epochs  # patience running out on the last epoch is no early stop


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
    """Train one ``model`` on ``items`` in an order drawn from ``seed``: :func:`fit_members` with one member, on the
    global torch random stream (left where its training left it, as a plain loop would)."""
    member = Member(model, optimizer, batch_loss, validate, desc)
    outcome = fit_members([member], items, batches, epochs, seed, patience, desc, progress)[0]
    set_random_state(member.random_state)
    return outcome
