"""The real basic-pitch model (shipped as ONNX inside the package) as an encoder."""

import numpy as np
import pytest
import torch

from pjbench.encoders import load_encoder
from pjbench.encoders.validate import validate_encoder

pytest.importorskip("onnxruntime")
pytest.importorskip("basic_pitch", reason="pip install --no-deps basic-pitch==0.4.0")


def test_posteriorgrams_find_the_played_key():
    enc = load_encoder("basicpitch")
    assert (enc.meta.sample_rate, enc.meta.dim, enc.meta.frames(10)) == (22050, 440, 860)
    t = np.arange(22050 * 10) / 22050
    tone = sum(np.sin(2 * np.pi * 440.0 * k * t) / k for k in (1, 2, 3)) * np.exp(-0.3 * (t % 2.0))  # A4, re-struck every 2 s
    out = enc.embed(torch.from_numpy((0.2 * tone).astype(np.float32))[None])
    assert out.shape == (1, 1, 860, 440)
    notes = out[0, 0, 100:700, :88].mean(0)  # note posteriors over the 88 keys (A0 = MIDI 21)
    assert int(notes.argmax()) == 69 - 21


def test_validator_passes():
    assert [c.name for c in validate_encoder(load_encoder("basicpitch")) if not c.passed] == []
