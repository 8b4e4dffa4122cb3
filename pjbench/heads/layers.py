"""A learned softmax-weighted sum over hidden layers (s3prl's Featurizer idea)."""

from __future__ import annotations

import torch
from torch import nn


class LayerMix(nn.Module):
    def __init__(self, n_layers: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, layers, ...) -> (N, ...)."""
        w = torch.softmax(self.logits, dim=0)
        return torch.einsum("l,nl...->n...", w, x)

    def weights(self) -> list[float]:
        return torch.softmax(self.logits.detach(), dim=0).tolist()
