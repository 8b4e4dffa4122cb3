"""PISA (Piano Skills Assessment, MMSP 2021): 61 performances, the player's level 1-10, from video and audio.

Annotations: ``Annotations/Raw_Annotations.xlsx`` (row k = performance k) or the TSV beside it
(``_derived/raw_annotations_with_split.tsv``): YouTube link, the hand crop box "x1, y1, x2, y2",
the source video number (``filename``; several performances can share one video), frame rate,
``frame_start`` / ``frame_end`` (used; the time columns are mistyped), player and song level.

The official train/test split is the one of the released samples
(``Annotations/Annotations_Ready2Use/annotations_<scheme>_<split>.pkl``, keyed (row, sample)),
read through an unpickler that accepts numpy arrays and nothing else; or the TSV's split column.

Samples: 160 frames = 10 clips x 16 frames, counted from the performance's first frame
(``round(frame_start)``); a performance of F frames has N = floor(F / 160) samples.
Contiguous: sample j is frames 160 j ... 160 j + 159. Uniformly distributed: sample j takes the
clips starting at 16 j + 16 N c, c = 0..9, spread over the whole performance.
"""

from __future__ import annotations

import csv
import importlib
import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .labelfiles import LabelFileError

SPREADSHEET = "Annotations/Raw_Annotations.xlsx"
TSV = "_derived/raw_annotations_with_split.tsv"
RELEASED = "Annotations/Annotations_Ready2Use/annotations_{scheme}_{split}.pkl"
SCHEMES: dict[str, str] = {"contiguous": "consecutive", "uniform": "unidist"}  # ours -> the released file names
CLIPS, CLIP_FRAMES = 10, 16
SAMPLE_FRAMES = CLIPS * CLIP_FRAMES


@dataclass(frozen=True)
class PisaPerformance:
    row: int  # 1-61, the spreadsheet row after the header (the released samples' key)
    video: str  # the source video's number: <video>.<ext> under the video root
    link: str
    crop: tuple[int, int, int, int]  # x1, y1, x2, y2 in the source frame
    fps: float
    frame_start: float
    frame_end: float
    player_level: int  # 1-10
    song_level: int
    song: str
    split: str = ""

    @property
    def first_frame(self) -> int:
        return int(round(self.frame_start))

    @property
    def n_samples(self) -> int:
        return int(math.floor((self.frame_end - self.frame_start) / SAMPLE_FRAMES))


@dataclass(frozen=True)
class PisaSample:
    row: int
    index: int
    clip_starts: tuple[int, ...]  # 10 clip starts, frames relative to the performance's first frame
    player_level: int  # 1-10

    @property
    def id(self) -> str:
        return f"{self.row}-{self.index}"


def clip_starts(n_samples: int, j: int, scheme: str) -> tuple[int, ...]:
    if scheme == "contiguous":
        return tuple(SAMPLE_FRAMES * j + CLIP_FRAMES * c for c in range(CLIPS))
    if scheme == "uniform":
        return tuple(CLIP_FRAMES * j + CLIP_FRAMES * n_samples * c for c in range(CLIPS))
    raise ValueError(f"sampling scheme {scheme!r}: choose contiguous or uniform")


def samples_of(perf: PisaPerformance, scheme: str) -> list[PisaSample]:
    return [PisaSample(perf.row, j, clip_starts(perf.n_samples, j, scheme), perf.player_level) for j in range(perf.n_samples)]


def _no_objects(dtype: np.dtype, what: str) -> np.dtype:
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing {what} of dtype {dtype}: arrays of Python objects are not accepted")
    return dtype


def _safe_dtype(*args: Any) -> np.dtype:
    return _no_objects(np.dtype(*args), "a dtype")


class NumpyOnlyUnpickler(pickle._Unpickler):  # the Python unpickler: its BUILD step can be checked
    """Unpickles dicts, lists, numbers, strings and numpy arrays of plain numbers; refuses every other global (a pickle
    can run code), object dtypes, and dtype states other than the dtype's own (a state that sets a dtype's flags makes
    numpy read raw bytes as object pointers: memory corruption)."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }
    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are accepted")
        if (module, name) == ("numpy", "dtype"):
            return _safe_dtype
        if module == "numpy":
            return getattr(np, name)
        # pickles written by numpy 1 name numpy.core, numpy 2 renamed it numpy._core
        try:
            found = getattr(importlib.import_module("numpy._core.multiarray"), name)
        except ImportError:
            found = getattr(importlib.import_module("numpy.core.multiarray"), name)
        if name == "scalar":
            return lambda dtype, *rest: found(_no_objects(dtype, "a scalar"), *rest)
        return found

    def load_build(self) -> None:
        inst, state = self.stack[-2], self.stack[-1]  # type: ignore[attr-defined]  # the Python unpickler's own
        if isinstance(inst, np.dtype):
            own = inst.__reduce__()[2]  # numpy's state for this dtype: only its byte order may differ (big-endian data)
            same = isinstance(state, tuple) and len(state) == len(own) and state[0] == own[0] and state[2:] == own[2:]
            if not same or state[1] not in ("<", ">", "|", "="):
                raise pickle.UnpicklingError(f"refusing a changed state for dtype {inst}: {state!r}")
        if isinstance(inst, np.ndarray) and isinstance(state, tuple) and len(state) > 2 and isinstance(state[2], np.dtype):
            _no_objects(state[2], "an array")
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]

    dispatch[pickle.BUILD[0]] = load_build  # type: ignore[assignment]


def load_released(path: Path) -> dict[tuple[int, int], dict[str, Any]]:
    with open(path, "rb") as fh:
        data = NumpyOnlyUnpickler(fh).load()
    if not isinstance(data, dict):
        raise LabelFileError(f"{path}: expected a dict of samples, got {type(data).__name__}")
    return data


def _crop(text: str, where: str) -> tuple[int, int, int, int]:
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4:
        raise LabelFileError(f"{where}: crop {text!r} is not 'x1, y1, x2, y2'")
    x1, y1, x2, y2 = (int(float(p)) for p in parts)
    if x2 <= x1 or y2 <= y1:
        raise LabelFileError(f"{where}: crop {text!r} is empty")
    return x1, y1, x2, y2


def _video_name(value: Any) -> str:
    """The source video's file stem: PISA numbers them (1, 2.0 in a spreadsheet), the synthetic set names them."""
    text = str(value).strip()
    try:
        return str(int(float(text)))
    except ValueError:
        return text


def _performance(row: int, r: dict[str, Any], where: str, split: str = "") -> PisaPerformance:
    try:
        return PisaPerformance(
            row=row,
            video=_video_name(r["filename"]),
            link=str(r["youtube link"]),
            crop=_crop(r["crop"], where),
            fps=float(r["framerate"]),
            frame_start=float(r["frame_start"]),
            frame_end=float(r["frame_end"]),
            player_level=int(float(r["level_player"])),
            song_level=int(float(r["level_song"])),
            song=str(r["song"]),
            split=split,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise LabelFileError(f"{where}: unreadable annotation row ({err})") from err


def read_spreadsheet(path: Path) -> list[PisaPerformance]:
    """The annotation rows of PISA's .xlsx, parsed without entity expansion (openpyxl through defusedxml)."""
    import zipfile
    from xml.etree.ElementTree import ParseError

    import openpyxl
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:
        raise LabelFileError(f"{path}: refusing to parse a spreadsheet without defusedxml (pip install defusedxml)")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = book.worksheets[0].iter_rows(values_only=True)
            header = [str(c).strip() if c is not None else "" for c in next(rows)]
            out = []
            for k, values in enumerate(rows, start=1):
                record = dict(zip(header, values))
                if record.get("youtube link") in (None, ""):
                    break  # the sheet's used range runs past the data
                out.append(_performance(k, record, f"{path}:{k + 1}"))
        finally:
            book.close()
    except LabelFileError:
        raise
    except (ParseError, ValueError, KeyError, StopIteration, zipfile.BadZipFile, OSError) as err:
        # defusedxml's refusals (entities, external references) are ValueErrors; openpyxl wraps them: name the first cause
        cause: BaseException = err
        while cause.__cause__ is not None or cause.__context__ is not None:
            cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
        raise LabelFileError(f"{path}: not a readable .xlsx annotation sheet ({type(cause).__name__}: {cause})") from None
    return out


def read_tsv(path: Path) -> list[PisaPerformance]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [_performance(int(r["pkl_video_id"]), r, f"{path}:{i + 2}", r.get("split", "")) for i, r in enumerate(rows)]


def read_annotations(labels_dir: Path) -> list[PisaPerformance]:
    """The performances with their official split (from the released samples, else the TSV's column)."""
    sheet, tsv = labels_dir / SPREADSHEET, labels_dir / TSV
    if sheet.is_file():
        perfs = read_spreadsheet(sheet)
    elif tsv.is_file():
        perfs = read_tsv(tsv)
    else:
        raise LabelFileError(f"no PISA annotations in {labels_dir}: expected {SPREADSHEET} or {TSV} (--labels)")
    split: dict[int, str] = {}
    for part in ("train", "test"):
        released = labels_dir / RELEASED.format(scheme="consecutive", split=part)
        if released.is_file():
            split.update({row: part for row, _ in load_released(released)})
    if not split:
        split = {p.row: p.split for p in perfs if p.split}
    missing = [p.row for p in perfs if p.row not in split]
    if missing:
        raise LabelFileError(f"{labels_dir}: no official split for performances {missing[:10]} (released samples or TSV split column)")
    return [PisaPerformance(**{**p.__dict__, "split": split[p.row]}) for p in perfs]


VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")


@dataclass
class PisaDataset:
    name: str
    performances: list[PisaPerformance]
    video_root: Path
    videos: dict[int, Path]  # row -> video file (performances whose video is missing are absent)
    missing: list[dict[str, str]]
    info: dict[str, Any]


def pisa_fingerprint(ds: PisaDataset) -> dict[str, Any]:
    """The data's fingerprint (datasets/fingerprint.py) over the performances: row, split, labels, crop and frames,
    and the video file's size."""
    from dataclasses import asdict

    from .fingerprint import audio_size, of_items

    items = []
    for p in ds.performances:
        fields = asdict(p)
        row, split = fields.pop("row"), fields.pop("split")
        items.append([row, split, {"video": fields.pop("video")}, fields, audio_size(ds.videos[p.row]) if p.row in ds.videos else None])
    generator: dict[str, Any] | None = {k: ds.info[k] for k in ("generator_version", "config") if k in ds.info} or None
    return of_items(items, generator, basis="rows, splits, labels, crops and frames of every performance; video sizes")


def find_videos(video_root: Path, performances: list[PisaPerformance]) -> tuple[dict[int, Path], list[dict[str, str]]]:
    by_stem: dict[str, Path] = {}
    if video_root.is_dir():
        for path in sorted(video_root.rglob("*")):
            if path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file():
                by_stem.setdefault(path.stem, path)
    found, missing = {}, []
    for p in performances:
        if p.video in by_stem:
            found[p.row] = by_stem[p.video]
        else:
            missing.append({"id": str(p.row), "expected": f"{p.video}.<video extension>", "split": p.split, "label": str(p.player_level)})
    return found, missing


def validation_from_train(performances: list[PisaPerformance], fraction: float, seed: int, available: set[int]) -> list[PisaPerformance]:
    """PISA has train and test only: a share of the training performances whose video is available, grouped by
    source video (a video can hold several performances), becomes the validation split used for model selection."""
    videos = sorted({p.video for p in performances if p.split == "train" and p.row in available})
    if len(videos) < 2:
        raise ValueError(f"PISA: {len(videos)} training video(s) available; at least two are needed (one becomes the validation split)")
    rng = np.random.default_rng(seed)
    chosen = {videos[i] for i in rng.permutation(len(videos))[: max(1, int(round(fraction * len(videos))))]}
    return [PisaPerformance(**{**p.__dict__, "split": "val"}) if p.split == "train" and p.video in chosen else p for p in performances]


def load_pisa(video_root: Path, labels_dir: Path | None = None, val_fraction: float = 0.2, split_seed: int = 0) -> PisaDataset:
    labels_dir = labels_dir or video_root / "labels"
    performances = read_annotations(labels_dir)
    videos, missing = find_videos(video_root, performances)
    if not any(p.split == "val" for p in performances):
        performances = validation_from_train(performances, val_fraction, split_seed, set(videos))
        missing = [{**m, "split": next(p.split for p in performances if str(p.row) == m["id"])} for m in missing]
    info = {"labels_dir": str(labels_dir), "val_fraction": val_fraction, "split_seed": split_seed, "n_label_rows": len(performances)}
    return PisaDataset("pisa", performances, video_root, videos, missing, {**info, "n_missing_video": len(missing)})


def load_synthetic_pisa(root: Path, name: str) -> PisaDataset:
    """The embedded dataset's keyboard videos (``pjbench synth --video``), read through the PISA loader."""
    table = root / "pisa_annotations.tsv"
    if not table.is_file():
        raise FileNotFoundError(f"{root} has no keyboard videos yet: run `pjbench synth --video` (with the same --size)")
    performances = read_tsv(table)
    videos, missing = find_videos(root / "video", performances)
    info = {"labels_dir": str(root), "n_label_rows": len(performances), "n_missing_video": len(missing)}
    return PisaDataset(name, performances, root / "video", videos, missing, info)
