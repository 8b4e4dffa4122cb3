"""The encoder contract.

An encoder is any object with a ``meta`` record and an ``embed`` method; it needs no
import of pjbench to conform (a ``typing.Protocol``, as MTEB does it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import torch


@dataclass(frozen=True)
class EncoderMeta:
    name: str
    revision: str
    sample_rate: int
    frame_rate: float  # frames per second of the embedding
    dim: int
    n_layers: int
    licence: str = "unknown"
    training_data: tuple[str, ...] = ()
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # everything else that changes the output

    def frames_per_segment(self, seconds: float) -> int:
        return int(round(self.frame_rate * seconds))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["training_data"] = list(self.training_data)
        return d


@runtime_checkable
class Encoder(Protocol):
    meta: EncoderMeta

    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) float waveforms at ``meta.sample_rate`` -> (batch, layers, frames, dim)."""
        ...

    def to(self, device: torch.device) -> Any: ...
