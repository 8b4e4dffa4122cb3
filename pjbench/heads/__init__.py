"""Probe heads and their registry: one entry per head, with its input pipeline (feeder) and default schedule.

A head is chosen by name from ``HEADS``; nothing else tests a head's name. A new head is a module with its
``nn.Module``, a feeder that makes its inputs from the cache (:mod:`pjbench.benchmark.feeders`), and one entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..lazy import resolve
from .linear import PooledLinearProbe
from .published import ConvAttentionProbe, conv_flatten_size


@dataclass(frozen=True)
class HeadSpec:
    name: str
    description: str
    feeder: str  # "module:function" (cfg, reader, splits) -> Feeder, the head's inputs from the cache
    default_lr: float | None  # None: the task's learning rate (the paper's, per task family)
    max_epochs: int = 100
    patience: int = 15

    def make_feeder(self, cfg: Any, reader: Any, splits: dict[str, list[Any]]) -> Any:
        return resolve(self.feeder, "feeder")(cfg, reader, splits)

    def lr(self, explicit: float | None) -> float | None:
        return explicit if explicit is not None else self.default_lr


HEADS: dict[str, HeadSpec] = {
    spec.name: spec
    for spec in (
        HeadSpec(
            "published",
            "the paper's conv+attention head on frame-level embeddings (with the reference's bugs fixed)",
            "pjbench.benchmark.feeders:segment_feeder",
            None,
        ),
        HeadSpec(
            "linear",
            "a linear probe on per-recording statistics over frames: mean, std, and mean |delta| and std of frame-to-frame differences",
            "pjbench.benchmark.feeders:pooled_feeder",
            1e-3,
        ),
    )
}


def get_head(name: str) -> HeadSpec:
    if name not in HEADS:
        raise ValueError(f"unknown head {name!r}; choose one of {', '.join(HEADS)}")
    return HEADS[name]


__all__ = ["HEADS", "ConvAttentionProbe", "HeadSpec", "PooledLinearProbe", "conv_flatten_size", "get_head"]
