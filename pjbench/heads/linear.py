"""A linear probe on pooled statistics (mean and standard deviation over real frames)."""

from __future__ import annotations

import torch
from torch import nn


class PooledLinearProbe(nn.Module):
    def __init__(self, in_features: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, n_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)
