"""The published probe head ("AudioCNNTransformer" of the Piano Judges paper), fixed.

Per 10-second segment, a (frames x dim) image goes through two Conv2d(kernel 7, stride 5,
padding 1) + BatchNorm + ReLU + Dropout blocks (1 -> 2 -> 1 channels), is flattened and
projected to 128; one Transformer encoder layer (2 heads, feed-forward 64) attends across
the segments; the 30 x 128 outputs are flattened into the classifier.

Fixed against the reference code: the model returns logits (the loss applies the
softmax once), a key-padding mask keeps padded segments out of the attention and their
outputs are zeroed before the classifier, so padding contributes nothing; only real
segments go through the convolutions, so BatchNorm statistics are not diluted by padding.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import LayerMix

KERNEL, STRIDE, PADDING = 7, 5, 1


def _conv_out(n: int) -> int:
    return (n + 2 * PADDING - KERNEL) // STRIDE + 1


def conv_flatten_size(frames: int, dim: int) -> int:
    """Flattened size after the two convolutions for a (frames x dim) segment."""
    return _conv_out(_conv_out(frames)) * _conv_out(_conv_out(dim))


class ConvAttentionProbe(nn.Module):
    def __init__(
        self, frames: int, dim: int, n_classes: int, max_segments: int = 30, n_layers: int = 1, d_model: int = 128, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.max_segments = max_segments
        self.layer_mix = LayerMix(n_layers) if n_layers > 1 else None
        self.conv = nn.Sequential(
            nn.Conv2d(1, 2, KERNEL, STRIDE, PADDING),
            nn.BatchNorm2d(2),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv2d(2, 1, KERNEL, STRIDE, PADDING),
            nn.BatchNorm2d(1),
            nn.ReLU(),
            nn.Dropout(dropout),
        )
        self.flatten_size = conv_flatten_size(frames, dim)
        if self.flatten_size <= 0:
            raise ValueError(
                f"the published head needs at least 5 frames and 5 dimensions per segment, got {frames} x {dim} (pooled cache? use --head linear)"
            )
        self.project = nn.Linear(self.flatten_size, d_model)
        self.attention = nn.TransformerEncoderLayer(d_model, nhead=2, dim_feedforward=64, dropout=dropout, batch_first=True)
        self.classifier = nn.Linear(max_segments * d_model, n_classes)
        self.d_model = d_model

    def forward(self, segments: torch.Tensor, batch_index: torch.Tensor, position: torch.Tensor, batch_size: int) -> torch.Tensor:
        """segments (N, layers, frames, dim) of all real segments in the batch; batch_index and
        position (N,) say which example and which segment slot each belongs to. Returns logits."""
        x = self.layer_mix(segments) if self.layer_mix is not None else segments[:, 0]
        x = self.conv(x.unsqueeze(1)).flatten(1)
        x = self.project(x)
        seq = x.new_zeros(batch_size, self.max_segments, self.d_model)
        seq[batch_index, position] = x
        padding = torch.ones(batch_size, self.max_segments, dtype=torch.bool, device=x.device)
        padding[batch_index, position] = False
        seq = self.attention(seq, src_key_padding_mask=padding)
        seq = seq.masked_fill(padding.unsqueeze(-1), 0.0)
        return self.classifier(seq.flatten(1))
