"""The PISA heads: per branch, clip features averaged over the sample's clips -> linear 128 -> classifier;
the multimodal head concatenates both branches' averaged features, with no gradient into the backbones,
-> linear 128 -> classifier. The loss per head is cross-entropy plus 0.1 x (L1 + L2) of the distance between
the predicted level (the softmax's expected level) and the true one, as the paper's Eq. 1."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

MODALITIES: tuple[str, ...] = ("video", "audio", "multimodal")


class BranchHead(nn.Module):
    def __init__(self, in_dim: int, n_classes: int, hidden: int = 128, dropout: float = 0.5) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def forward(self, clip_features: torch.Tensor) -> torch.Tensor:
        """(B, clips, F) -> logits (B, classes)"""
        return self.net(clip_features.mean(dim=1))


class PisaModel(nn.Module):
    """Backbones (None when probing frozen features) and the heads the modality needs."""

    def __init__(
        self,
        modality: str,
        n_classes: int,
        video_backbone: nn.Module | None = None,
        audio_backbone: nn.Module | None = None,
        video_dim: int = 0,
        audio_dim: int = 0,
    ) -> None:
        super().__init__()
        if modality not in MODALITIES:
            raise ValueError(f"modality {modality!r}: choose one of {MODALITIES}")
        self.modality = modality
        self.uses_video = modality in ("video", "multimodal")
        self.uses_audio = modality in ("audio", "multimodal")
        self.video_backbone, self.audio_backbone = video_backbone, audio_backbone
        self.video_head = BranchHead(video_dim, n_classes) if self.uses_video else None
        self.audio_head = BranchHead(audio_dim, n_classes) if self.uses_audio else None
        self.fusion_head = BranchHead(video_dim + audio_dim, n_classes) if modality == "multimodal" else None

    def clip_features(self, backbone: nn.Module | None, x: torch.Tensor) -> torch.Tensor:
        """(B, clips, ...) inputs -> (B, clips, F); frozen features pass through."""
        if backbone is None:
            return x
        b, n = x.shape[:2]
        return backbone(x.flatten(0, 1)).view(b, n, -1)

    def forward(self, video: torch.Tensor | None = None, audio: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        feats = {}
        if self.uses_video:
            assert video is not None and self.video_head is not None
            feats["video"] = self.clip_features(self.video_backbone, video)
            out["video"] = self.video_head(feats["video"])
        if self.uses_audio:
            assert audio is not None and self.audio_head is not None
            feats["audio"] = self.clip_features(self.audio_backbone, audio)
            out["audio"] = self.audio_head(feats["audio"])
        if self.fusion_head is not None:
            fused = torch.cat([feats["video"].detach(), feats["audio"].detach()], dim=-1)  # no gradient into the backbones
            out["multimodal"] = self.fusion_head(fused)
        return out


def level_loss(logits: torch.Tensor, target: torch.Tensor, reg_weight: float = 0.1) -> torch.Tensor:
    """Cross-entropy + reg_weight * (|E - y| + (E - y)^2), E the expected class index under the softmax."""
    levels = torch.arange(logits.shape[1], device=logits.device, dtype=logits.dtype)
    expected = (F.softmax(logits, dim=1) * levels).sum(dim=1)
    distance = expected - target.to(logits.dtype)
    return F.cross_entropy(logits, target) + reg_weight * (distance.abs() + distance**2).mean()
