"""The transkun encoder: built without the package's code or torchaudio, equal to the package's own forward pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pjbench.audio import load_audio

pytestmark = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("transkun") is None, reason="needs the transkun package (scripts/setup.sh installs it)"
)
REFERENCE = Path(__file__).with_name("transkun_reference.py")


def test_hidden_states_equal_the_packages_own_forward_pass(tiny, tmp_path):
    from pjbench.encoders import load_encoder
    from pjbench.encoders.transkun import SAMPLE_RATE, summarise

    clips = np.stack([load_audio(r.path, SAMPLE_RATE)[: 3 * SAMPLE_RATE] for r in tiny.recordings[:2]])
    clips[1, : SAMPLE_RATE // 2] *= 4.0  # another level at the start: the per-segment gain normalisation is part of it
    np.save(tmp_path / "clips.npy", clips)
    subprocess.run([sys.executable, str(REFERENCE), str(tmp_path / "clips.npy"), str(tmp_path / "states.pt")], check=True, timeout=600)
    expected = torch.load(tmp_path / "states.pt")  # (clips, 7 grids, T' + 1, F' + 1 + 90, 256)
    encoder = load_encoder("transkun")
    with torch.inference_mode():
        grids = torch.stack(encoder.network(torch.from_numpy(clips)), dim=1)
    assert grids.shape == expected.shape == (2, 7, 19, 149, 256)
    torch.testing.assert_close(grids, expected, rtol=1e-4, atol=1e-4)
    embedded = encoder.embed(torch.from_numpy(clips))
    frames = encoder.meta.frames(3.0)
    assert embedded.shape == (2, 7, frames, 512) and frames == 17
    torch.testing.assert_close(embedded, torch.stack([summarise(g)[:, :frames] for g in expected.unbind(1)], dim=1), rtol=1e-4, atol=1e-4)


def test_the_checkpoint_loads_strictly_and_a_foreign_one_is_refused(tmp_path):
    from pjbench.encoders.transkun import load_network, package_files

    weights, conf = package_files()
    network = load_network(weights, conf)
    assert sum(p.numel() for p in network.parameters()) == 12_102_154
    state = torch.load(weights, map_location="cpu", weights_only=True)["state_dict"]
    del state["backbone.encoderLayers.5.fnnBlockT.scale"]
    torch.save({"state_dict": state}, tmp_path / "cut.pt")
    with pytest.raises(ValueError, match="missing.*encoderLayers.5.fnnBlockT.scale"):
        load_network(tmp_path / "cut.pt", conf)
