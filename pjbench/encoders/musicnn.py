"""MusiCNN's VGG taggers as encoders (``vgg-msd``, ``vgg-mtt``): the networks of :mod:`pjbench.encoders.musicnn_net`
(weights from the ``musicnn`` wheel, read without TensorFlow) on 3-second patches.

A frame is one 3-second patch (187 frames of the 96-band log mel, the input the models were trained on), starting every
32 mel frames (0.512 s): 1.95 frames per second, 14 per 10-second segment (the mel is a centred STFT, so ``1 + samples
// 256`` mel frames, then ``(mel frames - 187) // 32 + 1`` patches). Per frame and block, the block's pooled output
averaged over the patch's time and frequency: five layers of 128 dimensions (``pool1`` to ``pool5``; the tags are
not a layer). The musicnn architecture's layers differ in size (561, 64, 753, 200) and are not an encoder yet.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from .musicnn_net import SAMPLE_RATE, load_model, log_mel, patches

PATCH_HOP = 32  # mel frames between patch starts (0.512 s)
CHUNK = 64  # patches per forward pass


class VggEncoder:
    def __init__(self, model: str = "MSD_vgg", checkpoint: str | None = None) -> None:
        from pathlib import Path

        from .specs import BUILTIN

        self.network = load_model(model, Path(checkpoint) if checkpoint else None)
        name = "vgg-msd" if model.startswith("MSD") else "vgg-mtt"
        spec = BUILTIN[name].meta
        assert spec is not None
        self.meta = replace(spec, options={"model": model, "patch_hop": PATCH_HOP})
        self.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> VggEncoder:
        self.network.to(device)
        self.device = torch.device(device)
        return self

    @torch.inference_mode()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) at 16 kHz -> (batch, 5 layers, patches, 128)."""
        n_frames = self.meta.frames(audio.shape[-1] / SAMPLE_RATE)
        out = []
        for signal in audio.detach().cpu().float().numpy():
            layers = []
            for chunk in torch.from_numpy(patches(log_mel(signal), PATCH_HOP)).split(CHUNK):
                pooled = self.network(chunk.to(self.device))
                layers.append(torch.stack([pooled[f"pool{k}"].mean(dim=(1, 2)) for k in range(1, 6)], dim=1))  # (P, 5, 128)
            stacked = torch.cat(layers) if layers else torch.zeros(0, 5, 128, device=self.device)
            out.append(stacked[:n_frames].transpose(0, 1))
        return torch.stack(out)


def vgg_msd(checkpoint: str | None = None) -> VggEncoder:
    return VggEncoder("MSD_vgg", checkpoint)


def vgg_mtt(checkpoint: str | None = None) -> VggEncoder:
    return VggEncoder("MTT_vgg", checkpoint)
