import numpy as np
import pytest

from pjbench.extraction.segments import SegmentConfig, SilentError, TooShortError, segment

SR = 1000


def noise(seconds: float) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(int(seconds * SR)).astype(np.float32) * 0.1


def test_partial_segment_kept_when_at_least_half():
    s = segment(noise(26), SR, SegmentConfig())
    assert s.audio.shape == (3, 10 * SR)
    assert s.last_seconds == pytest.approx(6.0)
    assert np.all(s.audio[2, 6 * SR :] == 0)  # padded tail
    assert np.array_equal(s.audio[1], noise(26)[10 * SR : 20 * SR])


def test_partial_segment_dropped_when_shorter_than_half():
    s = segment(noise(24), SR, SegmentConfig())
    assert s.audio.shape[0] == 2
    assert s.last_seconds == pytest.approx(10.0)


def test_max_segments_and_errors():
    assert segment(noise(95), SR, SegmentConfig(max_segments=3)).audio.shape[0] == 3
    with pytest.raises(TooShortError):
        segment(noise(4), SR, SegmentConfig())
    with pytest.raises(SilentError):
        segment(np.zeros(12 * SR, np.float32), SR, SegmentConfig())
