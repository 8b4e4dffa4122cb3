"""MusiCNN's taggers as encoders (``musicnn-msd``, ``musicnn-mtt``, ``vgg-msd``, ``vgg-mtt``): the networks of
:mod:`pjbench.encoders.musicnn_net` (weights from the ``musicnn`` wheel, read without TensorFlow) on 3-second patches.

A frame is one 3-second patch (187 frames of the 96-band log mel, the input the models were trained on), starting every
32 mel frames (0.512 s): 1.95 frames per second, 14 per 10-second segment (the mel is a centred STFT, so ``1 + samples
// 256`` mel frames, then ``(mel frames - 187) // 32 + 1`` patches). The tags are not a layer.

- vgg: per block, its pooled output averaged over the patch's time and frequency: five layers of 128 dimensions
  (``pool1`` to ``pool5``).
- musicnn: the front end (timbral and temporal filters, 561), the three mid-end blocks (64 each), each averaged over
  the patch's time; the back end's input (max and mean over time of those 753 features, 1,506) and the penultimate
  dense layer (200). The sizes differ, so the six layers sit side by side on the feature axis (``meta.layer_dims``):
  ``--layer all`` stores all 2,459 values per frame, and a layer is cut out of them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from .musicnn_net import SAMPLE_RATE, load_model, log_mel, patches

PATCH_HOP = 32  # mel frames between patch starts (0.512 s)
CHUNK = 64  # patches per forward pass
MUSICNN_LAYERS = ("front end", "mid end 1", "mid end 2", "mid end 3", "pooled", "penultimate")
MUSICNN_LAYER_DIMS = (561, 64, 64, 64, 1506, 200)


def _vgg_layers(out: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([out[f"pool{k}"].mean(dim=(1, 2)) for k in range(1, 6)], dim=-1)  # (P, 5 x 128)


def _musicnn_layers(out: dict[str, torch.Tensor]) -> torch.Tensor:
    per_frame = [torch.cat([out["timbral"], out["temporal"]], dim=-1), out["cnn1"], out["cnn2"], out["cnn3"]]
    return torch.cat([h.mean(dim=1) for h in per_frame] + [out["pooled"], out["penultimate"]], dim=-1)  # (P, 2459)


class PatchEncoder:
    """One of the four networks, a frame per 3-second patch."""

    def __init__(self, model: str, checkpoint: str | None = None) -> None:
        from .specs import BUILTIN

        self.network = load_model(model, Path(checkpoint) if checkpoint else None)
        self.is_vgg = model.endswith("vgg")
        name = f"{'vgg' if self.is_vgg else 'musicnn'}-{model.split('_')[0].lower()}"
        spec = BUILTIN[name].meta
        assert spec is not None
        self.meta = replace(spec, options={"model": model, "patch_hop": PATCH_HOP})
        self.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> PatchEncoder:
        self.network.to(device)
        self.device = torch.device(device)
        return self

    @torch.inference_mode()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) at 16 kHz -> vgg (batch, 5 layers, patches, 128); musicnn (batch, 1, patches, 2459), its six
        layers side by side."""
        n_frames = self.meta.frames(audio.shape[-1] / SAMPLE_RATE)
        layers = _vgg_layers if self.is_vgg else _musicnn_layers
        out = []
        for signal in audio.detach().cpu().float().numpy():
            parts = [
                layers(self.network(chunk.to(self.device))) for chunk in torch.from_numpy(patches(log_mel(signal), PATCH_HOP)).split(CHUNK)
            ]
            flat = torch.cat(parts) if parts else torch.zeros(0, self.meta.dim, device=self.device)  # (P, dim)
            flat = flat[:n_frames]
            if self.is_vgg:
                out.append(flat.reshape(len(flat), 5, 128).transpose(0, 1))
            else:
                out.append(flat.unsqueeze(0))
        return torch.stack(out)


def vgg_msd(checkpoint: str | None = None) -> PatchEncoder:
    return PatchEncoder("MSD_vgg", checkpoint)


def vgg_mtt(checkpoint: str | None = None) -> PatchEncoder:
    return PatchEncoder("MTT_vgg", checkpoint)


def musicnn_msd(checkpoint: str | None = None) -> PatchEncoder:
    return PatchEncoder("MSD_musicnn", checkpoint)


def musicnn_mtt(checkpoint: str | None = None) -> PatchEncoder:
    return PatchEncoder("MTT_musicnn", checkpoint)
