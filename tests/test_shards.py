"""Sharded extraction (issue 19): `--shard K/N` shares, torchrun ranks, the merge, and the same numbers as one process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.extraction.cache import CacheReader
from pjbench.extraction.shards import Shard, share

runner = CliRunner()


def _embeddings(cache: Path) -> dict[str, np.ndarray]:
    reader = CacheReader(cache)
    try:
        return {i: reader.get(i).embeddings for i in reader.ids()}
    finally:
        reader.close()


def _probe_scores(tiny, cache: Path, results: Path) -> list:
    args = ["probe", "--dataset", str(tiny.root), "--cache", str(cache), "--head", "linear", "--seeds", "2", "--epochs", "3"]
    r = runner.invoke(app, [*args, "--task", "difficulty-3way", "--no-baselines", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    (path,) = (results / tiny.name / "mel").glob("difficulty-3way.*.json")
    import json

    return [s["test"] for s in json.loads(path.read_text())["per_seed"]]


def test_shares_are_disjoint_balanced_and_the_same_in_every_process(tiny):
    shares = [share(tiny.recordings, Shard(k, 3)) for k in range(3)]
    ids = [r.id for part in shares for r in part]
    assert sorted(ids) == sorted(r.id for r in tiny.recordings) and len(set(ids)) == len(ids)
    import soundfile as sf

    seconds = [sum(sf.info(str(r.path)).duration for r in part) for part in shares]
    assert max(seconds) - min(seconds) <= max(sf.info(str(r.path)).duration for r in tiny.recordings)
    assert [r.id for r in share(tiny.recordings, Shard(1, 3))] == [r.id for r in shares[1]]
    with pytest.raises(ValueError, match="0 <= K < N"):
        Shard.parse("3/3")


def test_shards_merged_give_the_one_process_cache_and_scores(tiny, tiny_mel_cache, tmp_path):
    one = _embeddings(tiny_mel_cache)
    sharded = tmp_path / "sharded"
    for k in (0, 1):
        r = runner.invoke(app, ["extract", "--dataset", str(tiny.root), "--cache-dir", str(sharded), "--shard", f"{k}/2"])
        assert r.exit_code == 0 and "pjbench cache merge" in r.output, r.output
    shard_files = sorted(sharded.rglob("*.shard-*-of-2.h5"))
    assert len(shard_files) == 2
    r = runner.invoke(app, ["probe", "--dataset", str(tiny.root), "--cache-dir", str(sharded), "--no-baselines"])
    assert r.exit_code == 1 and "cache merge" in r.output, r.output  # shards are not probed as if whole
    r = runner.invoke(app, ["cache", "merge", str(shard_files[0])])
    assert r.exit_code == 0 and f"{len(tiny.recordings)} recordings copied" in r.output, r.output
    merged = shard_files[0].with_name(shard_files[0].name.split(".shard-")[0] + ".h5")
    assert merged.name == tiny_mel_cache.name  # the one cache, under the one-process name
    again = _embeddings(merged)
    assert again.keys() == one.keys() and all(np.array_equal(again[i], one[i]) for i in one)
    r = runner.invoke(app, ["cache", "merge", str(merged)])
    assert r.exit_code == 0 and f"0 recordings copied, {len(tiny.recordings)} already there" in r.output, r.output
    assert _probe_scores(tiny, merged, tmp_path / "r1") == _probe_scores(tiny, tiny_mel_cache, tmp_path / "r2")


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None, reason="needs torchrun")
def test_two_torchrun_ranks_on_gloo_extract_and_merge_the_same_cache(tiny, tiny_mel_cache, tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    cache_dir = tmp_path / "ranks"
    command = [torchrun, "--standalone", "--nproc-per-node", "2", "-m", "pjbench", "extract", "--dataset", str(tiny.root)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([*command, "--cache-dir", str(cache_dir)], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "merged 2 shards" in done.stdout, done.stdout
    merged = cache_dir / tiny.name / tiny_mel_cache.name
    one, again = _embeddings(tiny_mel_cache), _embeddings(merged)
    assert again.keys() == one.keys() and all(np.array_equal(again[i], one[i]) for i in one)
