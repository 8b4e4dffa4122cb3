"""Audio-MAE (ViT-B/16 on a 1024 x 128 fbank) through transformers' ``ViTModel`` — no timm needed.

Two official checkpoints, chosen with ``-o weights=``:

- ``finetuned`` (the default: the published study's ``finetuned.pth``, AudioSet-2M fine-tuned): AudioMAE's
  ``models_vit.VisionTransformer`` with ``global_pool=True``, which deletes the ViT's final ``norm`` and keeps
  ``fc_norm`` and the 527-class ``head`` for the pooled clip vector only. The patch tokens are the blocks' outputs as
  they are: no final LayerNorm. ``fc_norm`` and ``head`` never touch a patch token and are set aside, by name.
- ``pretrained`` (the self-supervised ``pretrained.pth``): the MAE encoder ends in ``norm``, applied to the last
  block's tokens (as ``forward_encoder``); the decoder's keys and ``mask_token`` are set aside, by name.

Every other key must map onto ViTModel (timm's fused ``qkv`` split into q/k/v) and every ViTModel weight must be
filled: a missing or unexpected key is an error naming it and the file. A file of the other layout is refused with
the option that reads it.

Input, the official AudioSet recipe: 16 kHz, Kaldi fbank (128 bands, 25-ms Hann windows, 10-ms shift), 1024 frames
(10.24 s; a 10-s segment is padded with zero rows), normalised as ``(x + 4.2677393) / (2 * 4.5689974)``.
``reference=True`` is the published study's extraction instead: 32 kHz audio peak-normalised to 0.5 per recording,
the Kaldi fbank computed at 32 kHz (998 frames for 10 s, bands up to 16 kHz, padded to 1024), not normalised.
The 1024 x 128 image is cut into 64 (time) x 8 (frequency) patches of 16 x 16; the embedding is the 512 patch tokens
(CLS dropped) in time-then-frequency order, 768-d (the reference's 512 x 768, declared as 51.2 tokens/s). Hidden
states: the patch embedding and the 12 blocks. Stereo is averaged to mono by pjbench's decoder (the reference took
the left channel). Each mode is equal to the fixture made by AudioMAE's own ``models_vit`` and torchaudio's
``kaldi.fbank`` (tests/test_fidelity.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .base import Framing
from .checkpoints import CheckpointError, load_torch_file, strict_load
from .kaldi_fbank import kaldi_fbank
from .specs import BUILTIN

FBANK_MEAN, FBANK_STD = -4.2677393, 4.5689974
TARGET_FRAMES, N_MELS, PATCH = 1024, 128, 16
REFERENCE_PEAK = 0.5  # the study's extraction scales each recording to this peak before the fbank
WEIGHTS = ("finetuned", "pretrained")
# keys each layout holds that act on no patch token: set aside by name, never silently
UNUSED = {"finetuned": ("fc_norm.", "head."), "pretrained": ("decoder", "mask_token")}


def checkpoint_layout(state: dict[str, torch.Tensor]) -> str:
    """'finetuned' (fc_norm and head, no final norm) or 'pretrained' (a final norm, the MAE decoder)."""
    if "norm.weight" in state:
        return "pretrained"
    if "fc_norm.weight" in state:
        return "finetuned"
    raise CheckpointError("neither 'norm.*' (pretrained.pth) nor 'fc_norm.*' (finetuned.pth): not an Audio-MAE checkpoint")


def timm_to_vit(state: dict[str, torch.Tensor], layout: str = "pretrained") -> dict[str, torch.Tensor]:
    """timm ViT names (Audio-MAE's encoder) -> transformers ViTModel names; the layout's unused keys set aside."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith(UNUSED[layout]):
            continue
        if key == "cls_token":
            out["embeddings.cls_token"] = value
        elif key == "pos_embed":
            out["embeddings.position_embeddings"] = value
        elif key.startswith("patch_embed.proj."):
            out["embeddings.patch_embeddings.projection." + key.rsplit(".", 1)[1]] = value
        elif key.startswith("norm.") and layout == "pretrained":
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


def fbank_image(wave: np.ndarray, sample_rate: int, normalize: bool) -> np.ndarray:
    """(1024, 128): the Kaldi fbank at ``sample_rate``, zero rows appended up to 1024 frames (or cut), then
    normalised as the AudioSet recipe if ``normalize``."""
    feats = kaldi_fbank(wave, sample_rate, N_MELS)[:TARGET_FRAMES]
    image = np.zeros((TARGET_FRAMES, N_MELS), dtype=np.float32)
    image[: len(feats)] = feats
    return (image - FBANK_MEAN) / (2 * FBANK_STD) if normalize else image


class AudioMaeEncoder:
    def __init__(
        self, checkpoint: str | None = None, weights: str = "finetuned", reference: bool = False, heads: int | None = None
    ) -> None:
        from transformers import ViTModel

        if weights not in WEIGHTS:
            raise CheckpointError(f"-o weights={weights}: give finetuned (the published study's finetuned.pth) or pretrained")
        if checkpoint is None:
            raise CheckpointError(
                f"audiomae needs --checkpoint PATH: the official Audio-MAE {weights}.pth (AudioSet-2M), which has no Hugging Face id"
            )
        blob = load_torch_file(checkpoint)
        state = blob.get("model", blob) if isinstance(blob, dict) else None
        if not isinstance(state, dict) or "cls_token" not in state:
            raise CheckpointError(f"{checkpoint} is not an Audio-MAE checkpoint (no 'model' with timm ViT keys)")
        layout = checkpoint_layout(state)
        if layout != weights:
            raise CheckpointError(
                f"{checkpoint} is the {layout} Audio-MAE checkpoint ({'a final norm and the MAE decoder' if layout == 'pretrained' else 'fc_norm and a classification head'}), "
                f"not the {weights} one: pass -o weights={layout} to embed with it"
            )
        config = vit_config_for(state)
        if heads:
            config.num_attention_heads = heads
        self.model = ViTModel(config, add_pooling_layer=False).eval()
        if layout == "finetuned":  # models_vit with global_pool deletes the final norm: the tokens are the blocks' own
            self.model.layernorm = torch.nn.Identity()
        strict_load(self.model, timm_to_vit(state, layout), str(checkpoint))
        self.weights, self.reference = weights, reference
        self.sample_rate = 32000 if reference else 16000
        n_tokens = (TARGET_FRAMES // PATCH) * (N_MELS // PATCH)
        spec = BUILTIN["audiomae"].meta
        assert spec is not None
        options: dict[str, object] = {"weights": weights, "reference": reference}
        if reference:
            options["file_peak"] = REFERENCE_PEAK
        self.meta = replace(
            spec,
            revision=f"{weights}:{Path(checkpoint).name}",
            sample_rate=self.sample_rate,
            frame_rate=n_tokens / 10.0,
            dim=config.hidden_size,
            n_layers=config.num_hidden_layers + 1,
            description=f"Audio-MAE ViT-B/16 ({weights}) patch tokens (64 time x 8 frequency), via transformers ViTModel; "
            "stereo averaged to mono (the reference took the left channel)"
            + (" [reference: 32 kHz fbank, peak 0.5 per recording, not normalised]" if reference else ""),
            options=options,
            # a fixed 1024-frame fbank (10.24 s at 10-ms shifts); shorter input is padded with zero rows
            framing=Framing(fixed=n_tokens, max_seconds=TARGET_FRAMES / 100),
        )
        self.device = torch.device("cpu")

    def to(self, device: torch.device) -> AudioMaeEncoder:
        self.model.to(device)
        self.device = device
        return self

    def fbank(self, audio: torch.Tensor) -> torch.Tensor:
        waves = audio.float().cpu().numpy()
        images = [fbank_image(w, self.sample_rate, normalize=not self.reference) for w in waves]
        return torch.from_numpy(np.stack(images)).unsqueeze(1)  # (batch, 1, 1024, 128)

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        pixels = self.fbank(audio).to(self.device)
        out = self.model(pixel_values=pixels, output_hidden_states=True)
        states = list(out.hidden_states[:-1]) + [out.last_hidden_state]
        return torch.stack([s[:, 1:] for s in states], dim=1)  # drop CLS: (batch, layers, 512, dim)
