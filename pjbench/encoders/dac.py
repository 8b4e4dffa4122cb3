"""DAC (Descript Audio Codec) through transformers' ``DacModel`` — no descript-audio-codec needed.

The embedding is ``z``, the 1024-d quantised continuous representation of ``encode()``
(what the reference used), or with ``representation="latent"`` the encoder output before
quantisation. Unlike the reference, which encoded 1-second chunks independently (seams,
87 frames/s), the whole 10-s segment is encoded at once (``reference=True`` restores the 1-s chunks), right-padded to a multiple of the
hop (512) as DAC's own ``preprocess`` does: 862 frames at 86.13 frames/s for 44.1 kHz.

Checkpoints, both loaded strictly (a missing, unexpected or misshapen weight is an error naming it and the file,
never a model run on random weights): a transformers folder (``config.json`` + weights, e.g. a snapshot of
``descript/dac_44khz``), or descript's own weights file (``weights_44khz_8kbps_0.0.1.pth``:
``{"state_dict", "metadata": {"kwargs"}}``), whose parameter names are mapped here onto
DacModel's and whose weight-normalised convolutions (``weight_g``, ``weight_v``) are folded
into plain weights.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import torch

from .base import Framing
from .checkpoints import CheckpointError, load_pretrained_strictly, load_torch_file, resolve_snapshot, strict_load
from .specs import BUILTIN

RES_PARTS = ("snake1", "conv1", "snake2", "conv2")


def _descript_name(name: str, n_enc: int, n_dec: int) -> str | None:
    """DacModel's module path for one of descript's, or None if unknown. descript numbers its top-level
    layers: 0 the first conv, 1..n the blocks, n+1 the last snake, n+2 the last conv."""
    rules: list[tuple[str, object]] = [
        (r"encoder\.block\.0$", "encoder.conv1"),
        (rf"encoder\.block\.{n_enc + 1}$", "encoder.snake1"),
        (rf"encoder\.block\.{n_enc + 2}$", "encoder.conv2"),
        (
            r"encoder\.block\.(\d+)\.block\.(\d+)\.block\.(\d+)$",
            lambda m: f"encoder.block.{int(m[1]) - 1}.res_unit{int(m[2]) + 1}.{RES_PARTS[int(m[3])]}",
        ),
        (r"encoder\.block\.(\d+)\.block\.3$", lambda m: f"encoder.block.{int(m[1]) - 1}.snake1"),
        (r"encoder\.block\.(\d+)\.block\.4$", lambda m: f"encoder.block.{int(m[1]) - 1}.conv1"),
        (r"decoder\.model\.0$", "decoder.conv1"),
        (rf"decoder\.model\.{n_dec + 1}$", "decoder.snake1"),
        (rf"decoder\.model\.{n_dec + 2}$", "decoder.conv2"),
        (
            r"decoder\.model\.(\d+)\.block\.(\d+)\.block\.(\d+)$",
            lambda m: f"decoder.block.{int(m[1]) - 1}.res_unit{int(m[2]) - 1}.{RES_PARTS[int(m[3])]}",
        ),
        (r"decoder\.model\.(\d+)\.block\.0$", lambda m: f"decoder.block.{int(m[1]) - 1}.snake1"),
        (r"decoder\.model\.(\d+)\.block\.1$", lambda m: f"decoder.block.{int(m[1]) - 1}.conv_t1"),
        (r"(quantizer\.quantizers\.\d+\.(?:in_proj|out_proj|codebook))$", lambda m: m[1]),
    ]
    for pattern, target in rules:
        match = re.fullmatch(pattern, name)
        if match:
            return target(match) if callable(target) else str(target)
    return None


def convert_descript_state(state: dict[str, torch.Tensor], n_enc: int, n_dec: int) -> dict[str, torch.Tensor]:
    """descript-audio-codec's state dict -> DacModel's (weight norm folded: w = g * v / ||v||)."""
    grouped: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        module, _, param = key.rpartition(".")
        grouped.setdefault(module, {})[param] = value
    out: dict[str, torch.Tensor] = {}
    unknown = []
    for module, params in grouped.items():
        target = _descript_name(module, n_enc, n_dec)
        if target is None:
            unknown.append(module)
            continue
        if "weight_v" in params:
            v, g = params.pop("weight_v"), params.pop("weight_g")
            norm = v.flatten(1).norm(dim=1).view(-1, *([1] * (v.dim() - 1)))
            out[f"{target}.weight"] = g * v / norm
        for param, value in params.items():
            out[f"{target}.{param}"] = value
    if unknown:
        raise CheckpointError(f"unknown parameters in the DAC weights file: {unknown[:6]}")
    return out


def _config_from_descript(kwargs: dict, sample_rate: int):
    from transformers import DacConfig

    if list(kwargs["decoder_rates"]) != list(kwargs["encoder_rates"])[::-1]:
        raise CheckpointError("DacModel mirrors the encoder's rates in the decoder; this checkpoint's rates differ")
    return DacConfig(
        encoder_hidden_size=kwargs["encoder_dim"],
        downsampling_ratios=list(kwargs["encoder_rates"]),
        decoder_hidden_size=kwargs["decoder_dim"],
        n_codebooks=kwargs["n_codebooks"],
        codebook_size=kwargs["codebook_size"],
        codebook_dim=kwargs["codebook_dim"],
        quantizer_dropout=float(kwargs.get("quantizer_dropout", 0.0)),
        sampling_rate=int(kwargs.get("sample_rate", sample_rate)),
    )


class DacEncoder:
    def __init__(
        self,
        checkpoint: str | None = None,
        model_id: str = "descript/dac_44khz",
        representation: str = "z",
        sample_rate: int = 44100,
        reference: bool = False,
    ) -> None:
        from transformers import DacConfig, DacModel

        if representation not in ("z", "latent"):
            raise ValueError("DAC representation must be 'z' (quantised, the reference's) or 'latent' (before quantisation)")
        path = Path(checkpoint).expanduser() if checkpoint else None
        if path is not None and path.is_file():
            blob = load_torch_file(path)
            if not isinstance(blob, dict) or "state_dict" not in blob or "metadata" not in blob:
                raise CheckpointError(f"{path} is not a descript-audio-codec weights file (no state_dict/metadata)")
            config = _config_from_descript(blob["metadata"]["kwargs"], sample_rate)
            self.model = DacModel(config).eval()
            kwargs = blob["metadata"]["kwargs"]
            state = convert_descript_state(blob["state_dict"], len(kwargs["encoder_rates"]), len(kwargs["decoder_rates"]))
            strict_load(self.model, state, str(path))
            revision = f"descript:{path.name}"
        else:
            folder = resolve_snapshot(path, model_id)
            config = DacConfig.from_pretrained(folder, local_files_only=True)
            self.model = load_pretrained_strictly(DacModel, folder)
            revision = folder.name
        self.representation = representation
        self.hop = int(config.hop_length)
        rate = int(config.sampling_rate)
        # reference=True: the reference code's 1-second chunks encoded independently (seams; 87 frames per second)
        self.chunk = rate if reference else None
        dim = config.hidden_size  # z and the encoder output share the latent width (1024 for the 44 kHz model)
        spec = BUILTIN["dac"].meta
        assert spec is not None
        self.meta = replace(
            spec,
            revision=revision,
            sample_rate=rate,
            frame_rate=rate / self.hop,
            dim=dim,
            description=f"DAC {rate // 1000} kHz, {representation} ({dim}-d), whole-segment encoding, via transformers DacModel"
            + (" [reference: 1-s chunks]" if reference else ""),
            options={"representation": representation, "model_id": model_id, "reference_1s_chunks": reference},
            # padded up to a multiple of the hop; in the reference's mode, each whole second on its own
            framing=Framing("ceil", chunk_samples=rate if reference else 0),
        )

    def to(self, device: torch.device) -> DacEncoder:
        self.model.to(device)
        return self

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        x = audio.float()
        if self.chunk is not None:
            n = x.shape[1] // self.chunk
            parts = self._encode(x[:, : n * self.chunk].reshape(-1, self.chunk))  # (batch * n, 1, frames, dim)
            return parts.reshape(x.shape[0], n, *parts.shape[2:]).flatten(1, 2).unsqueeze(1)
        return self._encode(x)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        pad = (-x.shape[1]) % self.hop
        x = torch.nn.functional.pad(x, (0, pad)).unsqueeze(1)  # (batch, 1, samples)
        out = self.model.encoder(x) if self.representation == "latent" else self.model.encode(x).quantized_representation
        return out.transpose(1, 2).unsqueeze(1)  # (batch, 1, frames, dim)
