import numpy as np
import pytest
import soundfile as sf

from pjbench.audio import AudioError, load_audio


def test_resamples_and_downmixes(tmp_path):
    sr = 44100
    t = np.arange(sr * 2) / sr
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    sf.write(tmp_path / "a.wav", stereo, sr)
    audio = load_audio(tmp_path / "a.wav", 24000)
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(len(audio) - 48000) <= 1
    assert np.abs(audio).max() == pytest.approx(0.5, abs=0.02)


def test_compressed_formats_through_pyav(tmp_path):
    import av

    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=22050)
        frame_len = 1024
        samples = (np.random.default_rng(0).standard_normal(22050 * 2) * 0.1).astype(np.float32)
        for i in range(0, len(samples), frame_len):
            chunk = samples[i : i + frame_len]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            frame.sample_rate = 22050
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    audio = load_audio(path, 16000)
    assert abs(len(audio) / 16000 - 2.0) < 0.1


def test_clear_errors(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "missing.wav", 24000)
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioError, match="bad.mp3"):
        load_audio(bad, 24000)
