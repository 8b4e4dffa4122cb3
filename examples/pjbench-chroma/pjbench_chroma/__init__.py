"""An example third-party encoder for pjbench. It imports nothing from pjbench: any object with
``meta``, ``embed`` and ``to`` conforms. ``meta`` may be any object with the EncoderMeta field names;
here a small dataclass of our own."""

from __future__ import annotations

from dataclasses import dataclass, field

import librosa
import torch


@dataclass(frozen=True)
class Meta:
    name: str = "chroma"
    revision: str = "0.1.0"
    sample_rate: int = 22050
    frame_rate: float = 22050 / 512
    dim: int = 12
    n_layers: int = 1
    licence: str = "MIT"
    training_data: tuple[str, ...] = ()
    description: str = "12-bin chroma of a 2048-point STFT (example plugin)"
    options: dict = field(default_factory=dict)
    # frames per segment of n samples: floor(n / 512) (430 for 10 s, one less than round(43.07 x 10)); any object
    # with EncoderMeta's field names will do, so a plain dict of pjbench's Framing fields
    framing: dict = field(default_factory=lambda: {"rounding": "floor"})


class ChromaEncoder:
    def __init__(self) -> None:
        self.meta = Meta()
        self.filters = torch.from_numpy(librosa.filters.chroma(sr=self.meta.sample_rate, n_fft=2048)).float()
        self.window = torch.hann_window(2048)

    def to(self, device: torch.device) -> ChromaEncoder:
        self.filters, self.window = self.filters.to(device), self.window.to(device)
        return self

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        n = audio.shape[1] // 512
        power = torch.stft(audio.float(), 2048, 512, window=self.window, return_complex=True).abs() ** 2
        chroma = torch.matmul(self.filters, power)[..., :n]
        chroma = chroma / (chroma.amax(dim=1, keepdim=True) + 1e-8)
        return chroma.transpose(1, 2).unsqueeze(1)
