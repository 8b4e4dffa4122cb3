"""The published probe head ("AudioCNNTransformer" of the Piano Judges paper), fixed.

Per 10-second segment, a (frames x dim) image goes through two Conv2d(kernel 7, stride 5,
padding 1) + BatchNorm + ReLU + Dropout blocks (1 -> 2 -> 1 channels), is flattened and
projected to 128; one Transformer encoder layer (2 heads, feed-forward 64) attends across
the segments; the 30 x 128 outputs are flattened into the classifier.

Fixed against the reference code: the model returns logits (the loss applies the
softmax once), a key-padding mask keeps padded segments out of the attention and their
outputs are zeroed before the classifier, so padding contributes nothing; only real
segments go through the convolutions, so BatchNorm statistics are not diluted by padding.

Speed, with the same parameters and the same math: while training, the second convolution runs as a stride-1
convolution over 5 x 5 blocks of its input (its native backward is slow on CPUs for this shape), and several probes
that read the same batch can share one call of their first convolution (:func:`shared_first_conv`), and the
convolution blocks' dropout masks are drawn four per random word (:class:`PackedDropout`: drop probability 0.1
rounded to 15 bits).
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from .layers import LayerMix, PackedDropout

KERNEL, STRIDE, PADDING = 7, 5, 1


def _conv_out(n: int) -> int:
    return (n + 2 * PADDING - KERNEL) // STRIDE + 1


def conv_flatten_size(frames: int, dim: int) -> int:
    """Flattened size after the two convolutions for a (frames x dim) segment."""
    return max(_conv_out(_conv_out(frames)), 0) * max(_conv_out(_conv_out(dim)), 0)


# the fewest frames (and dimensions) the two stride-5 convolutions leave anything of: 25
MIN_SIDE = next(n for n in range(1, 1000) if _conv_out(_conv_out(n)) > 0)


def blocked_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.conv2d(x, weight, bias, STRIDE, PADDING)`` for a KERNEL x KERNEL kernel, computed as a 2 x 2 stride-1
    convolution over the padded input cut into STRIDE x STRIDE blocks (the blocks as channels; the kernel
    zero-padded to 2 * STRIDE). The same sums in another order: equal to float rounding, and its backward pass is
    several times faster on CPUs for the published head's small second convolution."""
    n, channels, rows, cols = x.shape
    out_rows, out_cols = _conv_out(rows), _conv_out(cols)
    blocks_r, blocks_c = out_rows + 1, out_cols + 1
    padded = F.pad(x, (PADDING, blocks_c * STRIDE - cols - PADDING, PADDING, blocks_r * STRIDE - rows - PADDING))
    blocked = padded.reshape(n, channels, blocks_r, STRIDE, blocks_c, STRIDE).permute(0, 1, 3, 5, 2, 4)
    blocked = blocked.reshape(n, channels * STRIDE * STRIDE, blocks_r, blocks_c)
    out_ch = weight.shape[0]
    kernel = F.pad(weight, (0, 2 * STRIDE - KERNEL, 0, 2 * STRIDE - KERNEL))
    kernel = kernel.reshape(out_ch, channels, 2, STRIDE, 2, STRIDE).permute(0, 1, 3, 5, 2, 4).reshape(out_ch, -1, 2, 2)
    return F.conv2d(blocked, kernel, bias)[:, :, :out_rows, :out_cols]


def shared_first_conv(probes: list[ConvAttentionProbe], x: torch.Tensor) -> list[torch.Tensor]:
    """The first convolution of several single-layer probes over the same segments, in one call: their kernels
    stacked as output channels (each channel's sums are computed as in a call of its own)."""
    first = [p.first_conv for p in probes]
    weight = torch.cat([c.weight for c in first])
    bias = torch.cat([cast(torch.Tensor, c.bias) for c in first])
    out = F.conv2d(x.unsqueeze(1), weight, bias, STRIDE, PADDING)
    return [part.contiguous() for part in out.split(first[0].out_channels, dim=1)]  # each laid out as its own call's


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
            PackedDropout(dropout),
            nn.Conv2d(2, 1, KERNEL, STRIDE, PADDING),
            nn.BatchNorm2d(1),
            nn.ReLU(),
            PackedDropout(dropout),
        )
        self.flatten_size = conv_flatten_size(frames, dim)
        if self.flatten_size <= 0:
            raise ValueError(
                f"the published head needs at least {MIN_SIDE} frames and {MIN_SIDE} dimensions per input, got {frames} x {dim} "
                "(pooled cache, or an encoder with few frames per segment? use --head linear)"
            )
        self.project = nn.Linear(self.flatten_size, d_model)
        self.attention = nn.TransformerEncoderLayer(d_model, nhead=2, dim_feedforward=64, dropout=dropout, batch_first=True)
        self.classifier = nn.Linear(max_segments * d_model, n_classes)
        self.d_model = d_model

    def forward(self, segments: torch.Tensor, batch_index: torch.Tensor, position: torch.Tensor, batch_size: int) -> torch.Tensor:
        """segments (N, layers, frames, dim) of all real segments in the batch; batch_index and
        position (N,) say which example and which segment slot each belongs to. Returns logits."""
        return self.after_first_conv(self.first_conv(self.mixed(segments).unsqueeze(1)), batch_index, position, batch_size)

    @property
    def first_conv(self) -> nn.Conv2d:
        return cast(nn.Conv2d, self.conv[0])

    def mixed(self, segments: torch.Tensor) -> torch.Tensor:
        """(N, layers, frames, dim) -> (N, frames, dim): the layer mix, or the one layer."""
        return self.layer_mix(segments) if self.layer_mix is not None else segments[:, 0]

    def after_first_conv(self, x: torch.Tensor, batch_index: torch.Tensor, position: torch.Tensor, batch_size: int) -> torch.Tensor:
        """The rest of the forward pass, from the first convolution's output (N, 2, rows, cols)."""
        for layer in cast(nn.Sequential, self.conv[1:]):
            if isinstance(layer, nn.Conv2d) and torch.is_grad_enabled() and x.device.type == "cpu":  # the second, training
                x = blocked_conv(x, layer.weight, layer.bias)
            else:
                x = layer(x)
        x = self.project(x.flatten(1))
        seq = x.new_zeros(batch_size, self.max_segments, self.d_model)
        seq[batch_index, position] = x
        padding = torch.ones(batch_size, self.max_segments, dtype=torch.bool, device=x.device)
        padding[batch_index, position] = False
        seq = self.attention(seq, src_key_padding_mask=padding)
        seq = seq.masked_fill(padding.unsqueeze(-1), 0.0)
        return self.classifier(seq.flatten(1))
