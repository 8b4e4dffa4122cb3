"""Encoders for the validator's tests, named on the command line as example_encoders:NAME."""

import torch

from pjbench.encoders.base import EncoderMeta


class _Base:
    def __init__(self) -> None:
        self.meta = EncoderMeta("example", "0", 8000, 10.0, 4, 1)

    def to(self, device):
        return self


class WrongShape(_Base):
    """Declares dim 4 and 10 frames/s but returns dim 3."""

    def embed(self, audio):
        frames = audio.shape[1] // 800
        return audio[:, : frames * 800].reshape(len(audio), 1, frames, 800)[..., :3]


class BatchDependent(_Base):
    """Normalises by the whole batch, so an item's embedding depends on its neighbours."""

    def embed(self, audio):
        frames = audio[:, : audio.shape[1] // 800 * 800].reshape(len(audio), audio.shape[1] // 800, 800)
        feats = frames.abs().mean(-1, keepdim=True).repeat(1, 1, 4)
        return (feats / (feats.mean() + 1e-3)).unsqueeze(1)


class NaNOnSilence(_Base):
    def embed(self, audio):
        frames = audio[:, : audio.shape[1] // 800 * 800].reshape(len(audio), audio.shape[1] // 800, 800)
        rms = frames.pow(2).mean(-1, keepdim=True).sqrt()
        return torch.log(rms / rms).repeat(1, 1, 4).unsqueeze(1) + rms.unsqueeze(1)
