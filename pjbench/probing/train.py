"""Training a probe's seeds: AdamW, early stopping and checkpoint choice on the validation split only (through the
one loop, :mod:`pjbench.probing.fit`); the test split is evaluated once, with the chosen checkpoint. What depends
on the task (targets, loss, probabilities, metrics) comes from its kind.

The seeds of one run train side by side, one optimisation step for all of them: a seed fixes its probe's initial
weights, its dropout and the order in which it visits the training examples (``TrainConfig.data_order`` "seed"; under
"shared", the setting of results written before 2026-12-04, every seed visits them in ``order_seed``'s order and the
seeds share each batch). A seed's numbers are the same whether it trains alone or beside others."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from ..heads.published import ConvAttentionProbe, shared_first_conv
from ..precision import autocast_for
from ..scoring.bootstrap import unit_weight_metrics
from ..tasks import Example, Task
from .config import TrainConfig
from .feeders import Feeder
from .fit import FitOutcome, Member, fit_members, random_state, set_random_state, step_together


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


def deterministic_torch() -> None:
    """Deterministic kernels for training (a warning where an op has none). Fresh tensors are not filled with NaN
    first: that debugging aid of deterministic mode cost about 5% of a published-head step, and no op here reads
    memory it did not write."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]


@torch.no_grad()
def predict_many(
    models: list[nn.Module],
    feeder: Feeder,
    task: Task,
    examples: list[Example],
    batch_size: int,
    device: torch.device,
    precision: str = "fp32",
) -> list[np.ndarray]:
    """Each model's probabilities for ``examples``, every batch made once for all the models (kept where the models
    are and read back once: on a GPU no batch waits for the host); the forward passes in ``precision``, the
    probabilities in fp32."""
    for model in models:
        model.eval()
    outs: list[list[torch.Tensor]] = [[] for _ in models]
    for inputs, _ in feeder.batches(examples, batch_size, device):
        with autocast_for(precision, device):
            logits = [forward() for forward in _forwards(models, inputs)]
        for out, scores in zip(outs, logits):
            out.append(task.probabilities(scores.float()))
    return [torch.cat(out).cpu().numpy() for out in outs]


def _forwards(models: list[nn.Module], inputs: tuple) -> list[Callable[[], torch.Tensor]]:
    """Each model's forward pass on the same inputs, as a call that returns its logits. The published head's probes
    read the same segments, so their first convolutions (the costliest layer) run as one call, here."""
    if not all(_shares_first_conv(m) for m in models):
        return [partial(model, *inputs) for model in models]
    probes = cast(list[ConvAttentionProbe], models)
    firsts = shared_first_conv(probes, inputs[0][:, 0])
    return [partial(probe.after_first_conv, first, *inputs[1:]) for probe, first in zip(probes, firsts)]


def predict(
    model: nn.Module, feeder: Feeder, task: Task, examples: list[Example], batch_size: int, device: torch.device, precision: str = "fp32"
) -> np.ndarray:
    return predict_many([model], feeder, task, examples, batch_size, device, precision)[0]


def _batches(task: Task, feeder: Feeder, cfg: TrainConfig):
    """The training batches: inputs and targets, made once for every member that trains on them (the members with
    the same order)."""
    device = torch.device(cfg.device)
    batch_size = cfg.batch_size_for(task)

    def batches(order: list[Example], rng: np.random.Generator):
        for inputs, chunk in feeder.batches(order, batch_size, device):
            yield (inputs, task.targets(chunk, device)), len(chunk)

    return batches


def _optimizer(parameters: Iterable[nn.Parameter], task: Task, cfg: TrainConfig) -> torch.optim.Optimizer:
    # fused: one kernel per step for all the parameters (the same update, a third less time than the per-tensor loop)
    return torch.optim.AdamW(parameters, lr=cfg.lr_for(task), weight_decay=cfg.weight_decay, fused=True)


def _member(
    model: nn.Module,
    task: Task,
    feeder: Feeder,
    train: list[Example],
    cfg: TrainConfig,
    name: str,
    val: list[Example] | None,
    optimizer: torch.optim.Optimizer | None = None,
) -> Member:
    """A probe as a member of the loop: its optimizer (its own unless given) and loss, and (with ``val``) its
    validation score."""
    device = torch.device(cfg.device)
    optimizer = optimizer or _optimizer(model.parameters(), task, cfg)
    loss_fn = task.loss(train, cfg.pos_weight_scale, device)

    def batch_loss(batch) -> torch.Tensor:
        inputs, targets = batch
        with autocast_for(cfg.precision, device):
            logits = model(*inputs)
        return loss_fn(logits.float(), targets)  # the loss in fp32 whatever the forward pass ran in

    validate = None
    if val is not None:
        held_out = val

        def validate() -> tuple[float, dict[str, float]]:
            probs = predict(model, feeder, task, held_out, cfg.batch_size_for(task), device, cfg.precision)
            scores = unit_weight_metrics(task, held_out, probs)
            return scores[task.primary_metric], scores

    return Member(model, optimizer, batch_loss, validate, name)


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
    """Train one probe on ``train`` in an order drawn from ``seed``, on the global random stream; with ``val``, keep
    the epoch with the best validation score (early stopping)."""
    member = _member(model, task, feeder, train, cfg, f"{task.name} seed {seed}", val)
    outcome = fit_members([member], train, _batches(task, feeder, cfg), epochs, seed, cfg.patience, member.name, progress)[0]
    set_random_state(member.random_state)
    return outcome


def _shares_first_conv(model: nn.Module) -> bool:
    return isinstance(model, ConvAttentionProbe) and model.layer_mix is None


def _joint_step(task: Task, train: list[Example], cfg: TrainConfig):
    """All the seeds' step at once, each on its own batch: each probe's loss under its own random stream (where the
    seeds share one batch, the published head's first convolutions in one call, :func:`_forwards`), then one backward
    pass and one optimizer step for all (:func:`step_together`)."""
    device = torch.device(cfg.device)
    loss_fn = task.loss(train, cfg.pos_weight_scale, device)

    def step(active: list[Member], batches: list) -> torch.Tensor:
        losses = []
        with autocast_for(cfg.precision, device):  # the forward passes; the backward pass follows autocast's types
            if all(batch is batches[0] for batch in batches):
                inputs, targets = batches[0]
                forwards = _forwards([m.model for m in active], inputs)
                targets_of = [targets] * len(active)
            else:
                forwards = [partial(m.model, *batch[0]) for m, batch in zip(active, batches)]
                targets_of = [batch[1] for batch in batches]
            for m, forward, targets in zip(active, forwards, targets_of):
                with m.own_random_stream():
                    losses.append(loss_fn(forward().float(), targets))
        return step_together(active, losses)

    return step


def seeds_label(seeds: list[int]) -> str:
    """ "seed 3", "seeds 0-4" or "seeds 0, 2": for progress bars and logs."""
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seeds " + ", ".join(map(str, seeds))


def train_seeds(
    task: Task, feeder: Feeder, splits: dict[str, list[Example]], cfg: TrainConfig, seeds: list[int] | None = None, progress: bool = True
) -> list[tuple[nn.Module, SeedOutcome]]:
    """Train the seeds (default: the configuration's) side by side; each model returned holds its validation-selected
    weights."""
    device = torch.device(cfg.device)
    seeds = list(cfg.seeds if seeds is None else seeds)
    models, random_states = [], []
    for seed in seeds:
        set_seed(seed)  # the seed's initial weights; its member keeps the random stream from here (dropout)
        models.append(feeder.make_model(task).to(device))
        random_states.append(random_state(device))  # on a GPU its generator too: each seed its own dropout there
    shared = _optimizer([p for model in models for p in model.parameters()], task, cfg)  # one step for all the seeds
    members = [_member(model, task, feeder, splits["train"], cfg, f"seed {seed}", None, shared) for model, seed in zip(models, seeds)]
    for member, state in zip(members, random_states):
        member.random_state = state
    desc = f"{task.name} {seeds_label(seeds)}"
    batch_size = cfg.batch_size_for(task)

    def validate(active: list[Member]) -> list[tuple[float, dict[str, float]]]:
        probs = predict_many([m.model for m in active], feeder, task, splits["val"], batch_size, device, cfg.precision)
        scores = [unit_weight_metrics(task, splits["val"], p) for p in probs]  # every epoch: the fast forms
        return [(s[task.primary_metric], s) for s in scores]

    fitted = fit_members(
        members,
        splits["train"],
        _batches(task, feeder, cfg),
        cfg.max_epochs,
        cfg.order_seeds(seeds),
        cfg.patience,
        desc,
        progress,
        validate,
        _joint_step(task, splits["train"], cfg),
    )
    val_all = predict_many(models, feeder, task, splits["val"], batch_size, device, cfg.precision)
    test_all = predict_many(models, feeder, task, splits["test"], batch_size, device, cfg.precision)
    out = []
    for seed, model, outcome, val_probs, test_probs in zip(seeds, models, fitted, val_all, test_all):
        mix = getattr(model, "layer_mix", None)
        out.append(
            (
                model,
                SeedOutcome(
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
                ),
            )
        )
    return out
