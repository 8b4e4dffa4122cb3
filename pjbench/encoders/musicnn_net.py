"""MusiCNN's four trained taggers (Pons & Serra, 2019; the ``musicnn`` 0.1.0 wheel, ISC) in torch, weights read from
the wheel's TensorFlow checkpoints without TensorFlow (:mod:`pjbench.encoders.tf_checkpoint`).

Two architectures, each trained on the Million Song Dataset (MSD) and on MagnaTagATune (MTT), 50 tags each; input: a
3-second patch of 187 frames of a 96-band log mel spectrogram (16 kHz, n_fft 512, hop 256, ``log10(10000 x + 1)``).

- **musicnn**: a front end of musically motivated convolutions over the input (after one BatchNorm): two timbral
  ones (7 frames × 38 or 67 bands, 204 filters each) and three temporal ones (128, 64 or 32 frames × 1 band, 51 filters
  each), each max-pooled over frequency: 561 channels per frame. A mid end of three 1-D convolutions over time (7
  frames, 64 filters; the second and third residual), densely connected: 753 channels per frame. A back end of
  temporal max- and mean-pooling (753 each, interleaved), BatchNorm, a 200-unit dense layer (ReLU, BatchNorm: the
  "penultimate" features) and the 50 tags.
- **vgg**: five 3 × 3 convolutions (128 filters; ReLU, BatchNorm, max-pooling 4 × 1 / 2 then 2 × 2 and 4 × 4), the
  flattened last pool (2 × 1 × 128) and the 50 tags.

TensorFlow's layers as written in musicnn's ``models.py``: convolutions are followed by their ReLU and *then*
BatchNorm (epsilon 0.001, moving statistics at inference), "same" padding puts the extra row after (TensorFlow's
rule), max-pooling is "valid". Variable names are the checkpoint's own (``conv2d_3/kernel``...), in the order the
graph created them. Dropout is inactive at inference and left out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .tf_checkpoint import read_checkpoint

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
PATCH = 187  # frames of a 3-second patch: librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
N_MELS = 96
BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default
OPTIMIZER_SLOTS = ("/Adam", "/Adam_1")
OPTIMIZER_VARIABLES = ("beta1_power", "beta2_power", "global_step")


class TFBatchNorm(nn.Module):
    """Inference BatchNorm over the last (channel) axis, with TensorFlow's variable names."""

    gamma: torch.Tensor
    beta: torch.Tensor
    moving_mean: torch.Tensor
    moving_variance: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        for name in ("gamma", "beta", "moving_mean", "moving_variance"):
            self.register_buffer(name, torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (..., C)
        scale = self.gamma * torch.rsqrt(self.moving_variance + BN_EPS)
        return (x - self.moving_mean) * scale + self.beta


class TFConv2d(nn.Module):
    """A convolution over (N, H, W, C) tensors with TensorFlow's kernel layout (kh, kw, in, out)."""

    kernel: torch.Tensor
    bias: torch.Tensor

    def __init__(self, kh: int, kw: int, cin: int, cout: int, same: bool = False) -> None:
        super().__init__()
        self.register_buffer("kernel", torch.zeros(kh, kw, cin, cout))
        self.register_buffer("bias", torch.zeros(cout))
        self.same = same

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, H, W, C) -> (N, H', W', C')
        kh, kw = self.kernel.shape[:2]
        x = x.permute(0, 3, 1, 2)
        if self.same:  # TensorFlow's "same": the odd padding row goes after
            x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        out = F.conv2d(x, self.kernel.permute(3, 2, 0, 1), self.bias)
        return out.permute(0, 2, 3, 1)


class TFDense(nn.Module):
    kernel: torch.Tensor
    bias: torch.Tensor

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.register_buffer("kernel", torch.zeros(cin, cout))
        self.register_buffer("bias", torch.zeros(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.kernel + self.bias


def _pad_time(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """Zero rows before and after along axis 1 of (N, T, W, C)."""
    return F.pad(x, (0, 0, 0, 0, before, after))


class ConvBN(nn.Module):
    """A convolution with its ReLU, then BatchNorm: musicnn's order."""

    def __init__(self, conv: TFConv2d, bn: TFBatchNorm) -> None:
        super().__init__()
        self.conv, self.bn = conv, bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.relu(self.conv(x)))


class Registry(nn.Module):
    """Layers registered under the checkpoint's names, in the order its graph created them."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.named = nn.ModuleDict()

    def add(self, kind: str, module: nn.Module, name: str | None = None) -> nn.Module:
        if name is None:
            k = self.counts.get(kind, 0)
            self.counts[kind] = k + 1
            name = kind if k == 0 else f"{kind}_{k}"
        self.named[name.replace("/", "|")] = module
        return module

    def _block(self, conv: TFConv2d, name: str | None = None) -> ConvBN:
        """A convolution and the BatchNorm after it, registered in that order (as the graph created them)."""
        self.add("conv2d", conv, name)
        bn = self.add("batch_normalization", TFBatchNorm(int(conv.bias.shape[0])))
        return ConvBN(conv, cast(TFBatchNorm, bn))

    def variables(self) -> dict[str, torch.Tensor]:
        """checkpoint variable name -> the buffer that holds it."""
        return {f"{name.replace('|', '/')}/{buf}": t for name, m in self.named.items() for buf, t in m.named_buffers(recurse=False)}


class Musicnn(Registry):
    """musicnn (``build_musicnn``: front end 7774timbraltemporal, mid end 64 filters, back end 200 units)."""

    def __init__(self, n_tags: int = 50, midend: int = 64, backend: int = 200) -> None:
        super().__init__()
        self.bn_input = self.add("batch_normalization", TFBatchNorm(1))
        widths = (int(0.4 * N_MELS), int(0.7 * N_MELS))  # 38, 67
        self.timbral = nn.ModuleList(self._block(TFConv2d(7, width, 1, 204)) for width in widths)
        self.temporal = nn.ModuleList(self._block(TFConv2d(length, 1, 1, 51, same=True)) for length in (128, 64, 32))
        front = 2 * 204 + 3 * 51
        self.mid = nn.ModuleList(self._block(TFConv2d(7, cin, 1, midend)) for cin in (front, midend, midend))
        pooled = 2 * (front + 3 * midend)
        self.bn_pool = self.add("batch_normalization", TFBatchNorm(pooled))
        self.dense = self.add("dense", TFDense(pooled, backend))
        self.bn_dense = self.add("batch_normalization", TFBatchNorm(backend))
        self.tags = self.add("dense", TFDense(backend, n_tags))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (N, 187, 96) -> per frame: timbral (N, T, 408), temporal (N, T, 153), cnn1-3 (N, T, 64); per patch:
        mean_pool, max_pool (N, 753), penultimate (N, 200), logits (N, 50) — the names of musicnn's extractor; and
        pooled (N, 1506), the two poolings as the back end reads them."""
        h = self.bn_input(x.unsqueeze(-1))  # (N, T, F, 1)
        padded = _pad_time(h, 3, 3)
        timbral = [block(padded).amax(dim=2) for block in self.timbral]  # (N, T, 204) each
        temporal = [block(h).amax(dim=2) for block in self.temporal]  # (N, T, 51) each
        front = torch.cat(timbral + temporal, dim=-1)  # (N, T, 561)
        layers, current = [], front
        for k, block in enumerate(self.mid):
            out = block(_pad_time(current.unsqueeze(-1), 3, 3)).squeeze(2)  # (N, T, 64)
            current = out if k == 0 else out + current
            layers.append(current)
        features = torch.cat([front, *layers], dim=-1)  # (N, T, 753)
        max_pool, mean_pool = features.amax(dim=1), features.mean(dim=1)
        flat = torch.stack([max_pool, mean_pool], dim=-1).flatten(1)  # TensorFlow's (753, 2) flattened: interleaved
        penultimate = self.bn_dense(F.relu(self.dense(self.bn_pool(flat))))
        return {
            "timbral": torch.cat(timbral, dim=-1),
            "temporal": torch.cat(temporal, dim=-1),
            "cnn1": layers[0],
            "cnn2": layers[1],
            "cnn3": layers[2],
            "mean_pool": mean_pool,
            "max_pool": max_pool,
            "pooled": flat,  # the back end's input, (N, 1506)
            "penultimate": penultimate,
            "logits": self.tags(penultimate),
        }


class Vgg(Registry):
    """vgg (``models.vgg`` with 128 filters)."""

    POOLS = ((4, 1, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (2, 2, 2, 2), (4, 4, 4, 4))  # pool (h, w), strides (h, w)

    def __init__(self, n_tags: int = 50, filters: int = 128) -> None:
        super().__init__()
        self.bn_input = self.add("batch_normalization", TFBatchNorm(1))
        self.blocks = nn.ModuleList(
            self._block(TFConv2d(3, 3, 1 if k == 0 else filters, filters, same=True), f"{k + 1}CNN") for k in range(5)
        )
        self.tags = self.add("dense", TFDense(2 * filters, n_tags))  # 187 x 96 pooled to 2 x 1

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (N, 187, 96) -> pool1-5 (N, T', F', 128) and logits (N, 50)."""
        h = self.bn_input(x.unsqueeze(-1))
        out = {}
        for k, (block, (ph, pw, sh, sw)) in enumerate(zip(self.blocks, self.POOLS)):
            h = block(h)
            h = F.max_pool2d(h.permute(0, 3, 1, 2), (ph, pw), (sh, sw)).permute(0, 2, 3, 1)
            out[f"pool{k + 1}"] = h
        out["logits"] = self.tags(h.flatten(1))
        return out


MODELS = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
# the wheel's checkpoint files (musicnn 0.1.0 on PyPI): a cut or altered file is refused before it is read
PUBLISHED_SHA256 = {
    "MSD_musicnn": (
        "87f3e0f3550c8d3bafc840374003e5c8af5eeb5ecf6add61af09a7822d3282c8",
        "8579734ee6388f799ed0def4bbd0d1fdcbeaf213ef2a9dc860917bd76a303de6",
    ),
    "MTT_musicnn": (
        "da2d7bb670b2b31e9bc441bb1bd75eca31b5b061f963cc1f9630c1aff3238f57",
        "041f3935e981a65cea739842d30c188d3a7d2adf4410955c8668eb3de4a5acab",
    ),
    "MSD_vgg": (
        "50e499238457558bba9f34f8b84d4afb8279afd43520cdf0a4fdf805a49c9ca3",
        "9683d756b8311146534f333502ebf4a2a78a3e320c54ab0411dff6186d8375fc",
    ),
    "MTT_vgg": (
        "4b0d3d2d02bbe0919c063c1fb74bfa9018ac3517e362d681b07444d4207a5f5f",
        "458f5c8bcecc086a3bba3dce83809df6da6e0a3560a59ddd84711bf3d5fd8303",
    ),
}


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(frames, 96) float32: musicnn's input, as its extractor computes it (librosa's power mel, rounded to float16,
    then log10(10000 x + 1) in float32, which numpy 1.x's casting made of the extractor's line; numpy 2 would keep it
    in float16 and overflow above 6.55). A centred STFT: 1 + samples // 256 frames."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio, dtype=np.float32), sr=SAMPLE_RATE, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS
    ).T
    return np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1).astype(np.float32)


def patches(rep: np.ndarray, hop: int = PATCH) -> np.ndarray:
    """(P, 187, 96): the 187-frame patches starting every ``hop`` frames (the extractor's default: no overlap); a
    partial patch at the end is dropped, as the extractor drops it."""
    starts = range(0, rep.shape[0] - PATCH + 1, hop)
    return np.stack([rep[t : t + PATCH] for t in starts]) if len(starts) else np.zeros((0, PATCH, N_MELS), np.float32)


def package_checkpoint(model: str) -> Path:
    """The folder of one of the wheel's checkpoints (the package found, never imported: it imports TensorFlow)."""
    if model not in MODELS:
        raise ValueError(f"unknown musicnn model {model!r}; choose one of {', '.join(MODELS)}")
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("musicnn needs the musicnn package (its weights are in the wheel): pip install --no-deps musicnn==0.1.0")
    return Path(next(iter(spec.submodule_search_locations))) / model


def load_model(model: str, folder: Path | None = None) -> Registry:
    """One of the four networks with its trained weights: from the installed wheel (its files' sha256 checked) or
    from ``folder`` (a checkpoint in the same layout: ``folder/.index`` and ``folder/.data-00000-of-00001``)."""
    if model not in MODELS:
        raise ValueError(f"unknown musicnn model {model!r}; choose one of {', '.join(MODELS)}")
    expected = None
    if folder is None:
        folder = package_checkpoint(model)
        index_sha, data_sha = PUBLISHED_SHA256[model]
        expected = {".index": index_sha, ".data-00000-of-00001": data_sha}
    net: Registry = Vgg() if model.endswith("vgg") else Musicnn()
    load_variables(net, read_checkpoint(folder, expected), str(folder))
    return net.eval()


def load_variables(net: Registry, variables: dict[str, np.ndarray], source: str) -> None:
    """Fill the network from a checkpoint's variables, strictly: every buffer from a variable of its shape, and
    every variable of the checkpoint used but the optimizer's (Adam's slots, its step counters)."""
    wanted = net.variables()
    model_vars = {k: v for k, v in variables.items() if not k.endswith(OPTIMIZER_SLOTS) and k not in OPTIMIZER_VARIABLES}
    missing, unused = sorted(set(wanted) - set(model_vars)), sorted(set(model_vars) - set(wanted))
    if missing or unused:
        raise ValueError(
            f"{source}: not this network's checkpoint"
            + (f"; missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}" if missing else "")
            + (f"; unexpected {', '.join(unused[:3])}{' ...' if len(unused) > 3 else ''}" if unused else "")
        )
    for name, buffer in wanted.items():
        value = np.asarray(model_vars[name])
        if tuple(value.shape) != tuple(buffer.shape):
            raise ValueError(f"{source}: {name} has shape {tuple(value.shape)}, the network expects {tuple(buffer.shape)}")
        buffer.copy_(torch.from_numpy(value.astype(np.float32)))
