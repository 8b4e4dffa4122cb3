"""End to end through the command line on the tiny synthetic set."""

import json

import pytest
from typer.testing import CliRunner

from pjbench.cli import app

runner = CliRunner()


def test_extract_probe_leaderboard_end_to_end(tiny_mel_cache, pjbench_home, tmp_path):
    results = tmp_path / "results"
    r = runner.invoke(app, ["extract", "--encoder", "mel", "--dataset", "synthetic-tiny"])
    assert r.exit_code == 0, r.output
    assert "already cached" in r.output
    args = [
        "probe",
        "--task",
        "difficulty-3way",
        "--encoder",
        "mel",
        "--dataset",
        "synthetic-tiny",
        "--seeds",
        "2",
        "--epochs",
        "3",
        "--results-dir",
        str(results),
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    for head in ("published", "linear"):
        (path,) = (results / "synthetic-tiny" / "mel").glob(f"difficulty-3way.{head}-custom-*.json")
        data = json.loads(path.read_text())
        assert data["schema_version"] == 3 and len(data["per_seed"]) == 2
        assert {"git_revision", "torch", "python"} <= set(data["environment"])
        assert data["config"]["train"]["seeds"] == [0, 1] and data["config"]["hash"]
        assert path.with_suffix(".png").exists()
    (published,) = (results / "synthetic-tiny" / "mel").glob("difficulty-3way.published-*.json")
    first = json.loads(published.read_text())["per_seed"]
    r = runner.invoke(app, args[:-2] + ["--head", "published", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output  # a crashed rerun must not pass as "same scores"
    again = json.loads(published.read_text())["per_seed"]
    assert [s["test"] for s in first] == [s["test"] for s in again]  # same seed -> same scores
    r = runner.invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    assert "difficulty-3way acc0" in r.output and "chance" in r.output
    assert (results / "synthetic-tiny" / "leaderboard.csv").exists()


def test_helpful_errors(pjbench_home, tmp_path):
    r = runner.invoke(app, ["probe", "--encoder", "nosuch", "--dataset", "synthetic-tiny", "--results-dir", str(tmp_path)])
    assert r.exit_code == 2 and "unknown encoder 'nosuch'" in r.output  # not an extract command that would fail too
    r = runner.invoke(app, ["probe", "--encoder", "dac", "--dataset", "synthetic-tiny", "--results-dir", str(tmp_path)])
    assert r.exit_code == 1 and "pjbench extract --encoder dac --dataset synthetic-tiny" in r.output  # known, not extracted
    r = runner.invoke(app, ["extract", "--encoder", "nosuch", "--dataset", "synthetic-tiny"])
    assert r.exit_code == 2 and "unknown encoder" in r.output  # a usage error
    r = runner.invoke(app, ["list", "encoders"])
    assert r.exit_code == 0
    for name in ("mel", "basicpitch", "mert", "dac", "audiomae", "jukebox"):
        assert name in r.output


def test_own_manifest_dataset(tiny, pjbench_home, tmp_path):
    manifest = tmp_path / "mine.csv"
    lines = ["id,path,split,label,group"]
    for rec in tiny.recordings:
        lines.append(f"{rec.id},{rec.path},{rec.split},{rec.labels['expertise']},{rec.groups['performer']}")
    manifest.write_text("\n".join(lines) + "\n")
    r = runner.invoke(app, ["extract", "--manifest", str(manifest)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        [
            "probe",
            "--manifest",
            str(manifest),
            "--task",
            "ranking-2way",
            "--head",
            "linear",
            "--seeds",
            "1",
            "--epochs",
            "5",
            "--results-dir",
            str(tmp_path / "res"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "res" / "mine" / "mel").glob("ranking-2way.linear-*.json"))) == 1


def test_encoder_option_values_are_typed():
    from pjbench.cli.common import parse_value as _parse_value

    assert _parse_value("true") is True and _parse_value("False") is False
    assert _parse_value("3") == 3 and _parse_value("0.5") == 0.5 and _parse_value("power") == "power"


@pytest.mark.slow
def test_demo_runs_every_task_and_writes_the_board(tiny_mel_cache, tmp_path):
    """The demo's whole path (synth, extract, every task with both heads, the baselines, the board) on the tiny set,
    with one seed."""
    results = tmp_path / "results"
    args = ["demo", "--size", "tiny", "-e", "mel", "--seeds", "1"]
    r = runner.invoke(app, [*args, "--results-dir", str(results)])
    assert r.exit_code == 0, r.output
    assert "note: the tiny set has" in r.output  # its numbers mean nothing, and the demo says so
    board = (results / "synthetic-tiny" / "leaderboard.md").read_text()
    for task in ("expertise-2way", "difficulty-9way", "technique-single"):
        assert task in board
    # 7 tasks x (linear on paper, and both heads on fast); the baselines' rows; the heads compared under one schedule
    assert len(list((results / "synthetic-tiny" / "mel").glob("*.json"))) == 21
    assert len(list((results / "synthetic-tiny" / "duration").glob("*.json"))) == 7
    assert "heads compared on the validation split under schedule `fast`" in board


def test_the_demo_trains_the_published_head_on_the_schedules_asked(tiny_mel_cache, tmp_path, monkeypatch):
    """`--published-schedule`: fast (beside a linear row of the same budget), paper (the paper's own), or both; the
    linear head's paper row always. (The runs themselves are recorded here, not trained: the demo test above trains.)"""
    from types import SimpleNamespace

    from pjbench.cli import demo
    from pjbench.probing import probe

    runs: list[tuple[str, str, str]] = []

    def record(ds, task, cache, cfg, results):
        runs.append((task.name, cfg.head, cfg.schedule))
        return SimpleNamespace(label=f"{cfg.head}-{cfg.schedule}")

    monkeypatch.setattr(probe, "run_probe", record)
    monkeypatch.setattr(demo, "print_result", lambda *args: None)
    expected = {"fast": {"linear-paper", "linear-fast", "published-fast"}, "paper": {"linear-paper", "published-paper"}}
    expected["both"] = expected["fast"] | expected["paper"]
    for asked, rows in expected.items():
        runs.clear()
        args = ["demo", "--size", "tiny", "--seeds", "1", "--no-baselines", "--published-schedule", asked]
        r = runner.invoke(app, [*args, "--results-dir", str(tmp_path)])
        assert r.exit_code == 0, r.output
        assert {f"{head}-{schedule}" for _, head, schedule in runs} == rows
        assert len(runs) == 7 * len(rows)  # every task
