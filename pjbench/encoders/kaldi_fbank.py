"""Kaldi's log mel filterbank (``torchaudio.compliance.kaldi.fbank``'s defaults) at any sample rate, without torchaudio.

Audio-MAE's recipe computes it with ``htk_compat=True, use_energy=False, window_type='hanning', dither=0.0,
frame_shift=10`` and 25-ms windows: per frame the DC offset removed, pre-emphasis 0.97, a symmetric Hann window, an FFT
padded to the next power of two, power spectrum, 128 triangular filters on Kaldi's mel scale from 20 Hz to Nyquist, the
natural log floored at float32's epsilon. transformers' ``audio_utils`` has each of these pieces; its
``ASTFeatureExtractor`` fixes them for 16 kHz only (400-sample windows, a 512-point FFT), which is why the reference's
32 kHz fbank (800-sample windows, a 1024-point FFT, bands up to 16 kHz) is built here. Equal to torchaudio's own
``kaldi.fbank`` at 16 and 32 kHz: tests/test_fidelity.py.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

FLOAT32_EPS = 1.192092955078125e-07  # torch.finfo(torch.float32).eps: Kaldi's log floor in torchaudio


@lru_cache(maxsize=4)
def _filters(sample_rate: int, n_mels: int, fft_length: int) -> np.ndarray:
    from transformers.audio_utils import mel_filter_bank

    with warnings.catch_warnings():  # 128 bands over a 512-point FFT leave one band empty at 16 kHz; kept as Kaldi does
        warnings.filterwarnings("ignore", message="At least one mel filter has all zero values")
        return mel_filter_bank(
            num_frequency_bins=fft_length // 2 + 1,
            num_mel_filters=n_mels,
            min_frequency=20,
            max_frequency=sample_rate // 2,
            sampling_rate=sample_rate,
            norm=None,
            mel_scale="kaldi",
            triangularize_in_mel_space=True,
        )


def kaldi_fbank(
    wave: np.ndarray, sample_rate: int, n_mels: int = 128, frame_length_ms: float = 25.0, frame_shift_ms: float = 10.0
) -> np.ndarray:
    """(frames, n_mels) log mel energies of a mono waveform; frames = 1 + (samples - window) // shift (Kaldi's snip_edges)."""
    from transformers.audio_utils import spectrogram, window_function

    window = int(round(sample_rate * frame_length_ms / 1000))
    shift = int(round(sample_rate * frame_shift_ms / 1000))
    fft_length = 1 << (window - 1).bit_length()
    return spectrogram(
        np.asarray(wave, dtype=np.float32),
        window_function(window, "hann", periodic=False),
        frame_length=window,
        hop_length=shift,
        fft_length=fft_length,
        power=2.0,
        center=False,
        preemphasis=0.97,
        mel_filters=_filters(sample_rate, n_mels, fft_length),
        log_mel="log",
        mel_floor=FLOAT32_EPS,
        remove_dc_offset=True,
    ).T
