"""Jukebox's VQ-VAE top-level encoder (the 5b model's ``vqvae.pth.tar``), unquantised: 64-d at hop 128.

This is the 344.5 frames/s stream the reference used (3445 x 64 per 10 s at 44.1 kHz), not
JukeMIR's language-model activations. The encoder is small, so it is written here with the
official checkpoint's module names (``encoders.<level>.level_blocks.<j>.model...``): the
checkpoint's ``encoders.2.*`` weights load strictly; decoders and the bottleneck are not needed.

Architecture (Jukebox ``hparams.vqvae``): levels 3, ``downs_t`` (3, 2, 2), ``strides_t`` (2, 2, 2),
width 32 and depth 4 at the top level (multipliers 2, 1, 1 apply to levels 0, 1, 2), residual
blocks of a dilated 3-tap and a 1x1 convolution with dilation 3**d, ``m_conv`` 1.

Input: each recording peak-normalised as a whole before it is cut into segments (``x / max|x|``, as the
published study's extraction and jukemirlib do), declared as ``options["file_peak"] = 1.0`` and applied by
pjbench's decoder (``pjbench.audio.peak_gain``); ``-o normalise=false`` embeds the audio as decoded. The peak is
the kept part's (the first ``--max-segments`` segments): for a recording longer than that, the reference's peak
over the whole file may be higher. Equal to the fixture made by openai/jukebox's own ``Encoder`` (tests/test_fidelity.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from .checkpoints import CheckpointError, load_torch_file, strict_load
from .specs import BUILTIN


class _ResConv1DBlock(nn.Module):
    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.ReLU(), nn.Conv1d(width, width, 3, 1, dilation, dilation), nn.ReLU(), nn.Conv1d(width, width, 1, 1, 0)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.model(x)


class _Resnet1D(nn.Module):
    def __init__(self, width: int, depth: int, growth: int) -> None:
        super().__init__()
        self.model = nn.Sequential(*[_ResConv1DBlock(width, growth**d) for d in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class _EncoderConvBlock(nn.Module):
    def __init__(self, in_width: int, emb_width: int, down_t: int, stride_t: int, width: int, depth: int, growth: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = [
            nn.Sequential(
                nn.Conv1d(in_width if i == 0 else width, width, stride_t * 2, stride_t, stride_t // 2), _Resnet1D(width, depth, growth)
            )
            for i in range(down_t)
        ]
        blocks.append(nn.Conv1d(width, emb_width, 3, 1, 1))
        self.model = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class VqvaeLevelEncoder(nn.Module):
    """``VQVAE.encoders[level]``: the level blocks up to ``level``; returns the last one's output."""

    def __init__(
        self, level: int = 2, downs_t=(3, 2, 2), strides_t=(2, 2, 2), emb_width: int = 64, width: int = 32, depth: int = 4, growth: int = 3
    ) -> None:
        super().__init__()
        self.level_blocks = nn.ModuleList(
            [
                _EncoderConvBlock(1 if j == 0 else emb_width, emb_width, downs_t[j], strides_t[j], width, depth, growth)
                for j in range(level + 1)
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.level_blocks:
            x = block(x)
        return x


class JukeboxEncoder:
    def __init__(self, checkpoint: str | None = None, level: int = 2, normalise: bool = True, width: int = 32, depth: int = 4) -> None:
        if checkpoint is None:
            raise CheckpointError(
                "jukebox needs --checkpoint PATH: the 5b model's vqvae.pth.tar (Jukebox's own download; not on the Hugging Face hub)"
            )
        blob = load_torch_file(checkpoint)
        state = blob.get("model", blob) if isinstance(blob, dict) else None
        if not isinstance(state, dict):
            raise CheckpointError(f"{checkpoint} is not a Jukebox VQ-VAE checkpoint (no 'model' state dict)")
        state = {k.removeprefix("module."): v for k, v in state.items()}
        prefix = f"encoders.{level}."
        mine = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if not mine:
            raise CheckpointError(f"{checkpoint} has no {prefix}* weights (is it a VQ-VAE checkpoint?)")
        self.model = VqvaeLevelEncoder(level=level, width=width, depth=depth).eval()
        strict_load(self.model, mine, f"{checkpoint} ({prefix}*)")
        hop = 2 ** sum((3, 2, 2)[: level + 1])
        spec = BUILTIN["jukebox"].meta
        assert spec is not None
        self.meta = replace(
            spec,
            revision=f"local:{Path(checkpoint).name}",
            frame_rate=44100 / hop,
            description=f"Jukebox 5b VQ-VAE level-{level} encoder output before quantisation (hop {hop}), "
            + ("each recording peak-normalised" if normalise else "not normalised"),
            options={"level": level, "file_peak": 1.0 if normalise else 0.0},
        )

    def to(self, device: torch.device) -> JukeboxEncoder:
        self.model.to(device)
        return self

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        out = self.model(audio.float().unsqueeze(1))  # (batch, 64, frames)
        return out.transpose(1, 2).unsqueeze(1)
