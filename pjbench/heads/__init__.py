"""Probe heads and their registry: one entry per head, with its input pipeline (feeder) and default schedule.

A head is chosen by name from ``HEADS``; nothing else tests a head's name. A new head is a module with its
``nn.Module``, a feeder that makes its inputs from the cache (one entry of ``pjbench.probing.feeders.FEEDERS``, named
here by its key: the heads sit below probing and never import it), and one entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..hashing import config_hash
from ..precision import precision_suffix
from .linear import PooledLinearProbe
from .published import MIN_SIDE, ConvAttentionProbe, conv_flatten_size


@dataclass(frozen=True)
class HeadSpec:
    name: str
    description: str
    feeder: str  # a key of pjbench.probing.feeders.FEEDERS: the head's inputs from the cache
    default_lr: float | None  # None: the task's learning rate (the paper's, per task family)

    def lr(self, explicit: float | None) -> float | None:
        return explicit if explicit is not None else self.default_lr


HEADS: dict[str, HeadSpec] = {
    spec.name: spec
    for spec in (
        HeadSpec(
            "published",
            "the paper's conv+attention head on frame-level embeddings (with the reference's bugs fixed)",
            "segments",
            None,
        ),
        HeadSpec(
            "linear",
            "a linear probe on per-recording statistics over frames: mean, std, and mean |delta| and std of frame-to-frame differences",
            "pooled",
            1e-3,
        ),
    )
}


def head_fits(head: str, frames: int, dim: int) -> str | None:
    """Why ``head`` cannot take an input of ``frames`` x ``dim`` (a ranking pair's two segments side by side count
    double), or None when it can."""
    if HEADS[head].feeder == "segments" and conv_flatten_size(frames, dim) <= 0:
        return (
            f"its two stride-5 convolutions need at least {MIN_SIDE} frames and {MIN_SIDE} dimensions per input, the cache "
            f"gives {frames} x {dim}"
        )
    return None


@dataclass(frozen=True)
class Schedule:
    """A named training schedule. Both heads train under the same one when they are compared, and the schedule's
    name is part of a result's identity (its file name and its board row)."""

    name: str
    description: str
    lr: float | None  # None: the head's default (the task's paper learning rate for the published head)
    max_epochs: int
    patience: int  # epochs without a better validation score before stopping
    standardize: bool  # published head: inputs standardised with training-split statistics (the linear head always is)


SCHEDULES: dict[str, Schedule] = {
    s.name: s
    for s in (
        Schedule(
            "paper",
            "the paper's: the head's learning rate (the task's for the published head), up to 100 epochs, stop after 15 "
            "without a better validation score, the published head's inputs as cached (the linear head standardises its "
            "statistics under every schedule)",
            None,
            100,
            15,
            False,
        ),
        Schedule(
            "fast",
            "sized for a CPU: lr 1e-3, up to 8 epochs, stop after 3 without a better validation score, inputs standardised "
            "with training statistics (both heads)",
            1e-3,
            8,
            3,
            True,
        ),
    )
}


def get_schedule(name: str) -> Schedule:
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    return SCHEDULES[name]


def infer_schedule(train: dict[str, Any]) -> str:
    """The schedule a training configuration runs (for configurations built without a name, and results written
    before schedules had names): a named one whose settings it has, else custom-<hash of the settings>."""
    for s in SCHEDULES.values():
        same = train.get("max_epochs") == s.max_epochs and train.get("patience") == s.patience
        if s.lr is not None:
            same = same and train.get("lr") == s.lr
        if train.get("head") == "published":
            same = same and bool(train.get("standardize")) == s.standardize
        if same and train.get("weight_decay", 0.01) == 0.01 and train.get("batch_size") is None:
            return s.name + precision_suffix(train.get("precision"))
    keys = ("lr", "batch_size", "weight_decay", "max_epochs", "patience", "standardize")
    return f"custom-{config_hash({k: train.get(k) for k in keys})[:8]}" + precision_suffix(train.get("precision"))


def get_head(name: str) -> HeadSpec:
    if name not in HEADS:
        raise ValueError(f"unknown head {name!r}; choose one of {', '.join(HEADS)}")
    return HEADS[name]


__all__ = [
    "HEADS",
    "SCHEDULES",
    "ConvAttentionProbe",
    "HeadSpec",
    "PooledLinearProbe",
    "Schedule",
    "conv_flatten_size",
    "get_head",
    "get_schedule",
]
