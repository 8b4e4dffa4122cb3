"""PISA on the embedded keyboard videos: the video, audio and fusion heads each learn the player level.

Data: the `short` synthetic set (180 pieces of 8.5-12 s, each played by the player whose level suits it, one
160-frame sample per keyboard video: 126 / 27 / 27 samples), frames at 32 px, backbones at width 4 (CPU-sized).
Video: the small C3D trained end to end (the papers' mode). Audio and fusion: one multimodal run on frozen
backbone features, where the audio head and the fusion head train on the same features.

"Above chance" is tested where chance is exactly known: a constant or label-blind guess has no rank correlation
with the true level, so each head's predicted levels on the test split (the softmax's expected level, averaged over
the seeds) must correlate with the truth beyond the one-sided 1% level of Spearman's test. Measured when written:
video 0.77, audio 0.54, fusion 0.55 (p < 0.002 each); a frozen random C3D's video head reached only 0.35 (p 0.04).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from pjbench.datasets.pisa import load_synthetic_pisa
from pjbench.experiments.pisa import PisaConfig, run_pisa
from pjbench.results.record import TaskResult

WIDTH, FRAMES = 4, 32
SHORT_VIDEO = "synthetic-short-video"  # the name `pjbench probe --dataset synthetic-short` gives it: one shared cache


def _assert_learns(result: TaskResult, head: str) -> None:
    truth = np.array(result.extra["test_levels"])
    assert len(truth) >= 25 and len(set(truth.tolist())) >= 6
    expected = np.mean([s["test_expected_level"][head] for s in result.per_seed], axis=0)
    rho, p = spearmanr(expected, truth, alternative="greater")
    assert p < 0.01, f"{head}: rank correlation {rho:.2f} with the true level (p = {p:.3f}) on {len(truth)} test samples"


@pytest.mark.slow
def test_video_audio_and_fusion_each_learn_the_level(short_videos: Path, pisa_cache: Path, tmp_path: Path) -> None:
    """Run in a fresh process: the one-seed end-to-end video model learned alone (rank correlation 0.77) and failed
    twice at the end of the whole suite (0.05, -0.03), so some process-wide state left by an earlier test changes its
    training (not found yet: the torch thread count is restored by the grid since 2026-12-05). A fresh process gives
    the run the state a user's command has."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_pisa_learning as t; t.learns({str(short_videos)!r}, {str(pisa_cache)!r}, {str(tmp_path)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})


def learns(short_videos_dir: str, pisa_cache_dir: str, tmp_dir: str) -> None:
    short_videos, pisa_cache, tmp_path = Path(short_videos_dir), Path(pisa_cache_dir), Path(tmp_dir)
    ds = load_synthetic_pisa(short_videos, SHORT_VIDEO)
    assert {p.split for p in ds.performances} == {"train", "val", "test"} and not ds.missing
    common = dict(sampling="uniform", width=WIDTH, frame_size=FRAMES)
    video = run_pisa(
        ds, PisaConfig(modality="video", mode="end-to-end", epochs=25, patience=25, lr=3e-3, seeds=(0,), **common),  # type: ignore[arg-type]
        pisa_cache, tmp_path / "results", progress=False,
    )  # fmt: skip
    _assert_learns(video, "video")
    frozen = run_pisa(
        ds, PisaConfig(modality="multimodal", mode="frozen", epochs=60, patience=60, lr=1e-3, seeds=(0, 1, 2), **common),  # type: ignore[arg-type]
        pisa_cache, tmp_path / "results", progress=False,
    )  # fmt: skip
    assert set(frozen.extra["heads"]) == {"video", "audio", "multimodal"}
    _assert_learns(frozen, "audio")
    _assert_learns(frozen, "multimodal")
