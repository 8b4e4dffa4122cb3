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

    frames_offset: int = 0  # frames a segment yields beyond round(rate x seconds): -1 for an unpadded conv stack (MERT: 749 at 75 Hz)

    def frames_per_segment(self, seconds: float) -> int:
        return int(round(self.frame_rate * seconds)) + self.frames_offset

    @classmethod
    def from_object(cls, obj: Any) -> EncoderMeta:
        """An EncoderMeta from any object with the same attribute names (a plugin need not import pjbench)."""
        missing = [k for k in ("name", "revision", "sample_rate", "frame_rate", "dim", "n_layers") if not hasattr(obj, k)]
        if missing:
            raise TypeError(f"encoder metadata lacks {missing}")
        values = {k: getattr(obj, k) for k in cls.__dataclass_fields__ if hasattr(obj, k)}
        values["training_data"] = tuple(values.get("training_data", ()))
        values["options"] = dict(values.get("options", {}))
        return cls(**values)

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
