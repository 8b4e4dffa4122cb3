"""Shared fixtures, built once per test session: the tiny synthetic dataset and its mel cache; the `short` set's
keyboard videos and one PISA clip/feature cache folder, so the PISA tests decode and embed each video once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pjbench.datasets.synthetic.build import SynthConfig, build
from pjbench.datasets.synthetic.dataset import load_synthetic
from pjbench.datasets.synthetic.video import build_videos
from pjbench.encoders import load_encoder
from pjbench.extraction.extract import ExtractConfig, extract


@pytest.fixture(scope="session")
def pjbench_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("pjbench_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("PJBENCH_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def tiny_root(pjbench_home: Path) -> Path:
    cfg = SynthConfig.for_size("tiny")
    return build(cfg, cfg.default_dir(), workers=2, progress=False)


@pytest.fixture(scope="session")
def tiny(tiny_root: Path):
    return load_synthetic(tiny_root)


@pytest.fixture(scope="session")
def tiny_mel_cache(tiny, pjbench_home: Path) -> Path:
    report = extract(tiny, load_encoder("mel"), ExtractConfig(), cache_root=pjbench_home / "cache", progress=False)
    assert report.extracted + report.already_done == len(tiny.recordings)
    return report.cache_path


@pytest.fixture(scope="session")
def short_videos(pjbench_home: Path) -> Path:
    """The `short` set with its keyboard videos: what `pjbench probe --dataset synthetic-short` renders on first use."""
    cfg = SynthConfig.for_size("short")
    root = build(cfg, cfg.default_dir(), workers=2, progress=False)
    return build_videos(root, progress=False, workers=2)


@pytest.fixture(scope="session")
def pisa_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clip and feature cache folder for every PISA test on the synthetic videos."""
    return tmp_path_factory.mktemp("pisa_cache")
