"""Shared fixtures: one tiny synthetic dataset and its mel cache per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pjbench.benchmark.extract import ExtractConfig, extract
from pjbench.datasets.synthetic.build import SynthConfig, build
from pjbench.datasets.synthetic.dataset import load_synthetic
from pjbench.encoders import load_encoder


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
