"""The encoder contract.

An encoder is any object with a ``meta`` record and an ``embed`` method; it needs no
import of pjbench to conform (a ``typing.Protocol``, as MTEB does it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # for annotations only: listing encoders' metadata must not pay for importing torch
    import torch


@dataclass(frozen=True)
class Framing:
    """How many frames an encoder returns for a segment of ``n`` samples, for any segment length.

    By default ``rounding(n x frame_rate / sample_rate)``: ``floor`` for an STFT or a strided stack that drops a
    partial hop, ``ceil`` for an input padded up to a multiple of the hop (DAC). ``convs`` gives an unpadded
    convolution stack instead, ``(kernel, stride)`` per layer (MERT's feature extractor: 749 frames for 10 s at
    24 kHz, not 750). ``chunk_samples``: the input is cut into chunks of that many samples, each encoded alone,
    a partial chunk dropped (DAC's reference mode). ``fixed``: a fixed-size input, padded or cut to the same
    number of frames whatever the length (Audio-MAE's 512 patch tokens), refused above ``max_seconds``."""

    rounding: Literal["round", "floor", "ceil"] = "round"
    convs: tuple[tuple[int, int], ...] = ()
    chunk_samples: int = 0
    fixed: int = 0
    max_seconds: float = 0.0

    def frames(self, n_samples: int, sample_rate: int, frame_rate: float) -> int:
        if self.fixed:
            if self.max_seconds and n_samples > math.ceil(self.max_seconds * sample_rate):
                raise ValueError(f"segments of {n_samples / sample_rate:g} s are longer than this encoder's input ({self.max_seconds:g} s)")
            return self.fixed
        if self.chunk_samples:
            whole = Framing(self.rounding, self.convs)
            return (n_samples // self.chunk_samples) * whole.frames(self.chunk_samples, sample_rate, frame_rate)
        if self.convs:
            for kernel, stride in self.convs:
                n_samples = (n_samples - kernel) // stride + 1
            return max(n_samples, 0)
        exact = n_samples * frame_rate / sample_rate
        if self.rounding == "floor":
            return math.floor(exact)
        if self.rounding == "ceil":
            return math.ceil(exact)
        return int(round(exact))


def layer_slice(layer_dims: tuple[int, ...] | list[int], layer: int) -> slice:
    """Where layer ``layer`` sits on the feature axis of layers stored side by side."""
    start = sum(layer_dims[:layer])
    return slice(start, start + layer_dims[layer])


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
    # everything else that changes the output; one key is read by the decoder: "file_peak" (a float > 0) scales each
    # recording as a whole to that peak before it is cut into segments (Jukebox's 1.0, Audio-MAE's reference 0.5)
    options: dict[str, Any] = field(default_factory=dict)
    framing: Framing = field(default_factory=Framing)  # frames per segment of any length
    # layers of different sizes (musicnn's 561, 64, ..., 200): ``embed`` returns them side by side on the feature axis,
    # (batch, 1, frames, sum), ``dim`` is the sum and ``n_layers`` their number; empty when every layer has ``dim``
    layer_dims: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.layer_dims and (len(self.layer_dims) != self.n_layers or sum(self.layer_dims) != self.dim):
            raise ValueError(
                f"encoder {self.name}: layer_dims {list(self.layer_dims)} must have n_layers ({self.n_layers}) sizes "
                f"adding up to dim ({self.dim})"
            )

    @property
    def stacked_layers(self) -> int:
        """The size of ``embed``'s layer axis: 1 when the layers sit side by side (``layer_dims``)."""
        return 1 if self.layer_dims else self.n_layers

    def frames(self, seconds: float) -> int:
        """Frames of one segment of ``seconds`` (cut at ``round(seconds x sample_rate)`` samples)."""
        return self.framing.frames(int(round(seconds * self.sample_rate)), self.sample_rate, self.frame_rate)

    @classmethod
    def from_object(cls, obj: Any) -> EncoderMeta:
        """An EncoderMeta from any object with the same attribute names (a plugin need not import pjbench)."""
        missing = [k for k in ("name", "revision", "sample_rate", "frame_rate", "dim", "n_layers") if not hasattr(obj, k)]
        if missing:
            raise TypeError(f"encoder metadata lacks {missing}")
        values = {k: getattr(obj, k) for k in cls.__dataclass_fields__ if hasattr(obj, k)}
        values["training_data"] = tuple(values.get("training_data", ()))
        values["options"] = dict(values.get("options", {}))
        values["layer_dims"] = tuple(values.get("layer_dims", ()))
        if isinstance(values.get("framing"), dict):
            framing = dict(values["framing"])
            framing["convs"] = tuple(tuple(c) for c in framing.get("convs", ()))
            values["framing"] = Framing(**framing)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["training_data"] = list(self.training_data)
        if self.layer_dims:
            d["layer_dims"] = list(self.layer_dims)
        else:
            del d["layer_dims"]  # the caches written before the field keep their keys
        return d


@runtime_checkable
class Encoder(Protocol):
    meta: EncoderMeta

    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) float waveforms at ``meta.sample_rate`` -> (batch, layers, frames, dim)."""
        ...

    def to(self, device: torch.device) -> Any: ...
