"""PercePiano as a pjbench dataset: the packed MIDI rendered once to audio (or the user's own renderings or recordings
with ``--audio-root``), the 19 mean ratings as labels, the paper's performer split as the recordings' split and its
piece split as a label (``split/piece``) that the ``perceptual-piece`` task splits by."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from ...paths import datasets_dir
from ...progress import progress_bar
from ..audio_index import AudioIndex
from ..base import Dataset, Recording, check_group_leakage
from .files import MEAN_LABELS, provenance, unpacked
from .labels import SegmentName, mean_labels, performer_split, piece_split

log = logging.getLogger(__name__)

TASKS = ("perceptual-performer", "perceptual-piece")
SAMPLE_RATE = 24000
RENDER_VERSION = "1"  # bump when the rendering changes: the audio folder is named by it
# the installed piano closest to what the raters heard (research/percepiano/rendering_distance.py, docs/percepiano.md):
# spectral centroid 892 Hz on the published example against 832 Hz heard (FluidR3's grand: 1,743 Hz)
DEFAULT_TIMBRE = "MuseScore-grand"
# one gain for the whole set (x3, +9.5 dB): the example 3.4 dB under the level heard, the loudest segment peaking at 0.89
SET_GAIN = 3.0


def segments(files_root: Path) -> tuple[dict[str, tuple[float, ...]], dict[str, Path], dict[str, int]]:
    """Labelled segments with their MIDI file, and counts of what has no partner (said once, in the log)."""
    labels = mean_labels(files_root / MEAN_LABELS)
    midis = {p.stem.strip(): p for p in sorted((files_root / "midi").glob("*.mid"))}  # one file is named with a leading space
    unlabelled = sorted(set(midis) - set(labels))
    no_midi = sorted(set(labels) - set(midis))
    if unlabelled:
        log.info("PercePiano: %d MIDI files have no rating and are left out (e.g. %s)", len(unlabelled), unlabelled[0])
    if no_midi:
        log.warning("PercePiano: %d rated segments have no MIDI file and are left out (e.g. %s)", len(no_midi), no_midi[0])
    kept = {name: labels[name] for name in sorted(labels) if name in midis}
    return kept, {name: midis[name] for name in kept}, {"unlabelled_midi": len(unlabelled), "labels_without_midi": len(no_midi)}


def render_key(timbre: str, sample_rate: int) -> str:
    archive = provenance()["archive"]["sha256"]
    return hashlib.sha256(f"{archive}|{timbre}|{sample_rate}|{SET_GAIN}|{RENDER_VERSION}".encode()).hexdigest()[:12]


def rendered_audio(
    midis: dict[str, Path], timbre_name: str = DEFAULT_TIMBRE, sample_rate: int = SAMPLE_RATE, root: Path | None = None
) -> Path:
    """The folder of the rendered segments (``<name>.flac``), rendering those not there yet; each file is written to a
    temporary name and renamed, so an interruption loses at most the file in hand and the next call goes on."""
    import soundfile as sf

    from ..synthetic.render import available_timbres
    from .render import MidiError, render_midi

    folder = (root or datasets_dir()) / f"percepiano-audio-{render_key(timbre_name, sample_rate)}"
    todo = [name for name in midis if not (folder / f"{name}.flac").is_file()]
    if not todo:
        return folder
    timbres = {t.name: t for t in available_timbres()}
    if timbre_name not in timbres:
        raise ValueError(f"piano timbre {timbre_name!r} is not installed here; installed: {', '.join(timbres)}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "render.json").write_text(
        json.dumps(
            {
                "timbre": timbre_name,
                "sample_rate": sample_rate,
                "gain": SET_GAIN,
                "version": RENDER_VERSION,
                "archive": provenance()["archive"],
            },
            indent=1,
        )
    )
    failed = 0
    for name in progress_bar(todo, desc="render PercePiano", unit="seg"):
        try:
            audio = SET_GAIN * render_midi(midis[name], timbres[timbre_name], sample_rate)
        except MidiError as err:
            log.warning("skipping %s", err)
            failed += 1
            continue
        peak = float(np.abs(audio).max())
        if peak > 0.999:  # a fixed gain for the set: a clip would be the renderer's fault, never silently cut
            raise RuntimeError(f"{midis[name]}: the rendering peaks at {peak:.3f}; lower the synthesizer's gain")
        tmp = folder / f".{name}.tmp.flac"
        sf.write(tmp, audio, sample_rate, subtype="PCM_24", format="FLAC")
        os.replace(tmp, folder / f"{name}.flac")
    if failed:
        log.warning("PercePiano: %d of %d MIDI files could not be rendered (named above) and are left out", failed, len(todo))
    return folder


def with_rating_bands(recordings: list[Recording]) -> list[Recording]:
    """Each recording with ``rating_band``: low, middle or high third of the mean of its 19 ratings, cut at the
    training split's tertiles (for `pjbench data check`'s shortcut table; no task reads it)."""
    from dataclasses import replace

    means = {r.id: float(np.mean(r.labels["ratings"])) for r in recordings}
    low, high = np.percentile([means[r.id] for r in recordings if r.split == "train"] or list(means.values()), [100 / 3, 200 / 3])
    band = {i: "low" if m < low else "high" if m >= high else "middle" for i, m in means.items()}
    return [replace(r, labels={**r.labels, "rating_band": band[r.id]}) for r in recordings]


def load_percepiano(
    name: str = "percepiano", build_missing: bool = True, audio_root: Path | None = None, fold: int = 0, timbre: str = DEFAULT_TIMBRE
) -> Dataset:
    """The dataset; ``audio_root``: a folder of the user's own audio named like the segments (any audio extension),
    instead of pjbench's rendering; ``fold``: which of the paper's four validation folds validates (both splits)."""
    files_root = unpacked()
    labels, midis, counts = segments(files_root)
    names = [SegmentName.parse(n) for n in labels]
    by_performer, by_piece = performer_split(names, fold), piece_split(names, fold)
    if audio_root is None:
        if not build_missing:
            folder = datasets_dir() / f"percepiano-audio-{render_key(timbre, SAMPLE_RATE)}"
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"PercePiano's audio is not rendered yet ({folder}): `pjbench extract --dataset percepiano --encoder mel` "
                    "renders it first (1,189 segments, a few minutes), or give your own with --audio-root DIR"
                )
        else:
            folder = rendered_audio(midis, timbre)
        source = f"rendered from the MIDI ({timbre}, {SAMPLE_RATE} Hz, gain {SET_GAIN:g})"
    else:
        folder = Path(audio_root)
        if not folder.is_dir():
            raise FileNotFoundError(f"--audio-root {folder} is not a folder")
        source = f"the user's audio under {folder}"
    index = AudioIndex(folder)
    recordings, missing = [], []
    for seg in names:
        path = index.find(stem=seg.name)
        if path is None:
            missing.append(seg.name)
            continue
        recordings.append(
            Recording(
                id=seg.name,
                path=path,
                split=by_performer[seg.name],
                groups={"piece": seg.excerpt, "performer": str(seg.performer_fold), "composition": seg.composition},
                labels={"ratings": labels[seg.name], "excerpt": seg.excerpt, "split/piece": by_piece[seg.name]},
            )
        )
    if missing:
        log.warning(
            "PercePiano: %d of %d rated segments have no audio under %s and are left out (e.g. %s)",
            len(missing),
            len(names),
            folder,
            missing[0],
        )
    if not recordings:
        raise FileNotFoundError(f"no PercePiano audio under {folder}: name the files like the segments (e.g. {names[0].name}.wav)")
    recordings = with_rating_bands(recordings)
    performer_leaks = [m for m in check_group_leakage(recordings) if m.startswith("performer")]
    if performer_leaks:  # pieces cross the performer split by design; performers must not
        raise ValueError(f"PercePiano: performers cross the performer split: {performer_leaks[:3]}")
    return Dataset(
        name=name,
        recordings=recordings,
        tasks=TASKS,
        root=folder,
        resample_group=("piece", "performer"),
        info={
            "groups_across_splits": ("piece", "composition"),
            "label_notes": ["pieces and their bars cross the performer split by design: test performers play music heard in training"],
            "source": source,
            "fold": fold,
            "left_out": {**counts, "no_audio": len(missing)},
            "provenance": provenance()["repository"],
        },
    )
