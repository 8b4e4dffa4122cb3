"""Every numeric option is checked where it is declared: a value out of range is one usage error naming the option
and the range, before any work starts (no traceback, no untrained probe published); and a constant (DC-only)
recording is skipped as silent."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from pjbench.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["probe", "--epochs", "0"], "--epochs"),
        (["probe", "--seeds", "0"], "--seeds"),
        (["probe", "--batch-size", "0"], "--batch-size"),
        (["probe", "--patience", "0"], "--patience"),
        (["probe", "--lr", "0"], "--lr"),
        (["probe", "--jobs", "0"], "--jobs"),
        (["extract", "--batch-size", "0"], "--batch-size"),
        (["extract", "--max-segments", "-1"], "--max-segments"),
        (["extract", "--segment-seconds", "-3"], "--segment-seconds"),
        (["demo", "--seeds", "0"], "--seeds"),
        (["pisa", "--epochs", "0"], "--epochs"),
        (["transfer", "--part-segments", "0"], "--part-segments"),
    ],
)
def test_out_of_range_options_are_usage_errors(args, option, tmp_path):
    r = runner.invoke(app, [*args, "--results-dir", str(tmp_path)] if args[0] != "extract" else args)
    assert r.exit_code == 2, r.output
    assert option in r.output and "Traceback" not in r.output
    assert not list(tmp_path.glob("**/*.json"))  # nothing was trained or written


def test_the_api_checks_them_too():
    from pjbench.probing.config import train_config

    for kwargs in ({"epochs": 0}, {"batch_size": 0}, {"lr": -1.0}, {"patience": 0}):
        with pytest.raises(ValueError, match="--"):
            train_config("linear", 2, **kwargs)
    with pytest.raises(ValueError, match="--seeds 0"):
        train_config("linear", 0)


@pytest.mark.parametrize("rate", ["rate:-5", "rate:0", "rate:abc", "rate:100000"])
def test_a_pool_rate_out_of_range_is_refused_before_any_audio_is_read(rate, tiny, tmp_path):
    r = runner.invoke(app, ["extract", "-e", "mel", "--dataset", str(tiny.root), "--pool", rate, "--cache-dir", str(tmp_path)])
    assert r.exit_code == 1 and f"--pool {rate}" in r.output, r.output
    assert not list(tmp_path.glob("**/*.h5"))


def test_a_constant_recording_is_skipped_as_silent(tmp_path):
    from pjbench.datasets.base import Dataset, Recording
    from pjbench.encoders import load_encoder
    from pjbench.extraction.extract import ExtractConfig, extract

    sf.write(tmp_path / "dc.wav", np.full(24000 * 6, 0.25, np.float32), 24000)
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "noise.wav", (rng.standard_normal(24000 * 6) * 0.1).astype(np.float32), 24000)
    ds = Dataset("dc-check", [Recording("dc", tmp_path / "dc.wav", "test"), Recording("noise", tmp_path / "noise.wav", "test")], ())
    report = extract(ds, load_encoder("mel"), ExtractConfig(), cache_root=tmp_path / "cache", progress=False)
    assert report.extracted == 1 and "constant level" in report.skipped["dc"] and "DC only" in report.skipped["dc"]


def test_a_stray_json_file_is_left_out_of_the_board_with_a_warning(tmp_path):
    """Notes or a config left in a results folder: the board is built without them (was: no board at all); a file
    that looks like a result but cannot be read is still an error."""
    import shutil
    from pathlib import Path

    results = tmp_path / "results"
    source = Path(__file__).resolve().parents[1] / "results" / "synthetic" / "basicpitch"
    shutil.copytree(source, results / "synthetic" / "basicpitch")
    (results / "synthetic" / "basicpitch" / "notes.json").write_text('{"what": "my notes"}')
    r = runner.invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    assert "notes.json: not a pjbench result" in r.output and "| basicpitch |" in r.output
    (results / "synthetic" / "basicpitch" / "broken.json").write_text('{"task": "difficulty-3way", "scores": {}}')
    r = runner.invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert r.exit_code == 1 and "broken.json: not a pjbench result file" in r.output


def test_a_manifest_header_it_cannot_use_is_shown(tmp_path):
    from pjbench.datasets.manifest import load_manifest

    semicolons = tmp_path / "m.csv"
    semicolons.write_text("id;path;split;label\na;a.wav;train;x\n")
    with pytest.raises(ValueError, match=r"header reads \['id;path;split;label'\] \(its header is one column"):
        load_manifest(semicolons)
    padded = tmp_path / "p.csv"
    padded.write_text("id, path, split, label\na, a.wav, train, x\n")
    with pytest.raises(ValueError, match="spaces around them"):
        load_manifest(padded)


def test_probe_with_an_unknown_encoder_says_so_instead_of_suggesting_an_extract_that_fails(tiny, tmp_path):
    r = runner.invoke(
        app, ["probe", "-e", "Mel", "--dataset", str(tiny.root), "--cache-dir", str(tmp_path), "--results-dir", str(tmp_path)]
    )
    assert r.exit_code == 2 and "unknown encoder 'Mel' (did you mean mel?)" in r.output and "pjbench extract" not in r.output
