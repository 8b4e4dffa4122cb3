"""PISA: the released samples reproduced exactly, the restricted unpickler, the backbones' weight loading,
the keyboard videos and clip pipeline, the loss and metrics, and the probe end to end on the embedded videos."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from published_audio import PUBLISHED
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.datasets.pisa import (
    RELEASED,
    SCHEMES,
    TSV,
    NumpyOnlyUnpickler,
    load_released,
    read_annotations,
    read_spreadsheet,
    read_tsv,
    samples_of,
)
from pjbench.encoders.checkpoints import CheckpointError
from pjbench.experiments.pisa import _video_tensor
from pjbench.experiments.video_backbones import R3D18, ResNet18Audio, SmallC3D, load_backbone_weights
from pjbench.heads.pisa import level_loss
from pjbench.scoring.metrics import level_metrics

PISA = PUBLISHED / "pisa"
runner = CliRunner()


@pytest.mark.parametrize("scheme", ["contiguous", "uniform"])
def test_released_samples_are_reproduced_exactly(scheme: str) -> None:
    performances = read_annotations(PISA)  # the spreadsheet; split from the released samples
    assert len(performances) == 61
    for split, expected_count in (("train", 516), ("test", 476)):
        released = load_released(PISA / RELEASED.format(scheme=SCHEMES[scheme], split=split))
        ours = {(s.row, s.index): s for p in performances if p.split == split for s in samples_of(p, scheme)}
        assert len(released) == len(ours) == expected_count
        for key, sample in released.items():
            clips = ours[key].clip_starts
            assert np.array_equal(sample["frames"], np.concatenate([np.arange(c, c + 16) for c in clips]))
            assert sample["player_level"] == ours[key].player_level - 1  # the release counts levels from 0


def test_spreadsheet_and_tsv_agree() -> None:
    sheet, tsv = read_annotations(PISA), read_tsv(PISA / TSV)
    assert [(p.row, p.video, p.crop, p.player_level, p.split, p.n_samples) for p in sheet] == [
        (p.row, p.video, p.crop, p.player_level, p.split, p.n_samples) for p in tsv
    ]


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_accepts_numpy_only(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({(1, 0): _Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="only numpy arrays"):
        load_released(path)
    ok = tmp_path / "ok.pkl"
    ok.write_bytes(pickle.dumps({(1, 0): {"frames": np.arange(3), "framerate": 25.0}}))
    with open(ok, "rb") as fh:
        assert np.array_equal(NumpyOnlyUnpickler(fh).load()[(1, 0)]["frames"], np.arange(3))


class _DtypeWithObjectFlags:
    """The first step of a memory-corruption pickle: a plain 8-byte dtype whose state sets the flags that make numpy
    treat its bytes as object pointers (allowed names only)."""

    def __reduce__(self):
        return (np.dtype, ("V8", False, True), (3, "|", None, None, None, 8, 1, 0x3F))


def test_unpickler_refuses_object_arrays_and_dtype_state_changes(tmp_path: Path) -> None:
    crafted = tmp_path / "crafted.pkl"
    crafted.write_bytes(pickle.dumps({(1, 0): {"frames": _DtypeWithObjectFlags()}}))
    with pytest.raises(pickle.UnpicklingError, match="changed state for dtype"):
        load_released(crafted)
    objects = tmp_path / "objects.pkl"
    objects.write_bytes(pickle.dumps({(1, 0): {"frames": np.array([1, "a"], dtype=object)}}))
    with pytest.raises(pickle.UnpicklingError, match="arrays of Python objects"):
        load_released(objects)
    for value in (np.arange(6, dtype=np.int16).reshape(2, 3), np.float32(2.5), np.zeros(3, dtype=">f8"), np.array([1.5])):
        plain = tmp_path / "plain.pkl"
        plain.write_bytes(pickle.dumps({(1, 0): {"frames": value}}))
        loaded, expected = load_released(plain)[(1, 0)]["frames"], pickle.loads(plain.read_bytes())[(1, 0)]["frames"]
        assert np.array_equal(loaded, value) and loaded.dtype == expected.dtype  # what the standard unpickler gives


def test_a_billion_laughs_spreadsheet_is_refused_with_its_name(tmp_path: Path) -> None:
    import zipfile

    import openpyxl

    from pjbench.datasets.labelfiles import LabelFileError

    plain = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["youtube link", "level_player"])
    book.save(plain)
    laughs = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{k + 1} "{("&lol" + (str(k) if k else "") + ";") * 10}">' for k in range(9))
        + "]>"
    )
    crafted = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(crafted, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"):  # wherever the text sits
                text = data.decode().replace("youtube link", "&lol9;")
                head, decl, rest = text.partition("?>") if text.startswith("<?xml") else ("", "", text)
                data = (head + decl + laughs + rest).encode()
            dst.writestr(item, data)
    with pytest.raises(LabelFileError, match=r"laughs\.xlsx: not a readable \.xlsx annotation sheet \(EntitiesForbidden"):
        read_spreadsheet(crafted)


def test_backbones_load_torchvision_layout(tmp_path: Path) -> None:
    torch.manual_seed(0)
    source = ResNet18Audio()
    state = source.state_dict()
    state["conv1.weight"] = torch.randn(64, 3, 7, 7)  # an ImageNet checkpoint: three input channels, and a classifier
    state["fc.weight"], state["fc.bias"] = torch.randn(1000, 512), torch.randn(1000)
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "r18.pth")
    target = ResNet18Audio()
    assert load_backbone_weights(target, tmp_path / "r18.pth") == []
    assert torch.allclose(target.conv1.weight, state["conv1.weight"].sum(1, keepdim=True))
    assert torch.equal(target.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])
    video = R3D18()
    torch.save(video.state_dict(), tmp_path / "r3d.pth")
    assert "layer2.0.downsample.0.weight" in video.state_dict() and "stem.0.weight" in video.state_dict()
    assert load_backbone_weights(R3D18(), tmp_path / "r3d.pth") == []
    with pytest.raises(CheckpointError, match="shapes differ"):
        load_backbone_weights(R3D18(width=8), tmp_path / "r3d.pth")
    assert SmallC3D(width=4)(torch.zeros(2, 3, 16, 32, 32)).shape == (2, 16)


def test_level_loss_and_metrics() -> None:
    logits = torch.tensor([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    target = torch.tensor([2, 0])
    ce = torch.nn.functional.cross_entropy(logits, target)
    expected = torch.tensor([1.0, 0.0])  # the softmax's expected class index
    probs = torch.softmax(logits, 1)
    expected = (probs * torch.arange(3.0)).sum(1)
    d = expected - target.float()
    assert torch.isclose(level_loss(logits, target, 0.1), ce + 0.1 * (d.abs() + d**2).mean())
    m = level_metrics(np.array([0, 1, 2, 2]), np.eye(3)[[0, 2, 2, 0]])
    assert m["accuracy"] == 0.5 and m["within_one"] == 0.75 and m["mae"] == 0.75
    assert m["acc0"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert level_metrics(np.array([0, 1, 2]), np.eye(3)[[2, 1, 0]])["spearman"] == pytest.approx(-1.0)
    assert level_metrics(np.array([0, 1, 2]), np.eye(3)[[0, 1, 2]])["spearman"] == pytest.approx(1.0)
    assert level_metrics(np.array([0, 1, 2]), np.full((3, 3), 1 / 3))["spearman"] == 0.0  # a constant guess


def test_training_flip_mirrors_the_clip() -> None:
    clips = np.random.default_rng(0).integers(0, 255, (2, 1, 2, 4, 5, 3), dtype=np.uint8)
    plain = _video_tensor(clips, None, torch.device("cpu"))
    flipped = _video_tensor(clips, np.array([True, False]), torch.device("cpu"))
    assert torch.equal(flipped[0], torch.flip(plain[0], dims=[-1])) and not torch.equal(flipped[0], plain[0])
    assert torch.equal(flipped[1], plain[1])


@pytest.mark.slow
def test_keyboard_video_clips_and_probe_end_to_end(short_videos: Path, pisa_cache: Path, tmp_path: Path) -> None:
    """The embedded keyboard videos through the CLI. The clip and feature caches are shared with the learning test
    (same dataset name, cache folder and settings), so each is built once per session."""
    from pjbench.datasets.pisa import load_synthetic_pisa
    from pjbench.experiments.clipcache import ClipReader, build_clip_cache

    ds = load_synthetic_pisa(short_videos, "synthetic-short-video")
    assert len(ds.performances) == len(ds.videos) >= 150 and not ds.missing  # one suited performance per piece
    assert {p.split for p in ds.performances} == {"train", "val", "test"}
    cache = build_clip_cache(ds, "uniform", frame_size=32, root=pisa_cache, progress=False)
    reader = ClipReader(cache)
    sample = reader.get(reader.ids("train")[0])
    assert sample.video.shape == (10, 16, 32, 32, 3) and sample.audio is not None and sample.audio.shape == (10, 224, 224)
    assert sample.video.std() > 5 and sample.audio.std() > 5  # real pictures and spectrograms, not blanks
    reader.close()

    results = tmp_path / "results"
    args = ["pisa", "--dataset", "synthetic-short", "--width", "4", "--frame-size", "32"]
    args += ["--cache-dir", str(pisa_cache), "--results-dir", str(results)]
    frozen = [*args, "--modality", "multimodal", "--mode", "frozen", "--epochs", "4", "--seeds", "2", "--lr", "1e-3"]
    r = runner.invoke(app, frozen)
    assert r.exit_code == 0, r.output
    path = results / "synthetic-short-video" / "c3d-small+resnet18 (width 4)" / "pisa-multimodal-uniform.frozen.json"
    first = json.loads(path.read_text())
    assert {"accuracy", "acc0", "within_one", "mae", "spearman"} <= set(first["scores"]) and len(first["per_seed"]) == 2
    # intervals over test videos and seeds; per-sample predictions on record
    assert first["scores"]["accuracy"]["ci_low"] <= first["scores"]["accuracy"]["mean"] <= first["scores"]["accuracy"]["ci_high"]
    assert first["intervals"]["group"] == "video" and (path.parent / first["predictions"]["file"]).exists()
    assert "_probabilities" not in first["per_seed"][0]
    r = runner.invoke(app, ["rescore", str(path)])  # every metric and interval again from the predictions alone
    assert r.exit_code == 0 and "recomputed exactly" in r.output, r.output
    r = runner.invoke(app, frozen)
    assert r.exit_code == 0, r.output  # a crashed rerun must not pass as "same scores"
    assert [s["test"] for s in json.loads(path.read_text())["per_seed"]] == [s["test"] for s in first["per_seed"]]  # same seed, same scores
    r = runner.invoke(app, [*args, "--modality", "video", "--mode", "end-to-end", "--epochs", "1", "--seeds", "1"])
    assert r.exit_code == 0, r.output
    assert (results / "synthetic-short-video" / "c3d-small (width 4)" / "pisa-video-uniform.end-to-end.json").exists()
    assert "pisa-multimodal-uniform accuracy" in (results / "synthetic-short-video" / "leaderboard.md").read_text()


def _write_video(path: Path, n_frames: int, fps: int, size: tuple[int, int], seed: int) -> None:
    """A plain test video with a moving bright square and a tone, in the container PISA's YouTube videos come in."""
    import av

    rng = np.random.default_rng(seed)
    sr = 44100
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=sr, layout="mono")
        for i in range(n_frames):
            img = np.full((size[1], size[0], 3), 40, np.uint8)
            x = (7 * i) % (size[0] - 40)
            img[100:140, x : x + 40] = 230
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        t = np.arange(int(n_frames / fps * sr)) / sr
        tone = (0.2 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = sr
        for packet in [*sound.encode(frame), *sound.encode(None)]:
            container.mux(packet)


@pytest.mark.slow
def test_a_users_pisa_copy(pjbench_home: Path, tmp_path: Path) -> None:
    """The real annotations with three of the videos present: rows 12 and 34 (training; one becomes validation) and 9
    (test); video 25 also holds rows 35 and 36, which lie beyond this copy's end and are skipped with a reason."""
    videos = tmp_path / "videos"
    videos.mkdir()
    for name, frames in (("9", 580), ("25", 940), ("6", 850)):  # rows 12 (train), 34 (train), 9 (test)
        _write_video(videos / f"{name}.mp4", frames, 30, (640, 480), seed=int(name))
    results = tmp_path / "results"
    r = runner.invoke(
        app,
        ["pisa", "--dataset", "pisa", "--video-root", str(videos), "--labels", str(PISA)]
        + ["--modality", "multimodal", "--mode", "frozen", "--sampling", "contiguous"]
        + ["--width", "4", "--frame-size", "32", "--epochs", "2", "--seeds", "1"]
        + ["--cache-dir", str(tmp_path / "cache"), "--results-dir", str(results)],
    )
    assert r.exit_code == 0, r.output
    assert "56 of 61 performances have no video" in r.output
    data = json.loads((results / "pisa" / "c3d-small+resnet18 (width 4)" / "pisa-multimodal-contiguous.frozen.json").read_text())
    assert data["counts"]["n_missing_video"] == 56 and data["counts"]["n_skipped_performances"] == 2
    assert all("ends before frame" in reason for reason in data["config"]["skipped"].values())
    assert {data["counts"]["n_train"], data["counts"]["n_val"]} == {3, 5} and data["counts"]["n_test"] == 5
    board = (results / "pisa" / "leaderboard.md").read_text()
    assert "C3D + ResNet-18 (PISA paper, Table 1)" in board and "61.55" in board  # its contiguous multimodal number
