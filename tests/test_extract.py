import h5py
import numpy as np
import pytest
import soundfile as sf

from pjbench.datasets.base import Dataset, Recording
from pjbench.encoders import load_encoder
from pjbench.extraction.cache import CacheReader
from pjbench.extraction.extract import ExtractConfig, extract


def _small_dataset(tiny, n=8):
    return Dataset("resume-check", tiny.recordings[:n], tiny.tasks, pair_group="piece")


def _contents(path):
    reader = CacheReader(path)
    try:
        return {i: reader.get(i) for i in sorted(reader.ids())}
    finally:
        reader.close()


def test_mel_cache_shapes_and_attrs(tiny, tiny_mel_cache):
    with h5py.File(tiny_mel_cache, "r") as f:
        assert f.attrs["encoder"] == "mel"
        assert f.attrs["frame_rate"] == 150
        assert f.attrs["segment_seconds"] == 10
        assert {"config_hash", "revision", "pjbench_version", "sample_rate"} <= set(f.attrs)
    reader = CacheReader(tiny_mel_cache)
    rec = tiny.recordings[0]
    got = reader.get(rec.id)
    assert got.embeddings.dtype == np.float16
    assert got.embeddings.shape[1:] == (1, 1500, 128)
    expected_segments = int(rec.duration // 10) + (rec.duration % 10 >= 5)
    assert got.n_segments == expected_segments == got.embeddings.shape[0]
    reader.close()


def test_resume_after_interruption_gives_the_same_cache(tiny, tmp_path):
    ds = _small_dataset(tiny)
    enc = load_encoder("mel")
    cfg = ExtractConfig(batch_size=2)
    with pytest.raises(KeyboardInterrupt):
        extract(ds, enc, cfg, cache_root=tmp_path / "interrupted", progress=False, stop_after=3)
    partial = _contents(next((tmp_path / "interrupted").rglob("*.h5")))
    assert 3 <= len(partial) < len(ds.recordings)
    report = extract(ds, enc, cfg, cache_root=tmp_path / "interrupted", progress=False)
    assert report.already_done == len(partial)
    assert report.extracted == len(ds.recordings) - len(partial)
    straight = extract(ds, enc, cfg, cache_root=tmp_path / "straight", progress=False)
    a, b = _contents(report.cache_path), _contents(straight.cache_path)
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k].embeddings, b[k].embeddings)
        assert a[k].last_segment_seconds == b[k].last_segment_seconds


def test_bad_recordings_are_skipped_with_reasons(tiny, tmp_path):
    silent, short, corrupt = tmp_path / "silent.wav", tmp_path / "short.wav", tmp_path / "corrupt.flac"
    sf.write(silent, np.zeros(24000 * 12, np.float32), 24000)
    sf.write(short, np.random.default_rng(0).standard_normal(24000 * 2).astype(np.float32) * 0.1, 24000)
    corrupt.write_bytes(b"fLaC but not really")
    recs = [tiny.recordings[0]] + [Recording(p.stem, p, "train") for p in (silent, short, corrupt, tmp_path / "missing.wav")]
    report = extract(Dataset("bad-input", recs, ()), load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    assert report.extracted == 1
    assert set(report.skipped) == {"silent", "short", "corrupt", "missing"}
    assert "silent" in report.skipped["silent"] and "shorter" in report.skipped["short"]
    assert all(str(tmp_path) in reason for reason in report.skipped.values())  # each names its file
    reader = CacheReader(report.cache_path)
    assert set(reader.skipped()) == set(report.skipped)
    reader.close()


def test_mel_reference_variant_is_linear_power():
    import torch

    x = torch.randn(2, 24000 * 10) * 0.1
    log_mel = load_encoder("mel").embed(x)
    power = load_encoder("mel", scale="power").embed(x)
    assert log_mel.shape == power.shape == (2, 1, 1500, 128)
    assert torch.allclose(log_mel, 10 * torch.log10(power.clamp(min=1e-10)), atol=1e-3)
    assert load_encoder("mel").meta.options != load_encoder("mel", scale="power").meta.options
