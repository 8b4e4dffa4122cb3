"""basic-pitch (Spotify, ICASSP 2022) posteriorgrams as an embedding: a real pretrained model that runs offline.

The pretrained model ships inside the ``basic-pitch`` package as ONNX and runs on onnxruntime
(install with ``pip install --no-deps basic-pitch==0.4.0 onnxruntime``: its normal install
pulls TensorFlow). Per frame (22050 Hz, hop 256, declared 86 frames/s as basic-pitch does)
the embedding is the note (88), onset (88) and pitch-contour (264) posteriors, 440-d.

Windowing follows basic-pitch's own inference: 2-s windows (43 844 samples) overlapping by
30 frames, half the overlap dropped at each side, trimmed to ``floor(samples * 86 / 22050)``
frames. The package's module for that imports mir_eval and more, so it is re-done here
from its constants; the model file is found without importing the package (which logs
warnings about TensorFlow and CoreML).
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .specs import BUILTIN

SAMPLE_RATE = 22050
FFT_HOP = 256
FPS = SAMPLE_RATE // FFT_HOP  # 86, as basic-pitch declares it
WINDOW = SAMPLE_RATE * 2 - FFT_HOP  # 43844 samples in, 172 frames out
OVERLAP_FRAMES = 30
OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0")  # note, onset, contour
INPUT = "serving_default_input_2:0"


def default_model_path() -> Path:
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("basicpitch needs the basic-pitch package: pip install --no-deps basic-pitch==0.4.0 onnxruntime")
    return Path(next(iter(spec.submodule_search_locations))) / "saved_models" / "icassp_2022" / "nmp.onnx"


class BasicPitchEncoder:
    def __init__(self, checkpoint: str | None = None, threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise RuntimeError("basicpitch needs onnxruntime: pip install onnxruntime") from err
        path = Path(checkpoint) if checkpoint else default_model_path()
        if not path.is_file():
            raise FileNotFoundError(f"basic-pitch model not found at {path}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        spec = BUILTIN["basicpitch"].meta
        assert spec is not None and (spec.sample_rate, spec.frame_rate) == (SAMPLE_RATE, float(FPS))
        self.meta = replace(spec, options={"model": path.name})

    def to(self, device: torch.device) -> BasicPitchEncoder:
        return self  # onnxruntime on the CPU; the model is small (0.1 s per 10 s here)

    def _windows(self, audio: np.ndarray) -> np.ndarray:
        overlap = OVERLAP_FRAMES * FFT_HOP
        hop = WINDOW - overlap
        padded = np.concatenate([np.zeros(overlap // 2, np.float32), audio])
        starts = range(0, len(padded), hop)
        out = np.zeros((len(starts), WINDOW, 1), np.float32)
        for k, s in enumerate(starts):
            chunk = padded[s : s + WINDOW]
            out[k, : len(chunk), 0] = chunk
        return out

    @torch.no_grad()
    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        batch = audio.float().cpu().numpy()
        n_frames = int(np.floor(batch.shape[1] * FPS / SAMPLE_RATE))
        windows = [self._windows(x) for x in batch]
        counts = [len(w) for w in windows]
        outputs = self.session.run(list(OUTPUTS), {INPUT: np.concatenate(windows)})
        per_frame = np.concatenate(outputs, axis=-1)  # (all windows, 172, 440)
        half = OVERLAP_FRAMES // 2
        per_frame = per_frame[:, half:-half]
        result, offset = [], 0
        for c in counts:
            frames = per_frame[offset : offset + c].reshape(-1, per_frame.shape[-1])[:n_frames]
            result.append(frames)
            offset += c
        return torch.from_numpy(np.stack(result)).unsqueeze(1)  # (batch, 1, frames, 440)
