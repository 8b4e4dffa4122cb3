"""Nothing lost, nothing silently wrong (issue 17): cache identity, damaged caches, partial coverage, bad manifests,
a kill before the cache file was flushed, and a training loss that turns NaN. Each test failed before its fix."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from pjbench.audio import AudioError, load_audio
from pjbench.cli import app
from pjbench.datasets.base import Recording
from pjbench.datasets.manifest import load_manifest
from pjbench.encoders import load_encoder
from pjbench.extraction import cache as cache_module
from pjbench.extraction.cache import CacheBusyError, CacheReader, CacheWriter, DamagedCacheError, verify
from pjbench.extraction.extract import ExtractConfig, _Decoded, cache_path_for, extract, kept_samples
from pjbench.extraction.segments import SegmentConfig
from pjbench.hashing import file_sha256
from pjbench.probing.fit import Member, NonFiniteLossError, fit_members
from pjbench.results.record import TaskResult

runner = CliRunner()
LEVELS = ("beginner", "advanced", "virtuoso")


def _project(tiny, folder: Path, label_of=None) -> Path:
    """A user's project: the tiny set's audio copied into ``folder``, a manifest.csv beside it; labels are the
    expertise levels, or ``label_of(recording)``."""
    (folder / "audio").mkdir(parents=True)
    rows = ["id,path,split,label"]
    for r in tiny.recordings:
        shutil.copy2(r.path, folder / "audio" / r.path.name)
        label = label_of(r) if label_of else LEVELS[int(r.labels["expertise"])]
        rows.append(f"{r.id},audio/{r.path.name},{r.split},{label}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


def _probe(manifest: Path, results: Path, cache_dir: Path, *extra: str):
    args = ["probe", "--manifest", str(manifest), "--head", "linear", "--seeds", "1", "--epochs", "2", "--no-baselines"]
    return runner.invoke(app, [*args, "--results-dir", str(results), "--cache-dir", str(cache_dir), *extra])


def test_two_projects_manifests_of_one_name_get_their_own_caches(tiny, tmp_path):
    a, b = load_manifest(_project(tiny, tmp_path / "a")), load_manifest(_project(tiny, tmp_path / "b"))
    assert a.name == b.name == "manifest"
    enc = load_encoder("mel")
    assert cache_path_for(a, enc, ExtractConfig(), tmp_path) != cache_path_for(b, enc, ExtractConfig(), tmp_path)


def test_probe_refuses_embeddings_of_other_audio_and_extract_embeds_them_anew(tiny, tmp_path):
    manifest = _project(tiny, tmp_path / "p")
    cache_dir, results = tmp_path / "cache", tmp_path / "results"
    assert runner.invoke(app, ["extract", "--manifest", str(manifest), "--cache-dir", str(cache_dir)]).exit_code == 0
    changed = sorted((tmp_path / "p" / "audio").iterdir())
    shutil.copy(changed[1], changed[0])  # another recording's audio under the first one's name
    r = _probe(manifest, results, cache_dir)
    assert r.exit_code == 1 and "embedded from other audio" in r.output and "pjbench extract" in r.output, r.output
    r = runner.invoke(app, ["extract", "--manifest", str(manifest), "--cache-dir", str(cache_dir)])
    assert r.exit_code == 0 and f"\n1 extracted, {len(tiny.recordings) - 1} already cached" in r.output, r.output
    r = _probe(manifest, results, cache_dir)
    assert r.exit_code == 0, r.output


def test_a_dataset_moved_with_its_file_times_keeps_its_cache(tiny, tmp_path):
    manifest = _project(tiny, tmp_path / "p")
    cache_dir = tmp_path / "cache"
    assert runner.invoke(app, ["extract", "--manifest", str(manifest), "--cache-dir", str(cache_dir)]).exit_code == 0
    reader = CacheReader(next(cache_dir.rglob("mel-*.h5")))
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "p", moved)  # copy2 keeps the files' times, as rsync -a does
    dataset = load_manifest(moved / "manifest.csv")
    assert reader.stale(dataset.recordings) == {}
    first = dataset.recordings[0]
    os.utime(first.path, (1.0, 1.0))
    assert list(reader.stale(dataset.recordings)) == [first.id]
    reader.close()


def test_a_split_with_uncached_recordings_is_refused_unless_allowed(tiny, tmp_path):
    manifest = _project(tiny, tmp_path / "p")
    cache_dir, results = tmp_path / "cache", tmp_path / "results"
    assert runner.invoke(app, ["extract", "--manifest", str(manifest), "--cache-dir", str(cache_dir)]).exit_code == 0
    cache = next(cache_dir.rglob("mel-*.h5"))
    test_ids = [r.id for r in tiny.recordings if r.split == "test"]
    with h5py.File(cache, "r+") as fh:  # as if extraction had stopped before these
        for rec_id in test_ids[:2]:
            del fh["recordings"][rec_id]
    r = _probe(manifest, results, cache_dir)
    assert r.exit_code == 1 and f"2 of {len(test_ids)} test" in r.output and "--allow-missing" in r.output, r.output
    r = _probe(manifest, results, cache_dir, "--allow-missing")
    assert r.exit_code == 0 and "left out" in r.output, r.output


def _flip_bytes_inside_an_embedding(cache: Path, rec_id: str) -> None:
    with h5py.File(cache, "r") as fh:
        offset = fh["recordings"][rec_id]["emb"].id.get_chunk_info(0).byte_offset
    with open(cache, "r+b") as raw:
        raw.seek(offset + 1000)
        raw.write(b"\x7f\x7f\x13\x37" * 8)


def test_a_damaged_cache_is_found_named_and_embedded_again(tiny, tmp_path):
    recordings = tiny.recordings[:4]
    ds = type(tiny)("damage-check", recordings, ())
    report = extract(ds, load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    victim = recordings[2].id
    _flip_bytes_inside_an_embedding(report.cache_path, victim)
    reader = CacheReader(report.cache_path)
    with pytest.raises(DamagedCacheError, match=f"{victim}.*cache verify"):
        reader.get(victim)
    reader.get(recordings[0].id)  # the others read as before
    reader.close()
    r = runner.invoke(app, ["cache", "verify", str(report.cache_path)])
    assert r.exit_code == 1 and f"damaged  {victim}" in r.output and "1 damaged" in r.output, r.output
    r = runner.invoke(app, ["cache", "verify", str(report.cache_path), "--drop"])
    assert r.exit_code == 0 and "1 removed" in r.output, r.output
    again = extract(ds, load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    assert (again.extracted, again.already_done) == (1, 3)
    assert verify(report.cache_path).damaged == {}


def test_a_cache_killed_before_its_first_flush_is_moved_aside_and_begun_anew(tiny, tmp_path):
    ds = type(tiny)("kill-check", tiny.recordings[:2], ())
    path = cache_path_for(ds, load_encoder("mel"), ExtractConfig(), tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(88))  # the 96 bytes a SIGKILL 3 s into an extraction left
    r = CacheReader.__new__(CacheReader)
    with pytest.raises(DamagedCacheError, match="not a readable HDF5 cache"):
        r.__init__(path)
    report = extract(ds, load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    assert report.extracted == 2
    assert len(list(path.parent.glob(f"{path.name}.unreadable-*"))) == 1  # kept, not deleted


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("x1,audio/a.flac,train,A, major", "line 3: 5 fields for 4 columns"),
        ("x1,audio\\a.flac,train,A", "line 3: path 'audio\\\\a.flac' uses backslashes"),
        (",audio/a.flac,train,A", "line 3: an empty id"),
        (".,audio/a.flac,train,A", "line 3: the id '.'"),
    ],
)
def test_manifest_mistakes_are_errors_with_their_line(tmp_path, row, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"id,path,split,label\nx0,audio/b.flac,train,B\n{row}\n")
    with pytest.raises(ValueError, match=re.escape(message)):
        load_manifest(manifest)


def test_a_latin1_manifest_names_the_file_and_the_encoding(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("id,path,split,label\nx0,a.flac,train,Étude\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"m\.csv: not UTF-8 text \(byte 0xc9"):
        load_manifest(manifest)


def test_a_loss_that_turns_nan_stops_training_with_one_clear_error():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs = torch.tensor([[1.0, 2.0], [float("nan"), 0.0]])

    def batch_loss(batch):
        return model(inputs[batch]).pow(2).mean()

    member = Member(model, optimizer, batch_loss, None, "seed 0")
    with pytest.raises(NonFiniteLossError, match="seed 0 became nan in epoch 1.*cache verify"):
        fit_members([member], [0, 1], lambda order, rng: [([i], 1) for i in order], 3, 0, desc="nan-check", progress=False)


def test_a_cache_being_written_refuses_a_second_writer_and_readers_with_one_line(tiny, tmp_path):
    ds = type(tiny)("lock-check", tiny.recordings[:2], ())
    report = extract(ds, load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    reader = CacheReader(report.cache_path)
    attrs = dict(reader.attrs)
    with pytest.raises(CacheBusyError, match="another pjbench process is using it"):
        CacheWriter(report.cache_path, attrs)  # a writer while a probe reads
    reader.close()
    holder = CacheWriter(report.cache_path, attrs)
    try:
        with pytest.raises(CacheBusyError, match=rf"another pjbench process \(pid {os.getpid()}\) is writing it"):
            CacheReader(report.cache_path)
        r = runner.invoke(app, ["cache", "verify", str(report.cache_path)])
        assert r.exit_code == 1 and "is writing it" in r.output and "Traceback" not in r.output
        with pytest.raises(CacheBusyError):
            extract(ds, load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    finally:
        holder.close()
    CacheReader(report.cache_path).close()  # free again once the writer is done


def test_decoding_workers_never_hold_the_cache_or_its_lock(tiny, tmp_path, monkeypatch):
    """A forked worker that held the file would keep the lock after its parent was killed."""
    original = _Decoded.__getitem__

    def checked(self, i):
        held = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.islink(f"/proc/self/fd/{fd}")]
        held = [p for p in held if ".h5" in p]
        return {"index": i, "error": f"the worker holds {held}"} if held else original(self, i)

    monkeypatch.setattr(_Decoded, "__getitem__", checked)
    ds = type(tiny)("worker-check", tiny.recordings[:3], ())
    report = extract(ds, load_encoder("mel"), ExtractConfig(workers=1), cache_root=tmp_path, progress=False)
    assert report.skipped == {} and report.extracted == 3


def test_an_unwritable_results_folder_fails_before_any_training(tiny, tiny_mel_cache, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    trained = []
    monkeypatch.setattr("pjbench.probing.probe.train_seeds", lambda *a, **k: trained.append(1) or [])
    args = ["probe", "-d", "synthetic-tiny", "-t", "expertise-3way", "--head", "linear", "--seeds", "1", "--no-baselines"]
    r = runner.invoke(app, [*args, "--results-dir", str(blocker / "results")])
    assert r.exit_code == 1 and "results cannot be written there" in r.output and "Traceback" not in r.output, r.output
    assert trained == []


def test_a_folder_or_a_broken_link_is_skipped_with_the_right_reason(tiny, tmp_path):
    (tmp_path / "folder.flac").mkdir()
    (tmp_path / "loop.flac").symlink_to(tmp_path / "loop.flac")
    (tmp_path / "dangling.flac").symlink_to(tmp_path / "gone.flac")
    recs = [tiny.recordings[0]] + [Recording(p.split(".")[0], tmp_path / p, "train") for p in ("folder.flac", "loop.flac", "dangling.flac")]
    report = extract(type(tiny)("reason-check", recs, ()), load_encoder("mel"), ExtractConfig(), cache_root=tmp_path, progress=False)
    assert report.extracted == 1
    assert "a folder, not an audio file" in report.skipped["folder"]
    assert "a symbolic link that loops" in report.skipped["loop"]
    assert "gone.flac, which does not exist" in report.skipped["dangling"]


def _namespace_works() -> bool:
    """Whether this machine lets a test mount a small or read-only file system in its own namespace (unshare)."""
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_namespace = pytest.mark.skipif(not _namespace_works(), reason="needs `unshare -rm` (a user namespace) for a real small disk")


def _pjbench_in_namespace(setup: str, *args: str) -> subprocess.CompletedProcess:
    """`pjbench ARGS` after ``setup`` (mounts) in a private mount namespace."""
    command = f"{setup} && {shlex.quote(sys.executable)} -m pjbench {' '.join(shlex.quote(a) for a in args)}"
    return subprocess.run(["unshare", "-rm", "bash", "-c", command], capture_output=True, text=True, timeout=300, env=os.environ)


def test_a_full_disk_ends_with_one_line_and_keeps_the_finished_recordings(tiny, tmp_path, monkeypatch):
    free = iter([10**12, 10**12])  # room for two recordings, then none
    monkeypatch.setattr(cache_module, "free_bytes", lambda folder: next(free, 0))
    args = ["extract", "--dataset", str(tiny.root), "--cache-dir", str(tmp_path)]
    r = runner.invoke(app, args)
    assert r.exit_code == 1 and "disk full while writing" in r.output and "rerun to resume" in r.output, r.output
    assert "Traceback" not in r.output
    cache = next(tmp_path.rglob("mel-*.h5"))
    assert verify(cache).checked == 2 and verify(cache).damaged == {}
    monkeypatch.undo()
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and f"{len(tiny.recordings) - 2} extracted, 2 already cached" in r.output, r.output


@needs_namespace
def test_a_real_full_disk_is_one_line_not_a_crash_even_when_a_write_fails(tiny, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    setup = f"mount -t tmpfs -o size=9m tmpfs {disk}"
    # the check before each write keeps HDF5 from failing (its next flush would crash the interpreter)
    r = _pjbench_in_namespace(setup, "extract", "--dataset", str(tiny.root), "--cache-dir", str(disk))
    assert r.returncode == 1 and "disk full while writing" in r.stderr and "Traceback" not in r.stderr, r.stderr[-3000:]
    # without the check (another process filled the disk between check and write): still one line, exit 1
    script = (
        "import sys, pjbench.extraction.cache as c; c.SPACE_RESERVE = 0; c.free_bytes = lambda folder: 10**12; "
        "from pjbench.cli import app; sys.argv = ['pjbench', *sys.argv[1:]]; app()"
    )
    command = f"{setup} && {shlex.quote(sys.executable)} -c {shlex.quote(script)} extract --dataset {tiny.root} --cache-dir {disk}"
    r = subprocess.run(["unshare", "-rm", "bash", "-c", command], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "disk full while writing" in r.stderr and "a write failed for want of space" in r.stderr, r.stderr[-3000:]


@needs_namespace
def test_a_read_only_cache_serves_when_everything_is_cached(tiny, tmp_path):
    cache_dir = tmp_path / "cache"
    args = ["extract", "--dataset", str(tiny.root), "--cache-dir", str(cache_dir)]
    assert runner.invoke(app, args).exit_code == 0
    read_only = f"mount --bind {cache_dir} {cache_dir} && mount -o remount,bind,ro {cache_dir}"
    r = _pjbench_in_namespace(read_only, *args)
    assert r.returncode == 0 and f"0 extracted, {len(tiny.recordings)} already cached" in r.stdout, r.stdout + r.stderr
    first = tiny.recordings[0].path
    os.utime(first, (first.stat().st_atime, first.stat().st_mtime + 5))  # one recording changed: it must be written
    try:
        r = _pjbench_in_namespace(read_only, *args)
    finally:
        os.utime(first, (first.stat().st_atime, first.stat().st_mtime - 5))
    assert r.returncode == 1 and "read-only" in r.stderr and "Traceback" not in r.stderr, r.stderr[-3000:]
    assert not list(cache_dir.rglob("*.unreadable-*"))  # never taken for a damaged cache


def test_a_truncated_file_is_skipped_as_truncated(tmp_path):
    rate = 22050
    tone = (0.1 * np.sin(np.arange(rate * 20) * 0.05)).astype(np.float32)
    for suffix in ("flac", "wav"):
        whole = tmp_path / f"whole.{suffix}"
        sf.write(whole, tone, rate)
        cut = tmp_path / f"cut.{suffix}"
        cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 10])  # a copy cut short
        with pytest.raises(AudioError, match=r"truncated"):
            load_audio(cut, rate)
        assert len(load_audio(cut, rate, max_samples=rate)) == rate  # the part kept is whole: usable


@pytest.mark.parametrize("target", [44100, 24000, 16000])
def test_decoding_only_the_kept_part_gives_the_same_samples(tmp_path, target):
    path = tmp_path / "long.flac"
    sf.write(path, (0.1 * np.random.default_rng(0).standard_normal(44100 * 25)).astype(np.float32), 44100)
    kept = kept_samples(SegmentConfig(seconds=10.0, max_segments=2), target)
    assert kept == 20 * target
    np.testing.assert_array_equal(load_audio(path, target, kept), load_audio(path, target)[:kept])
    item = _Decoded([Recording("long", path, "train", {})], target, SegmentConfig(seconds=10.0, max_segments=2))[0]
    assert item["segments"].shape == (2, 10 * target) and item["seconds"] == 20.0 and abs(item["duration"] - 25.0) < 1e-6


def test_results_carry_their_run_and_the_board_marks_a_row_of_mixed_configurations(tiny, tiny_mel_cache, tmp_path):
    results = tmp_path / "results"
    args = ["probe", "--dataset", str(tiny.root), "--head", "linear", "--no-baselines", "--results-dir", str(results)]
    args += ["--cache", str(tiny_mel_cache), "--epochs", "2"]
    r = runner.invoke(app, [*args, "--task", "expertise-2way,difficulty-3way", "--seeds", "1"])
    assert r.exit_code == 0, r.output
    files = sorted((results / tiny.name / "mel").glob("*.json"))
    first = [TaskResult.load(f) for f in files]
    assert len(first) == 2 and first[0].run_id and first[0].run_id == first[1].run_id  # one command, one run
    board = runner.invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert "‡" not in board.output, board.output
    # a second command on one of the tasks, with other settings (as a run killed after its first task leaves it)
    r = runner.invoke(app, [*args, "--task", "expertise-2way", "--seeds", "2"])
    assert r.exit_code == 0, r.output
    again = TaskResult.load(next(f for f in files if f.name.startswith("expertise-2way")))
    assert again.run_id != first[0].run_id
    board = runner.invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert re.search(r"\| 1-2 ‡ \|", board.output) and "differ in train.seeds" in board.output, board.output
    assert again.run_id in board.output and first[0].run_id in board.output
    # the plot is written with its JSON and known by its hash; a plot from elsewhere is named
    png = files[0].with_suffix(".png")
    assert TaskResult.load(files[0]).plot["sha256"] == file_sha256(png)
    shutil.copy(files[1].with_suffix(".png"), png)
    board = runner.invoke(app, ["leaderboard", "--results-dir", str(results)])
    assert "plots that do not belong to their results" in board.output and files[0].stem in board.output, board.output
