"""Jukebox VQ-VAE top-level encoder: a random checkpoint in the official vqvae.pth.tar layout."""

import pytest
import torch

from pjbench.encoders import load_encoder
from pjbench.encoders.checkpoints import CheckpointError
from pjbench.encoders.jukebox import VqvaeLevelEncoder
from pjbench.encoders.validate import validate_encoder

# names as the official jukebox/vqvae code lays them out (VQVAE.encoders[2] -> Encoder.level_blocks[j] ->
# EncoderConvBlock.model[i] = Sequential(Conv1d, Resnet1D(model[d] = ResConv1DBlock(model = ReLU, Conv1d, ReLU, Conv1d))))
OFFICIAL_KEYS = [
    "encoders.2.level_blocks.0.model.0.0.weight",
    "encoders.2.level_blocks.0.model.0.1.model.3.model.1.weight",
    "encoders.2.level_blocks.0.model.2.1.model.0.model.3.bias",
    "encoders.2.level_blocks.0.model.3.weight",
    "encoders.2.level_blocks.2.model.1.1.model.2.model.1.weight",
    "encoders.2.level_blocks.2.model.2.bias",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    top = VqvaeLevelEncoder(level=2)
    state = {f"encoders.2.{k}": v for k, v in top.state_dict().items()}
    for key in OFFICIAL_KEYS:
        assert key in state, key
    assert state["encoders.2.level_blocks.0.model.0.1.model.3.model.1.weight"].shape == (32, 32, 3)
    # the file also holds the lower levels, decoders and the bottleneck: they must be ignored
    state["encoders.0.level_blocks.0.model.0.0.weight"] = torch.zeros(64, 1, 4)
    state["bottleneck.level_blocks.2.k"] = torch.zeros(2048, 64)
    path = tmp_path_factory.mktemp("jukebox") / "vqvae.pth.tar"
    torch.save({"hps": {"sr": 44100, "levels": 3, "downs_t": (3, 2, 2)}, "model": state, "step": 0}, path)
    return path, top


def test_top_level_shape_and_values(checkpoint):
    path, top = checkpoint
    enc = load_encoder("jukebox", checkpoint=str(path))
    x = torch.randn(2, 441000) * 0.1
    out = enc.embed(x)
    assert out.shape == (2, 1, 3445, 64)  # the paper's 3445 x 64 per 10 s
    assert enc.meta.frame_rate == pytest.approx(344.53125)
    with torch.no_grad():
        assert torch.allclose(out[:, 0], top(x.unsqueeze(1)).transpose(1, 2), atol=1e-5)


def test_each_recording_is_peak_normalised_as_a_whole(checkpoint, tmp_path):
    """As the study's extraction and jukemirlib: x / max|x| over the recording, not per segment (a quiet first
    segment stays quiet beside a loud second one)."""
    import numpy as np
    import soundfile as sf

    from pjbench.datasets.base import Dataset, Recording
    from pjbench.extraction.cache import CacheReader
    from pjbench.extraction.extract import ExtractConfig, extract
    from pjbench.extraction.segments import SegmentConfig

    path, top = checkpoint
    rng = np.random.default_rng(0)
    audio = rng.standard_normal(44100 * 4).astype(np.float32) * 0.05
    audio[44100 * 2 :] *= 8  # the second 2-s segment is louder: it sets the peak
    sf.write(tmp_path / "a.wav", audio, 44100, subtype="FLOAT")
    ds = Dataset("jukebox-peak", [Recording("a", tmp_path / "a.wav", "test")], ())
    cfg = ExtractConfig(SegmentConfig(seconds=2.0, max_segments=None))
    report = extract(ds, load_encoder("jukebox", checkpoint=str(path)), cfg, cache_root=tmp_path, progress=False)
    reader = CacheReader(report.cache_path)
    stored = reader.get("a").embeddings[:, 0]
    assert reader.attrs["encoder"] == "jukebox"
    reader.close()  # an open reader would be inherited by later tests' decoding workers
    x = torch.from_numpy(audio / np.abs(audio).max()).reshape(2, 1, -1)
    with torch.no_grad():
        expected = top(x).transpose(1, 2).numpy()
    assert np.allclose(stored, expected, atol=2e-3 * np.abs(expected).max())
    plain = extract(ds, load_encoder("jukebox", checkpoint=str(path), normalise=False), cfg, cache_root=tmp_path, progress=False)
    assert plain.cache_path != report.cache_path  # the normalisation is part of the cache key


def test_validator_and_errors(checkpoint, tmp_path):
    path, _ = checkpoint
    checks = validate_encoder(load_encoder("jukebox", checkpoint=str(path)), seconds=2.0)  # 2-s segments keep the test quick
    assert [c.name for c in checks if not c.passed] == []
    with pytest.raises(CheckpointError, match="vqvae.pth.tar"):
        load_encoder("jukebox")
    empty = tmp_path / "other.pth.tar"
    torch.save({"model": {"decoders.0.out.weight": torch.zeros(1)}}, empty)
    with pytest.raises(CheckpointError, match="no encoders.2"):
        load_encoder("jukebox", checkpoint=str(empty))


def test_an_option_it_does_not_take_names_the_ones_it_does(checkpoint):
    path, _ = checkpoint
    with pytest.raises(ValueError, match="encoder jukebox has no option reference; its options: level, normalise"):
        load_encoder("jukebox", checkpoint=str(path), reference=True)  # the study's whole-file peak is now the default
