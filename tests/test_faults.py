"""Fault injection (issue 37): each kind of messy input found by trying pjbench as a new user would, made small in
the test, gets a clear line and loses nothing. The issue's numbered cases and their tests:

1. results keyed by the data: `test_a_result_of_other_data_under_one_name_is_not_overwritten`,
   `test_a_manifest_named_like_a_builtin_dataset_gets_its_own_name` (and tests/test_boards.py: boards by fingerprint)
2. `--epochs 0` and 5. `--batch-size 0`, 8. negative sizes, 10. `--seeds 0`: `test_out_of_range_options_are_usage_errors`,
   `test_the_api_checks_them_too`
3. degenerate labels: `test_a_training_split_of_one_class_is_refused_and_reported`, `test_labels_that_differ_only_by_case_*`,
   `test_a_class_training_never_shows_is_reported`
4. `--pool rate:X`: `test_a_pool_rate_out_of_range_is_refused_before_any_audio_is_read`
6. a constant (DC) recording: `test_a_constant_recording_is_skipped_as_silent`
7. strict JSON: `test_every_committed_result_is_strict_json`, `test_an_undefined_number_is_written_null`
9. a stray JSON file: `test_a_stray_json_file_is_left_out_of_the_board_with_a_warning`
10. a header it cannot use, an unknown encoder: `test_a_manifest_header_it_cannot_use_is_shown`,
    `test_probe_with_an_unknown_encoder_says_so_instead_of_suggesting_an_extract_that_fails`
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.datasets.registry import load_dataset

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
        (["demo", "--published-schedule", "slow"], "--published-schedule"),
        (["probe", "--precision", "fp16"], "--precision"),
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


REFERENCE = Path(__file__).resolve().parents[1] / "results"


LEVEL = ("beginner", "advanced", "virtuoso")


def _level(r) -> str:
    return LEVEL[int(r.labels["expertise"])]


def _project(tiny, folder: Path, label_of) -> Path:
    from tests.test_reliability import _project as project  # the tiny set's audio copied, a manifest beside it

    return project(tiny, folder, label_of)


def _probe(manifest: Path, tmp_path: Path):
    args = ["probe", "--manifest", str(manifest), "--head", "linear", "--seeds", "1", "--epochs", "2", "--no-baselines"]
    return runner.invoke(app, [*args, "--results-dir", str(tmp_path / "results"), "--cache-dir", str(tmp_path / "cache")])


def _check(manifest: Path, tmp_path: Path) -> str:
    r = runner.invoke(app, ["data", "check", "--manifest", str(manifest), "--results-dir", str(tmp_path / "results")])
    assert r.exit_code == 0, r.output
    return r.output


def test_a_training_split_of_one_class_is_refused_and_reported(tiny, tmp_path):
    manifest = _project(tiny, tmp_path / "p", lambda r: "beginner" if r.split == "train" else _level(r))
    r = _probe(manifest, tmp_path)
    assert r.exit_code == 1 and "every training recording has the same label ('beginner'" in r.output and "Traceback" not in r.output
    assert not list((tmp_path / "results").glob("**/*.json"))
    assert "same label ('beginner'" in _check(manifest, tmp_path)


def test_labels_that_differ_only_by_case_are_refused_and_reported(tiny, tmp_path):
    manifest = _project(tiny, tmp_path / "p", lambda r: _level(r).capitalize() if r.id.startswith("s0000") else _level(r))
    r = _probe(manifest, tmp_path)
    assert r.exit_code == 1 and "differ only by case" in r.output and "'Beginner'" in r.output, r.output
    assert "differ only by case" in _check(manifest, tmp_path)


def test_a_class_training_never_shows_is_reported(tiny, tmp_path):
    test_only = next(r.id for r in tiny.recordings if r.split == "test")
    manifest = _project(tiny, tmp_path / "p", lambda r: "prodigy" if r.id == test_only else _level(r))
    out = _check(manifest, tmp_path)
    assert "'prodigy' (1) in test never appear in train" in out


def test_a_task_whose_training_targets_are_one_value_is_refused_before_training(tiny, tiny_mel_cache, tmp_path):
    from pjbench.datasets.base import Dataset
    from pjbench.probing.config import train_config
    from pjbench.probing.probe import run_probe
    from pjbench.tasks import get_task

    one = [r for r in tiny.recordings if r.split != "train" or r.labels["difficulty"] == tiny.recordings[0].labels["difficulty"]]
    ds = Dataset(tiny.name, one, tiny.tasks, tiny.root, tiny.pair_group, tiny.resample_group, info=dict(tiny.info))
    with pytest.raises(ValueError, match="all .* training examples have the same target"):
        run_probe(
            ds, get_task("difficulty-3way", ds), tiny_mel_cache, train_config("linear", 1), tmp_path, progress=False, allow_missing=True
        )
    assert not list(tmp_path.glob("**/*.json"))


def test_a_result_of_other_data_under_one_name_is_not_overwritten(tiny, tmp_path):
    a = _project(tiny, tmp_path / "a", _level)
    last = tiny.recordings[-1]
    other = "beginner" if _level(last) != "beginner" else "virtuoso"
    b = _project(tiny, tmp_path / "b", lambda r: other if r.id == last.id else _level(r))  # one label changed
    for manifest in (a, b):
        assert runner.invoke(app, ["extract", "--manifest", str(manifest), "--cache-dir", str(tmp_path / "cache")]).exit_code == 0
    assert _probe(a, tmp_path).exit_code == 0
    written = next((tmp_path / "results" / "manifest" / "mel").glob("*.json"))
    before = written.read_bytes()
    r = _probe(b, tmp_path)
    assert r.exit_code == 1 and "other data of the same dataset name" in r.output and "Traceback" not in r.output, r.output
    assert written.read_bytes() == before


def test_a_manifest_named_like_a_builtin_dataset_gets_its_own_name(tiny, tmp_path):
    manifest = _project(tiny, tmp_path / "p", _level)
    named = manifest.rename(manifest.with_name("pld-expertise.csv"))
    assert load_dataset(manifest=named).name == "pld-expertise-manifest"


def _strict(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_every_committed_result_is_strict_json():
    files = sorted(REFERENCE.rglob("*.json"))
    assert len(files) > 100
    digests: dict[str, set[str]] = {}
    for path in files:
        data = _strict(path.read_text())
        assert data["schema_version"] == 3, path
        digests.setdefault(path.relative_to(REFERENCE).parts[0], set()).add(data["fingerprint"]["digest"])
    assert all(len(found) == 1 for found in digests.values()), digests  # per dataset folder, one data fingerprint


def test_an_undefined_number_is_written_null(tiny, tiny_mel_cache, tmp_path):
    from pjbench import api
    from pjbench.results.record import TaskResult

    [result] = api.probe(
        tiny, tiny_mel_cache, ["difficulty-3way"], heads="linear", seeds=1, epochs=1, baselines=False, results_dir=tmp_path
    )
    text = result.file_in().read_text()
    data = _strict(text)  # one seed: its seed interval is undefined
    assert data["scores"]["accuracy"]["seed_ci95"] is None and "NaN" in data["null_numbers"]
    again = TaskResult.load(result.file_in())
    assert np.isnan(again.scores["accuracy"]["seed_ci95"])
