"""Audio-MAE (ViT-B/16 on a 1024 x 128 fbank) through transformers' ``ViTModel`` — no timm needed.

Input as the official AudioSet recipe: 16 kHz, kaldi-style 128-bin fbank with a 10 ms shift
and Hanning window, 1024 frames (10.24 s; a 10-s segment is padded), normalised as
``(x + 4.2677393) / (2 * 4.5689974)``. transformers' ``ASTFeatureExtractor`` computes exactly
this without torchaudio. The 1024 x 128 image is cut into 64 (time) x 8 (frequency) patches
of 16 x 16; the embedding is the 512 patch tokens (CLS dropped) in row-major time-then-
frequency order, 768-d: the reference's 512 x 768 (declared as 51.2 tokens/s).

Checkpoint: the official ``.pth`` (timm key names under ``"model"``; decoder keys of the
pretraining checkpoint are dropped) is mapped onto ViTModel's names, q/k/v split from timm's
fused ``qkv``. Hidden states: the patch embedding and the 12 blocks, the last one after the
final LayerNorm (timm's ``forward_features``).

``reference=True`` reproduces the reference code's settings (32 kHz input and no fbank
normalisation) for comparing with its numbers; its left-channel-only input is not
reproduced (pjbench downmixes).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .base import Framing
from .checkpoints import CheckpointError, load_torch_file
from .specs import BUILTIN

FBANK_MEAN, FBANK_STD = -4.2677393, 4.5689974
TARGET_FRAMES, N_MELS, PATCH = 1024, 128, 16


def timm_to_vit(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """timm ViT names (Audio-MAE's encoder) -> transformers ViTModel names; decoder and head keys dropped."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith(("decoder", "mask_token", "head", "fc_norm")):
            continue
        if key == "cls_token":
            out["embeddings.cls_token"] = value
        elif key == "pos_embed":
            out["embeddings.position_embeddings"] = value
        elif key.startswith("patch_embed.proj."):
            out["embeddings.patch_embeddings.projection." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("norm."):
            out["layernorm." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("blocks."):
            _, i, rest = key.split(".", 2)
            prefix = f"layers.{i}."  # transformers 5 names
            if rest.startswith("attn.qkv."):
                kind = rest.rsplit(".", 1)[1]
                q, k, v = value.chunk(3, dim=0)
                for name, part in (("q_proj", q), ("k_proj", k), ("v_proj", v)):
                    out[f"{prefix}attention.{name}.{kind}"] = part
            else:
                renames = {
                    "norm1.": "layernorm_before.",
                    "norm2.": "layernorm_after.",
                    "attn.proj.": "attention.o_proj.",
                    "mlp.fc1.": "mlp.fc1.",
                    "mlp.fc2.": "mlp.fc2.",
                }
                for old, new in renames.items():
                    if rest.startswith(old):
                        out[prefix + new + rest[len(old) :]] = value
                        break
                else:
                    raise CheckpointError(f"unexpected Audio-MAE parameter {key}")
        else:
            raise CheckpointError(f"unexpected Audio-MAE parameter {key}")
    return out


def vit_config_for(state: dict[str, torch.Tensor]):
    from transformers import ViTConfig

    depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    hidden = state["cls_token"].shape[-1]
    mlp = state["blocks.0.mlp.fc1.weight"].shape[0]
    heads = max(1, hidden // 64)
    return ViTConfig(
        hidden_size=hidden,
        num_hidden_layers=depth,
        num_attention_heads=heads,
        intermediate_size=mlp,
        image_size=(TARGET_FRAMES, N_MELS),
        patch_size=PATCH,
        num_channels=1,
        qkv_bias=True,
        layer_norm_eps=1e-6,
        hidden_act="gelu",
    )


class AudioMaeEncoder:
    def __init__(self, checkpoint: str | None = None, reference: bool = False, heads: int | None = None) -> None:
        from transformers import ASTFeatureExtractor, ViTModel

        if checkpoint is None:
            raise CheckpointError(
                "audiomae needs --checkpoint PATH: the official Audio-MAE .pth (e.g. pretrained.pth), which has no Hugging Face id"
            )
        blob = load_torch_file(checkpoint)
        state = blob.get("model", blob) if isinstance(blob, dict) else None
        if not isinstance(state, dict) or "cls_token" not in state:
            raise CheckpointError(f"{checkpoint} is not an Audio-MAE checkpoint (no 'model' with timm ViT keys)")
        config = vit_config_for(state)
        if heads:
            config.num_attention_heads = heads
        self.model = ViTModel(config, add_pooling_layer=False).eval()
        mapped = timm_to_vit(state)
        missing, unexpected = self.model.load_state_dict(mapped, strict=False)
        if missing or unexpected:
            raise CheckpointError(
                f"{checkpoint} does not match ViT-{config.hidden_size}: missing {sorted(missing)[:6]}, unexpected {sorted(unexpected)[:6]}"
            )
        self.reference = reference
        rate = 32000 if reference else 16000
        with warnings.catch_warnings():  # the recipe's 128 bands over a 512-point FFT leave one empty; kept as published
            warnings.filterwarnings("ignore", message="At least one mel filter has all zero values")
            self.features = ASTFeatureExtractor(
                sampling_rate=16000,
                num_mel_bins=N_MELS,
                max_length=TARGET_FRAMES,
                do_normalize=not reference,
                mean=FBANK_MEAN,
                std=FBANK_STD,
            )
        n_tokens = (TARGET_FRAMES // PATCH) * (N_MELS // PATCH)
        spec = BUILTIN["audiomae"].meta
        assert spec is not None
        self.meta = replace(
            spec,
            revision=f"local:{Path(checkpoint).name}",
            sample_rate=rate,
            frame_rate=n_tokens / 10.0,
            dim=config.hidden_size,
            n_layers=config.num_hidden_layers + 1,
            description=spec.description + (" [reference settings: 32 kHz, no normalisation]" if reference else ""),
            options={"reference": reference},
            # a fixed 1024-frame fbank (10.24 s at 16 kHz); the reference fed 32 kHz audio as if 16 kHz (5.12 s)
            framing=Framing(fixed=n_tokens, max_seconds=0.0 if reference else TARGET_FRAMES / 100),
        )
        self.device = torch.device("cpu")

    def to(self, device: torch.device) -> AudioMaeEncoder:
        self.model.to(device)
        self.device = device
        return self

    def fbank(self, audio: torch.Tensor) -> torch.Tensor:
        waves = [np.asarray(x, dtype=np.float32) for x in audio.float().cpu().numpy()]
        # the reference fed 32 kHz audio to a 16 kHz recipe: the extractor is told 16 kHz either way
        feats = self.features(waves, sampling_rate=16000, return_tensors="pt")["input_values"]
        return feats.unsqueeze(1)  # (batch, 1, 1024, 128)

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        pixels = self.fbank(audio).to(self.device)
        out = self.model(pixel_values=pixels, output_hidden_states=True)
        states = list(out.hidden_states[:-1]) + [out.last_hidden_state]
        return torch.stack([s[:, 1:] for s in states], dim=1)  # drop CLS: (batch, layers, 512, dim)
