"""Probe heads: the published conv+attention head and a pooled linear probe."""

from .linear import PooledLinearProbe
from .published import ConvAttentionProbe, conv_flatten_size

HEADS = {
    "published": "the paper's conv+attention head on frame-level embeddings (with the reference's bugs fixed)",
    "linear": "a linear probe on per-recording statistics over frames: mean, std, and mean |delta| and std of frame-to-frame differences",
}

__all__ = ["HEADS", "ConvAttentionProbe", "PooledLinearProbe", "conv_flatten_size"]
