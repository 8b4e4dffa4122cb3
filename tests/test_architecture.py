"""The registries and the pieces every runner shares: frame counts at any segment length, task kinds, the cache's
guards (a changed source, a foreign configuration, a NaN-producing encoder), result schemas, the CLI's options."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.datasets.base import Dataset
from pjbench.encoders import BUILTIN, EncoderMeta, Framing, available, load_encoder
from pjbench.extraction.cache import CacheReader
from pjbench.extraction.extract import ExtractConfig, extract
from pjbench.extraction.segments import SegmentConfig
from pjbench.results.record import TaskResult
from pjbench.tasks import KINDS, TASKS

runner = CliRunner()


@pytest.mark.parametrize(
    ("name", "frames"),
    [
        ("mel", {5.0: 750, 7.5: 1125, 10.0: 1500}),  # n // 160
        ("basicpitch", {5.0: 430, 7.5: 645, 10.0: 860}),  # floor(n x 86 / 22050)
        ("mert", {5.0: 374, 7.5: 562, 10.0: 749}),  # the unpadded conv stack: 749, not 750, at 10 s
        ("dac", {5.0: 431, 7.5: 646, 10.0: 862}),  # ceil(n / 512): the input is padded to the hop
        ("audiomae", {5.0: 512, 7.5: 512, 10.0: 512}),  # a fixed 1024-frame fbank
        ("jukebox", {5.0: 1722, 7.5: 2583, 10.0: 3445}),  # n // 128
    ],
)
def test_published_specs_give_frame_counts_at_any_segment_length(name, frames):
    spec = BUILTIN[name]
    assert {s: spec.frames(s) for s in frames} == frames


def test_fixed_size_input_refuses_longer_segments_and_chunks_drop_the_partial_one():
    with pytest.raises(ValueError, match="longer than this encoder's input"):
        BUILTIN["audiomae"].frames(12.0)
    chunked = EncoderMeta("dac-ref", "0", 44100, 44100 / 512, 8, 1, framing=Framing("ceil", chunk_samples=44100))
    assert chunked.frames(7.5) == 7 * 87 and chunked.frames(10.0) == 10 * 87  # whole seconds, 87 frames each


def test_listing_encoders_loads_no_weights(monkeypatch):
    """`list encoders` reads the static specs: even a factory that would fail is never called."""
    import pjbench.encoders.mert as mert

    def boom(*args, **kwargs):
        raise AssertionError("a model was loaded to list it")

    monkeypatch.setattr(mert, "mert_330m", boom)
    r = runner.invoke(app, ["list", "encoders", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {row["name"]: row for row in json.loads(r.output)}
    assert rows["mert"]["training data"] == "MERT-v1 music corpus (160k h)"
    assert rows["mert-95m"]["training data"] == "MERT-v1 music corpus (20k h)"
    assert set(rows) >= {"mel", "basicpitch", "mert", "mert-95m", "dac", "audiomae", "jukebox"}


def test_list_names_are_never_cut_in_a_pipe():
    r = runner.invoke(app, ["list", "tasks"])
    assert r.exit_code == 0
    for name in ("technique-multilabel", "difficulty-9way", "pisa-multimodal-contiguous", "icpc-transfer", "ranking-2way"):
        assert name in r.output
    csv_out = runner.invoke(app, ["list", "datasets", "--format", "csv"]).output.splitlines()
    assert csv_out[0].startswith("dataset,needs,command,tasks") and any(line.startswith("cipi-difficulty,--audio-root") for line in csv_out)


def test_every_registered_task_has_a_known_kind_and_its_columns():
    from pjbench.reporting.leaderboard import columns

    cols = columns()
    for task in TASKS.values():
        assert task.kind is KINDS[task.kind.name]
        assert task.primary_metric in task.leaderboard_columns
        assert all((task.name, m) in cols for m in task.leaderboard_columns)


def test_a_new_task_of_an_existing_kind_is_one_entry(tiny, tiny_mel_cache, tmp_path, monkeypatch):
    """A registry entry alone (here: expertise as a 2-class single-recording task) trains, scores and reaches the
    board, with no code touched elsewhere."""
    from pjbench.probing.config import TrainConfig
    from pjbench.probing.probe import run_probe
    from pjbench.reporting.leaderboard import write_leaderboards
    from pjbench.tasks import Task

    task = Task(
        "beginner-or-not",
        KINDS["multiclass"],
        ("beginner", "not beginner"),
        "Is the player a beginner?",
        1e-3,
        12,
        "acc0",
        label=lambda r: int(int(r.labels["expertise"]) > 0),
    )
    monkeypatch.setitem(TASKS, task.name, task)
    result = run_probe(tiny, task, tiny_mel_cache, TrainConfig("linear", (0,), lr=1e-3, max_epochs=5, patience=5), tmp_path, progress=False)
    assert result.counts["chance"] == 0.5 and 0.0 <= result.scores["acc0"]["mean"] <= 1.0
    assert np.array(result.confusion).sum() == result.counts["n_test"]
    assert "beginner-or-not acc0" in write_leaderboards(tmp_path)[tiny.name]


def _three(tiny: Dataset, name: str) -> Dataset:
    return Dataset(name, tiny.recordings[:3], ())


def test_extraction_at_other_segment_lengths(tiny, tmp_path):
    ds = _three(tiny, "lengths")
    for seconds in (5.0, 7.5):
        report = extract(ds, load_encoder("mel"), ExtractConfig(SegmentConfig(seconds)), cache_root=tmp_path, progress=False)
        reader = CacheReader(report.cache_path)
        rec = reader.get(reader.ids()[0])
        assert rec.embeddings.shape[2] == BUILTIN["mel"].frames(seconds) and reader.segment_seconds == seconds
        reader.close()


def test_layer_index_is_stored_alone(tiny, tmp_path):
    ds = _three(tiny, "layer")
    report = extract(ds, load_encoder("mel"), ExtractConfig(layer="0"), cache_root=tmp_path, progress=False)
    reader = CacheReader(report.cache_path)
    assert reader.get(reader.ids()[0]).embeddings.shape[1] == 1 and reader.config["layer"] == "0"
    reader.close()
    with pytest.raises(ValueError, match="has 1 layer"):  # never wrapped round to another layer
        extract(ds, load_encoder("mel"), ExtractConfig(layer="3"), cache_root=tmp_path, progress=False)


def test_changed_source_is_extracted_again_and_a_foreign_config_refused(tiny, tmp_path):
    import shutil

    from pjbench.datasets.base import Recording
    from pjbench.extraction.cache import CacheWriter

    copies = []
    for rec in tiny.recordings[:2]:
        target = tmp_path / "audio" / rec.path.name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(rec.path, target)
        copies.append(Recording(rec.id, target, rec.split, rec.duration, rec.groups, rec.labels))
    ds = Dataset("changed", copies, ())
    first = extract(ds, load_encoder("mel"), cache_root=tmp_path / "cache", progress=False)
    assert first.extracted == 2
    again = extract(ds, load_encoder("mel"), cache_root=tmp_path / "cache", progress=False)
    assert again.extracted == 0 and again.already_done == 2
    stat = copies[0].path.stat()
    os.utime(copies[0].path, (stat.st_atime, stat.st_mtime + 10))  # the file changed on disk
    third = extract(ds, load_encoder("mel"), cache_root=tmp_path / "cache", progress=False)
    assert third.extracted == 1 and third.already_done == 1
    with pytest.raises(ValueError, match="belongs to config"):
        CacheWriter(first.cache_path, {"config_hash": "somethingelse"})


class _WrappedMel:
    def __init__(self) -> None:
        self.inner = load_encoder("mel")
        self.meta = self.inner.meta

    def to(self, device):
        self.inner.to(device)
        return self


class _NaNEncoder(_WrappedMel):
    """A mel encoder that returns NaN for loud segments, as a broken model might."""

    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        out = self.inner.embed(audio)
        loud = audio.abs().amax(dim=1) > 0
        out[loud] = float("nan")
        return out


def test_nan_embeddings_are_skipped_with_a_reason(tiny, tmp_path):
    report = extract(_three(tiny, "nan"), _NaNEncoder(), cache_root=tmp_path, progress=False)
    assert report.extracted == 0 and len(report.skipped) == 3
    assert all("NaN" in reason for reason in report.skipped.values())


class _HalfPrecision(_WrappedMel):
    """The GPU path's dtype: under autocast an encoder returns float16; the cache must store the same numbers."""

    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        return self.inner.embed(audio).half()


def test_half_precision_encoder_output_is_cached_like_float(tiny, tmp_path):
    ds = _three(tiny, "half")
    full = CacheReader(extract(ds, load_encoder("mel"), cache_root=tmp_path / "a", progress=False).cache_path)
    half = CacheReader(extract(ds, _HalfPrecision(), cache_root=tmp_path / "b", progress=False).cache_path)
    rec_id = full.ids()[0]
    a, b = full.get(rec_id).embeddings, half.get(rec_id).embeddings
    assert a.dtype == b.dtype == np.float16 and np.array_equal(a, b)
    full.close()
    half.close()


def test_a_newer_result_schema_is_refused(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ValueError, match="newer than this pjbench"):
        TaskResult.load(path)


def test_probe_standardize_rerun_and_config_file(tiny, tiny_mel_cache, pjbench_home, tmp_path):
    """`--standardize` is recorded; `rerun` reproduces every seed; `--config` supplies defaults; `PJBENCH_RESULTS`
    names the results folder."""
    results = tmp_path / "results"
    config = tmp_path / "run.toml"
    config.write_text('[probe]\nseeds = 2\nepochs = 2\nhead = "published"\n')
    args = ["--config", str(config), "probe", "-t", "expertise-3way", "-d", "synthetic-tiny", "--standardize", "--lr", "1e-3"]
    r = runner.invoke(app, args, env={"PJBENCH_RESULTS": str(results)})
    assert r.exit_code == 0, r.output
    (path,) = (results / tiny.name / "mel").glob("expertise-3way.published-custom-*.json")  # not the paper's schedule
    data = json.loads(path.read_text())
    assert data["config"]["train"]["standardize"] is True and data["config"]["train"]["seeds"] == [0, 1]
    assert data["config"]["train"]["max_epochs"] == 2
    again = runner.invoke(app, ["rerun", str(path), "--results-dir", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    assert "identical" in again.output
    tampered = tmp_path / "tampered.json"
    data["per_seed"][0]["test"]["acc0"] = 0.123
    tampered.write_text(json.dumps(data))
    differs = runner.invoke(app, ["rerun", str(tampered), "--results-dir", str(tmp_path / "again")])
    assert differs.exit_code == 1 and "seed 0 acc0" in differs.output
    # a result written before each seed drew its own data order (no data_order recorded) reruns with the shared order
    shared = tmp_path / "shared.json"
    data = json.loads(path.read_text())
    data["config"]["train"]["data_order"] = "shared"
    shared.write_text(json.dumps(data))
    r = runner.invoke(app, ["rerun", str(shared), "--results-dir", str(tmp_path / "shared")])
    assert r.exit_code == 1, r.output  # other orders, other numbers
    (written,) = (tmp_path / "shared" / tiny.name / "mel").glob("expertise-3way.published-custom-*.json")
    older = json.loads(written.read_text())
    assert older["config"]["train"].pop("data_order") == "shared"
    written.write_text(json.dumps(older))
    r = runner.invoke(app, ["rerun", str(written), "--results-dir", str(tmp_path / "older")])
    assert r.exit_code == 0 and "identical" in r.output, r.output


def test_usage_errors_say_what_to_do(tiny, tiny_mel_cache, tmp_path):
    r = runner.invoke(app, ["probe", "-e", "mel", "-d", "synthetic-tiny", "-t", "Expertise-2Way", "--results-dir", str(tmp_path)])
    assert r.exit_code == 2 and "did you mean expertise-2way" in r.output
    r = runner.invoke(app, ["extract", "--encoder", "MERT", "-d", "synthetic-tiny"])
    assert r.exit_code == 2 and "did you mean mert" in r.output
    r = runner.invoke(app, ["probe", "-t", "pisa-player-level"])
    assert r.exit_code == 2 and "pjbench pisa" in r.output
    manifest = tmp_path / "fresh.csv"
    rows = [f"{r.id},{r.path},{r.split},{['beginner', 'advanced', 'virtuoso'][int(r.labels['expertise'])]}" for r in tiny.recordings]
    manifest.write_text("id,path,split,label\n" + "\n".join(rows) + "\n")
    r = runner.invoke(app, ["probe", "--manifest", str(manifest), "--results-dir", str(tmp_path), "--cache-dir", str(tmp_path / "c")])
    assert r.exit_code == 1 and f"pjbench extract --encoder mel --manifest {manifest}" in r.output  # the hint repeats what was given


def test_results_of_all_probe_tasks_name_their_kind(tiny, tiny_mel_cache, tmp_path):
    from pjbench.probing.config import TrainConfig
    from pjbench.probing.probe import run_probe

    task = TASKS["technique-single"]
    result = run_probe(tiny, task, tiny_mel_cache, TrainConfig("linear", (0,), lr=1e-3, max_epochs=2, patience=2), tmp_path, progress=False)
    assert result.config["task"]["kind"] == "single-of-set" and "hit_accuracy" in result.scores
    assert result.variant.startswith("custom-")  # settings of no named schedule
    assert Path(tmp_path / tiny.name / "mel" / f"technique-single.linear-{result.variant}.png").exists()


def test_encoder_registry_lists_plugins_lazily():
    specs = available()
    assert specs["mel"].meta is not None and specs["mel"].target.endswith(":MelEncoder")


class _SideBySide(_WrappedMel):
    """Layers of different sizes, as musicnn's: mel's first 8 bands and its next 12 as two layers, side by side."""

    def __init__(self) -> None:
        super().__init__()
        from dataclasses import replace

        self.meta = replace(self.inner.meta, name="mel-sides", dim=20, n_layers=2, layer_dims=(8, 12))

    def embed(self, audio: torch.Tensor) -> torch.Tensor:
        return self.inner.embed(audio)[..., :20]


def test_layers_of_different_sizes_are_stored_side_by_side_and_probed_one_by_one(tiny, tmp_path):
    """The cache records the sizes; a layer read alone is its slice of the feature axis, the same numbers as that
    layer extracted alone; `--layers each` probes each, the board's row reads them all; the sizes must add up."""
    from pjbench.extraction.cache import LayerView, stored_layers

    with pytest.raises(ValueError, match=r"layer_dims \[8, 11\] must have n_layers \(2\) sizes adding up to dim \(20\)"):
        EncoderMeta("bad", "0", 16000, 10.0, 20, 2, layer_dims=(8, 11))
    assert "layer_dims" not in load_encoder("mel").meta.to_dict()  # the caches of other encoders keep their keys
    every = extract(tiny, _SideBySide(), ExtractConfig(layer="all", pool="rate:5"), cache_root=tmp_path, progress=False)
    alone = extract(_three(tiny, tiny.name), _SideBySide(), ExtractConfig(layer="1", pool="rate:5"), cache_root=tmp_path, progress=False)
    reader, single = CacheReader(every.cache_path), CacheReader(alone.cache_path)
    rec_id = single.ids()[0]
    assert reader.layer_dims == (8, 12) and stored_layers(reader) == 2 and single.layer_dims == () and stored_layers(single) == 1
    whole = reader.get(rec_id).embeddings
    assert whole.shape[1:] == (1, 50, 20)
    assert np.array_equal(LayerView(reader, 0).get(rec_id).embeddings, whole[..., :8])
    assert np.array_equal(LayerView(reader, 1).get(rec_id).embeddings, single.get(rec_id).embeddings)
    assert single.get(rec_id).embeddings.shape[1:] == (1, 50, 12)
    reader.close()
    single.close()
    results = tmp_path / "results"
    args = ["probe", "--dataset", str(tiny.root), "--head", "linear", "--seeds", "1", "--epochs", "2", "--no-baselines"]
    r = runner.invoke(
        app, [*args, "--task", "difficulty-3way", "--results-dir", str(results), "--cache", str(every.cache_path), "--layers", "each"]
    )
    assert r.exit_code == 0, r.output
    layers = sorted((results / tiny.name / "mel-sides" / "layers").glob("difficulty-3way.linear-*.layer*.json"))
    assert [TaskResult.load(p).layer for p in layers] == [0, 1]
    (row,) = (results / tiny.name / "mel-sides").glob("difficulty-3way.linear-*.json")
    assert TaskResult.load(row).per_seed[0]["layer_weights"] is None  # all 20 values read at once: no mix of two sizes
    assert len(list((results / tiny.name / "mel-sides" / "layers").glob("difficulty-3way.linear-*.layer-curve.png"))) == 1


def test_a_head_that_cannot_take_the_input_is_skipped_with_its_reason(tiny, tmp_path):
    """Few frames per segment (here mel pooled to 2 frames/s: 20 per 10 s) are too few for the published head's two
    stride-5 convolutions on one recording (25 needed) but not for a ranking pair's two side by side (40): those jobs
    are skipped with the reason and the others run."""
    from pjbench.heads import head_fits
    from pjbench.heads.published import MIN_SIDE, conv_flatten_size

    assert MIN_SIDE == 25 and conv_flatten_size(24, 128) == 0 < conv_flatten_size(25, 128)
    assert head_fits("linear", 1, 1) is None and "at least 25 frames" in str(head_fits("published", 20, 128))
    report = extract(tiny, load_encoder("mel"), ExtractConfig(pool="rate:2"), cache_root=tmp_path, progress=False)
    results = tmp_path / "results"
    args = ["probe", "--dataset", str(tiny.root), "--cache", str(report.cache_path), "--head", "both", "--seeds", "1"]
    args += ["--epochs", "1", "--no-baselines", "--results-dir", str(results), "-t", "expertise-2way", "-t", "expertise-3way"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "skipped: the published head on expertise-3way" in r.output and "gives 20 x 128" in r.output
    made = sorted(p.name.split("-custom")[0] for p in (results / tiny.name / "mel").glob("*.json"))
    assert made == ["expertise-2way.linear", "expertise-2way.published", "expertise-3way.linear"]
