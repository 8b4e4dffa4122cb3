"""What a new user reads: one-line errors with hints that lead somewhere, exit codes, logs without progress frames,
the version, the committed reference results left alone."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.version import __version__

runner = CliRunner()


def _manifest(tiny, path: Path, label=lambda r: ["beginner", "advanced", "virtuoso"][int(r.labels["expertise"])]) -> Path:
    rows = [f"{r.id},{r.path},{r.split},{label(r)}" for r in tiny.recordings]
    path.write_text("id,path,split,label\n" + "\n".join(rows) + "\n")
    return path


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"pjbench {__version__}"


def test_forgotten_manifest_says_which_dataset_was_assumed(pjbench_home, tmp_path):
    """Without --dataset or --manifest, probe assumes the embedded set; if it is not built, say how to name one's own."""
    r = runner.invoke(app, ["probe", "--results-dir", str(tmp_path)])
    assert r.exit_code == 1
    assert "synthetic set was assumed" in r.output and "--manifest FILE.csv" in r.output
    assert "Traceback" not in r.output


def test_missing_weights_is_one_clear_line(pjbench_home, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty Hugging Face cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = runner.invoke(app, ["validate-encoder", "mert"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "--checkpoint" in r.output and len(r.output.strip().splitlines()) <= 3


def test_data_check_takes_a_manifest_alone(tiny, tmp_path):
    manifest = _manifest(tiny, tmp_path / "mine.csv")
    r = runner.invoke(app, ["data", "check", "--manifest", str(manifest), "--out", str(tmp_path / "report")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "report" / "data-check.txt").exists() and (tmp_path / "report" / "data-check.png").exists()


def test_a_manifest_task_follows_from_its_labels(tiny, tmp_path):
    manifest = _manifest(tiny, tmp_path / "mine.csv")
    r = runner.invoke(app, ["probe", "--manifest", str(manifest), "-t", "multilabel", "--results-dir", str(tmp_path / "r")])
    assert r.exit_code == 2
    assert "follows from how its labels are written" in r.output and "classification" in r.output


def test_task_lists_run_every_task_and_logs_have_no_progress_frames(tiny, tiny_mel_cache, tmp_path):
    results = tmp_path / "results"
    args = ["probe", "-d", "synthetic-tiny", "-t", "expertise-3way,difficulty-3way", "-t", "technique-single"]
    r = runner.invoke(app, [*args, "--head", "linear", "--seeds", "1", "--schedule", "fast", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    written = sorted(p.name for p in (results / tiny.name / "mel").glob("*.json"))
    assert written == ["difficulty-3way.linear-fast.json", "expertise-3way.linear-fast.json", "technique-single.linear-fast.json"]
    assert "\r" not in r.output  # not a terminal: no redrawn bars
    assert all(len(line) < 1000 for line in r.output.splitlines())
    lines = [line for line in r.output.splitlines() if line.startswith(("expertise-3way linear", "difficulty-3way linear"))]
    assert len(lines) == 2 and all("(chance" in line for line in lines)  # one whole line per result
    quiet = runner.invoke(app, ["--quiet", *args, "--head", "linear", "--seeds", "1", "--epochs", "3", "--results-dir", str(results)])
    assert quiet.exit_code == 0 and quiet.output.strip() == ""


def test_committed_reference_results_are_not_overwritten(tiny, tiny_mel_cache, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    (reference / tiny.name).mkdir(parents=True)
    (reference / ".pjbench-reference").touch()
    args = ["probe", "-d", "synthetic-tiny", "-t", "expertise-3way", "--head", "linear", "--seeds", "1", "--epochs", "2"]
    r = runner.invoke(app, [*args, "--results-dir", str(reference)])
    assert r.exit_code == 1 and "committed reference results" in r.output and "pjbench-results" in r.output
    assert not list(reference.rglob("*.json"))
    monkeypatch.setenv("PJBENCH_UPDATE_REFERENCE", "1")  # the maintainers' way to regenerate them
    r = runner.invoke(app, [*args, "--results-dir", str(reference)])
    assert r.exit_code == 0, r.output
    monkeypatch.delenv("PJBENCH_UPDATE_REFERENCE")
    shown = runner.invoke(app, ["leaderboard", "--results-dir", str(reference)])
    assert shown.exit_code == 0 and "committed reference results, read-only" in shown.output
    data = json.loads(next(reference.rglob("*.json")).read_text())
    assert data["task"] == "expertise-3way"
