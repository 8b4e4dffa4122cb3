"""Transkun 2.0 (Yan & Duan, ISMIR 2024; MIT; trained on MAESTRO v3): a piano transcriber's transformer as an encoder.

The weights ship inside the ``transkun`` wheel (``transkun/pretrained/2.0.pt`` and ``2.0.conf``), so this encoder runs
offline: ``pip install --no-deps transkun==2.0.1`` (its declared requirements pull torchaudio, which does not load
beside the CPU torch here). pjbench never imports the package: it finds the checkpoint and the configuration through
the import system and builds the network below, the front end and the backbone of ``transkun.ModelTransformer``
under the official parameter names, loaded strictly (every parameter of this module from the checkpoint, and the
checkpoint's remaining tensors exactly the note scorer's and heads', which an encoder does not use). The only part
of the package's model that needed torchaudio is the mel filterbank, a buffer the checkpoint itself stores.
``tests/test_transkun.py`` checks the hidden states against the package's own forward pass.

What the embedding is. The model cuts 44.1 kHz audio into 4096-sample frames every 1024 samples (six windows each:
a Hann window and five learned Gaussian windows), takes a log mel spectrum (229 bands, 30 Hz - 8 kHz), normalises
the segment's gain, and a convolution stem downsamples time by 8 and frequency by 4: a grid of 58 frequency tokens
per time step, plus 90 pitch tokens per time step (the 88 keys and two pedals: what notes are read out of) and an
aggregation track in time and in frequency. Six transformer layers attend along frequency and along time over
that grid (256 channels). Per layer and time step pjbench keeps the mean of the 58 spectral tokens and the mean of
the 90 pitch tokens, concatenated: 512 dimensions, at 44100 / 8192 = 5.38 frames per second (the time aggregation
track and frames centred past the segment's end are dropped: ``ceil(samples / 8192)`` frames). Layer 0 is the
grid entering the first transformer layer (the stem's output with its position embeddings), as MERT's layer 0 is
its embeddings; layers 1-6 are the transformer layers' outputs.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .specs import BUILTIN

SAMPLE_RATE = 44100
HOP = 1024
WINDOW = 4096
TIME_STRIDE = 8  # the stem's three stride-2 convolutions
N_PITCH_TOKENS = 90  # sustain and soft pedal (-64, -67) and MIDI 21..108, as the model's targetMIDIPitch
TARGET_PITCHES = (-64, -67, *range(21, 109))
UNUSED = ("scorer.", "velocityPredictor.", "refinedOFPredictor.", "backbone.upConv1dSkip.")  # note decoding only
CHUNK = 4  # segments per forward pass: the frequency attention of 16 at once would take ~2.5 GB


def package_files() -> tuple[Path, Path]:
    """The checkpoint and configuration inside the installed ``transkun`` package (found, not imported)."""
    spec = importlib.util.find_spec("transkun")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("transkun needs the transkun package (its weights are in the wheel): pip install --no-deps transkun==2.0.1")
    folder = Path(next(iter(spec.submodule_search_locations))) / "pretrained"
    return folder / "2.0.pt", folder / "2.0.conf"


class RMSNorm(nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)


class PositionEmbedding(nn.Module):
    """Random Fourier features of the coordinates through an MLP (``LearnableSpatialPositionEmbedding``)."""

    def __init__(self, size: int, coord_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(coord_dim, size)
        self.mlp = nn.Sequential(nn.Linear(size, 4 * size), nn.GELU(), nn.Dropout(0.0), nn.Linear(4 * size, size))

    def forward(self, *coords: torch.Tensor) -> torch.Tensor:
        grid = torch.stack(torch.meshgrid(list(coords), indexing="ij"), dim=-1)
        phi = self.proj(grid.float())
        return self.mlp(torch.cos(phi) / math.sqrt(phi.shape[-1] / 2))


class Attention(nn.Module):
    """Multi-head attention with bias-free input projections stored as (in, hidden) matrices."""

    def __init__(self, size: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj_weight = nn.Parameter(torch.empty(size, size))
        self.k_proj_weight = nn.Parameter(torch.empty(size, size))
        self.v_proj_weight = nn.Parameter(torch.empty(size, size))
        self.out_proj = nn.Linear(size, size)

    def forward(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        def split(x: torch.Tensor) -> torch.Tensor:
            return x.unflatten(-1, (self.heads, -1)).transpose(-2, -3)

        q, k, v = split(query @ self.q_proj_weight), split(memory @ self.k_proj_weight), split(memory @ self.v_proj_weight)
        return self.out_proj(F.scaled_dot_product_attention(q, k, v).transpose(-2, -3).flatten(-2, -1))


class Residual(nn.Module):
    """x + scale * f(RMSNorm(x), *memory): pre-norm, LayerScale (``ResBlock``); the memory enters unnormalised."""

    def __init__(self, module: nn.Module, size: int) -> None:
        super().__init__()
        self.module = module
        self.norm = RMSNorm()
        self.scale = nn.Parameter(torch.ones(size))

    def forward(self, x: torch.Tensor, *memory: torch.Tensor) -> torch.Tensor:
        return x + self.module(self.norm(x), *memory) * self.scale


def _feed_forward(size: int, factor: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(size, size * factor), nn.GELU(), nn.Dropout(0.0), nn.Linear(size * factor, size))


class Layer(nn.Module):
    """Attention along frequency, then along time, each followed by a feed-forward block (``BasicBlock``); both
    attentions read the layer's input as keys and values."""

    def __init__(self, size: int, heads: int, ff_factor: int) -> None:
        super().__init__()
        self.mhaBlockF = Residual(Attention(size, heads), size)
        self.fnnBlockF = Residual(_feed_forward(size, ff_factor), size)
        self.mhaBlockT = Residual(Attention(size, heads), size)
        self.fnnBlockT = Residual(_feed_forward(size, ff_factor), size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, T, F, D)
        h = self.fnnBlockF(self.mhaBlockF(x, x))
        h, memory = h.transpose(-3, -2), x.transpose(-3, -2)
        h = self.fnnBlockT(self.mhaBlockT(h, memory))
        return h.transpose(-3, -2)


class Backbone(nn.Module):
    def __init__(self, in_channels: int, base: int, heads: int, ff_factor: int, layers: int) -> None:
        super().__init__()
        self.posEmbedBuilder = PositionEmbedding(base, 1)
        self.inputConv = nn.Conv2d(in_channels, base, 3, padding=1)

        def stage(cin: int, cout: int, stride: tuple[int, int]) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, stride=stride), nn.GroupNorm(4, cout), nn.GELU(), nn.Dropout2d(0.0)]

        # time is downsampled 8x, frequency 4x (the published model's downsampleF)
        self.downConv = nn.Sequential(
            nn.ConstantPad2d((2, 1, 4, 3), 0.0),
            *stage(base, 2 * base, (2, 1)),
            *stage(2 * base, 4 * base, (2, 2)),
            *stage(4 * base, 4 * base, (2, 2)),
            nn.Conv2d(4 * base, 4 * base, 3, padding=1),
            nn.GroupNorm(4, 4 * base),
        )
        self.posEmbedBuilderAttnTF = PositionEmbedding(4 * base, 2)
        self.posEmbedBuilderAttnTE = PositionEmbedding(4 * base, 2)
        self.encoderLayers = nn.ModuleList(Layer(4 * base, heads, ff_factor) for _ in range(layers))
        self.register_buffer("pitches", torch.tensor(TARGET_PITCHES, dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(N, T, F, windows) -> the grid entering each layer and leaving the last: (N, T' + 1, F' + 1 + 90, D) each."""
        x = x.permute(0, 3, 1, 2)
        position = self.posEmbedBuilder(torch.arange(x.shape[-1], device=x.device).float()).transpose(-1, -2).unsqueeze(-2)
        h = self.downConv(self.inputConv(x) + position).permute(0, 2, 3, 1)
        h = F.pad(h, (0, 0, 1, 0, 1, 0))  # an aggregation track at t = 0 and at f = 0
        t = torch.arange(h.shape[-3], device=x.device).float()
        h = h + self.posEmbedBuilderAttnTF(t, torch.arange(h.shape[-2], device=x.device).float())
        targets = self.posEmbedBuilderAttnTE(t, self.pitches).unsqueeze(0).expand(h.shape[0], -1, -1, -1)
        states = [torch.cat([h, targets], dim=-2)]
        for layer in self.encoderLayers:
            states.append(layer(states[-1]))
        return states


class GaussianWindows(nn.Module):
    """Learned Gaussian windows: centre and width per window, through a sigmoid (``GaussianWindows``)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.sigma = nn.Parameter(torch.zeros(n))
        self.center = nn.Parameter(torch.zeros(n))

    def forward(self) -> torch.Tensor:  # (WINDOW, n)
        sigma, center = torch.sigmoid(self.sigma), torch.sigmoid(self.center)
        x = torch.arange(WINDOW, device=sigma.device)
        return (-0.5 * ((x.unsqueeze(1) - WINDOW * center) / (sigma * WINDOW / 2)) ** 2).exp()


class Windows(nn.Module):
    """A Hann window and the learned ones (``Spectrum``'s windows)."""

    win: torch.Tensor

    def __init__(self, n_learned: int) -> None:
        super().__init__()
        self.register_buffer("win", torch.hann_window(WINDOW))
        self.winGen = GaussianWindows(n_learned)

    def forward(self) -> torch.Tensor:  # (1 + n_learned, WINDOW)
        return torch.cat([self.win.unsqueeze(0), self.winGen().t()], dim=0)


class FrontEnd(nn.Module):
    """Log mel spectra through six windows per frame (``MelSpectrum``)."""

    def __init__(self, n_windows: int, n_mels: int) -> None:
        super().__init__()
        self.register_buffer("freq2mels", torch.zeros(WINDOW // 2 + 1, n_mels))  # from the checkpoint
        self.spectrogramExtractor = Windows(n_windows - 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, T, WINDOW) gain-normalised frames -> (N, T, mels, windows) in [0, 1]-scaled log power."""
        power = torch.fft.rfft(frames.unsqueeze(-2) * self.spectrogramExtractor(), norm="ortho").abs().pow(2)  # (N, T, W, bins)
        mel = (power @ self.freq2mels).transpose(-1, -2)
        eps = 1e-5
        return ((mel + eps).log() - math.log(eps)) / (-math.log(eps))


def frame(audio: torch.Tensor) -> torch.Tensor:
    """(N, samples) -> (N, ceil(samples / HOP) + 1, WINDOW): half a window of zeros before, the rest after (``makeFrame``)."""
    n = math.ceil(audio.shape[-1] / HOP) + 1
    left = WINDOW // 2
    padded = F.pad(audio, (left, (n - 1) * HOP + WINDOW // 2 - audio.shape[-1]))
    return padded.unfold(-1, WINDOW, HOP)


class TranskunNetwork(nn.Module):
    """The front end and backbone of transkun's ``TransKun`` model, under its parameter names."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        if config.get("enabledAttn") != ["F", "T"] or not config.get("downsampleF") or config.get("fs") != SAMPLE_RATE:
            raise ValueError("transkun: only the published configuration (frequency and time attention, fs 44100) is built")
        if (config["hopSize"], config["windowSize"]) != (HOP, WINDOW) or config.get("hiddenFactorAttn", 1) != 1:
            raise ValueError("transkun: only the published hop (1024) and window (4096) are built")
        self.framewiseFeatureExtractor = FrontEnd(config["nExtraWins"] + 1, config["n_mels"])
        self.backbone = Backbone(config["nExtraWins"] + 1, config["baseSize"], config["nHead"], config["hiddenFactor"], config["nLayers"])

    def forward(self, audio: torch.Tensor) -> list[torch.Tensor]:
        frames = frame(audio)
        # the segment's gain normalised over its frames (unbiased std, as torch.std)
        mean = frames.mean(dim=(1, 2), keepdim=True)
        std = frames.std(dim=(1, 2), keepdim=True)
        return self.backbone(self.framewiseFeatureExtractor((frames - mean) / (std + 1e-8)))


def load_network(checkpoint: Path, conf: Path) -> TranskunNetwork:
    config = json.loads(conf.read_text())["Model"]["config"]
    network = TranskunNetwork(config)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    own = network.state_dict()
    missing = sorted(set(own) - set(state))
    left = sorted(k for k in set(state) - set(own) if not k.startswith(UNUSED))
    if missing or left:
        raise ValueError(f"{checkpoint}: not transkun 2.0's layout (missing {missing[:5]}, unexpected {left[:5]})")
    network.load_state_dict({k: state[k] for k in own}, strict=True)
    return network.eval()


def summarise(state: torch.Tensor) -> torch.Tensor:
    """(N, T' + 1, F' + 1 + 90, D) -> (N, T', 2D): per time step, the mean spectral token and the mean pitch token
    (aggregation tracks left out)."""
    grid = state[:, 1:]
    spectral = grid[:, :, 1 : grid.shape[2] - N_PITCH_TOKENS].mean(dim=2)
    pitch = grid[:, :, -N_PITCH_TOKENS:].mean(dim=2)
    return torch.cat([spectral, pitch], dim=-1)


class TranskunEncoder:
    def __init__(self, checkpoint: str | None = None) -> None:
        weights, conf = (Path(checkpoint), Path(checkpoint).with_suffix(".conf")) if checkpoint else package_files()
        for path in (weights, conf):
            if not path.is_file():
                raise FileNotFoundError(f"transkun: {path} not found (pip install --no-deps transkun==2.0.1)")
        self.network = load_network(weights, conf)
        spec = BUILTIN["transkun"].meta
        assert spec is not None
        self.meta = replace(spec, n_layers=len(self.network.backbone.encoderLayers) + 1, options={"checkpoint": weights.name})
        self.device = torch.device("cpu")

    def to(self, device: torch.device) -> TranskunEncoder:
        self.network.to(device)
        self.device = torch.device(device)
        return self

    @torch.inference_mode()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) at 44.1 kHz -> (batch, 7 layers, ceil(samples / 8192) frames, 512)."""
        n_frames = self.meta.frames(audio.shape[-1] / SAMPLE_RATE)
        out = []
        for chunk in audio.split(CHUNK):
            states = self.network(chunk.to(self.device).float())
            out.append(torch.stack([summarise(s)[:, :n_frames] for s in states], dim=1))
        return torch.cat(out)
