"""A linear probe on pooled statistics (mean and standard deviation over real frames)."""

from __future__ import annotations

import torch
from torch import nn

from .layers import LayerMix


class PooledLinearProbe(nn.Module):
    def __init__(self, in_features: int, n_classes: int, n_layers: int = 1) -> None:
        super().__init__()
        self.layer_mix = LayerMix(n_layers) if n_layers > 1 else None
        self.linear = nn.Linear(in_features, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features (batch, layers, in_features)."""
        x = self.layer_mix(features) if self.layer_mix is not None else features[:, 0]
        return self.linear(x)
