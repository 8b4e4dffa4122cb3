"""A small HEAR-API module for the tests: frame energies of 4 bands every 50 ms at 16 kHz, centred from 0 ms (a frame
per hop, and one at the end), as the HEAR baselines lay out their timestamps. ``load_model(path)`` reads a band gain
from a weights file (a .npy) when one is given."""

from __future__ import annotations

import numpy as np
import torch

HOP = 800  # 50 ms


class Model(torch.nn.Module):
    sample_rate = 16000
    timestamp_embedding_size = 4
    scene_embedding_size = 4

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("gain", torch.tensor(float(gain)))


def load_model(model_file_path: str = "") -> Model:
    return Model(float(np.load(model_file_path)) if model_file_path else 1.0)


def get_timestamp_embeddings(audio: torch.Tensor, model: Model) -> tuple[torch.Tensor, torch.Tensor]:
    padded = torch.nn.functional.pad(audio, (HOP, HOP))
    frames = padded.unfold(1, 2 * HOP, HOP)  # (n, samples // HOP + 1, 1600): centred on k * HOP
    spectrum = torch.fft.rfft(frames * torch.hann_window(2 * HOP), dim=-1).abs() ** 2
    bands = torch.stack([b.sum(-1) for b in spectrum.chunk(4, dim=-1)], dim=-1)
    emb = (model.gain * torch.log10(bands + 1e-6)).float()
    ts = (torch.arange(emb.shape[1], dtype=torch.float32) * 1000 * HOP / 16000).expand(audio.shape[0], -1)
    return emb, ts


def get_scene_embeddings(audio: torch.Tensor, model: Model) -> torch.Tensor:
    return get_timestamp_embeddings(audio, model)[0].mean(dim=1)
