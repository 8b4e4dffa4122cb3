"""The mel-spectrogram baseline: 24 kHz, n_fft 400, hop 160, 128 mels (150 frames/s).

``scale="log"`` (default) gives decibels, the form a probe can learn from; ``scale="power"``
is the reference code's linear power, for reproducing its numbers. The filterbank is
librosa's (Slaney mel, area-normalised); the STFT runs in torch so batches go to the GPU.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import librosa
import torch

from .specs import BUILTIN


class MelEncoder:
    def __init__(self, scale: str = "log", sample_rate: int = 24000, n_fft: int = 400, hop: int = 160, n_mels: int = 128) -> None:
        if scale not in ("log", "power"):
            raise ValueError(f"mel scale must be 'log' or 'power', not {scale!r}")
        self.scale, self.n_fft, self.hop = scale, n_fft, hop
        spec = BUILTIN["mel"].meta
        assert spec is not None
        self.meta = replace(
            spec,
            sample_rate=sample_rate,
            frame_rate=sample_rate / hop,
            dim=n_mels,
            description=f"{n_mels}-band mel spectrogram ({scale}), n_fft {n_fft}, hop {hop}",
            options={"scale": scale, "n_fft": n_fft, "hop": hop},
        )
        with warnings.catch_warnings():
            # the paper's 128 bands over a 400-point FFT leave a few low bands empty; kept as published
            warnings.filterwarnings("ignore", message="Empty filters detected")
            fb = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels)
        self.filterbank = torch.from_numpy(fb).float()  # (n_mels, n_fft // 2 + 1)
        self.window = torch.hann_window(n_fft)

    def to(self, device: torch.device) -> MelEncoder:
        self.filterbank = self.filterbank.to(device)
        self.window = self.window.to(device)
        return self

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        audio = audio.float()
        n_frames = audio.shape[-1] // self.hop  # 10 s at 24 kHz -> 1500 frames, as in the paper
        spec = torch.stft(audio, self.n_fft, self.hop, window=self.window, center=True, return_complex=True)
        power = spec.abs() ** 2  # (batch, freq, frames)
        mel = torch.matmul(self.filterbank, power)[..., :n_frames]
        if self.scale == "log":
            mel = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        return mel.transpose(1, 2).unsqueeze(1)  # (batch, 1 layer, frames, mels)
