"""The probe grid (issue 19): jobs in local processes and through submitit's local mode give the serial run's results,
and a grid resumes (a result on record is not computed again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pjbench.cli import app

runner = CliRunner()


def _seeds(results: Path) -> dict[str, list]:
    return {p.name: [s["test"] for s in json.loads(p.read_text())["per_seed"]] for p in sorted(results.rglob("*.json"))}


def _grid(tiny, cache: Path, results: Path, *extra: str):
    args = ["probe", "--dataset", str(tiny.root), "--cache", str(cache), "--head", "both", "--seeds", "2", "--epochs", "2"]
    args += ["--task", "difficulty-3way", "--no-baselines", "--results-dir", str(results), *extra]
    return runner.invoke(app, args)


def test_a_grid_in_processes_and_through_submitit_gives_the_serial_results_and_resumes(tiny, tiny_mel_cache, tmp_path):
    pytest.importorskip("submitit")
    serial = _grid(tiny, tiny_mel_cache, tmp_path / "serial")
    assert serial.exit_code == 0, serial.output
    expected = _seeds(tmp_path / "serial")
    assert len(expected) == 2  # a task x 2 heads
    parallel = _grid(tiny, tiny_mel_cache, tmp_path / "parallel", "--jobs", "2")
    assert parallel.exit_code == 0, parallel.output
    assert _seeds(tmp_path / "parallel") == expected
    local = _grid(tiny, tiny_mel_cache, tmp_path / "submitit", "--jobs", "2", "--executor", "submitit-local")
    assert local.exit_code == 0, local.output
    assert _seeds(tmp_path / "submitit") == expected
    # a second run finds every result on record and computes nothing
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "parallel").rglob("*.json")}
    again = _grid(tiny, tiny_mel_cache, tmp_path / "parallel", "--jobs", "2")
    assert again.exit_code == 0 and again.output.count("(on record)") == 2, again.output
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "parallel").rglob("*.json")} == before
    # other settings are another job: not taken for the one on record
    other = _grid(tiny, tiny_mel_cache, tmp_path / "parallel", "--jobs", "2", "--lr", "0.003")
    assert other.exit_code == 0 and "(on record)" not in other.output, other.output
