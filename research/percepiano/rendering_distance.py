"""How far pjbench's rendering of PercePiano's MIDI is from the audio the raters heard: the one segment published as
heard (``example_heard_by_annotators.wav``, Beethoven WoO 80 var. 27, 8 bars, player 3, segment 15) against pjbench's
rendering of the same MIDI with each installed piano. Measures: level (RMS dBFS over the frames within 40 dB of the
loudest, so the silences do not count), spectral centroid (mean and the 10th-90th percentile band, Hz), onset rate and
librosa's tempo estimate, duration.

Run: python research/percepiano/rendering_distance.py [--heard PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SEGMENT = "Beethoven_WoO80_var27_8bars_3_15"
SR = 22050


def describe(audio: np.ndarray, sr: int) -> dict[str, float]:
    import librosa

    y = librosa.resample(audio.astype(np.float32), orig_sr=sr, target_sr=SR) if sr != SR else audio.astype(np.float32)
    rms = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)[0]
    db = 20 * np.log10(rms + 1e-10)
    active = db > db.max() - 40
    centroid = librosa.feature.spectral_centroid(y=y, sr=SR, n_fft=2048, hop_length=512)[0][active]
    onsets = librosa.onset.onset_detect(y=y, sr=SR, hop_length=512, units="time")
    tempo = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=SR, hop_length=512)[0])[0])
    return {
        "seconds": len(y) / SR,
        "level_dbfs": float(20 * np.log10(np.sqrt(np.mean(rms[active] ** 2)))),
        "centroid_hz": float(np.mean(centroid)),
        "centroid_p10": float(np.percentile(centroid, 10)),
        "centroid_p90": float(np.percentile(centroid, 90)),
        "onsets_per_s": len(onsets) / (len(y) / SR),
        "tempo_bpm": tempo,
    }


def main() -> None:
    import soundfile as sf

    from pjbench.datasets.percepiano.dataset import segments
    from pjbench.datasets.percepiano.files import unpacked
    from pjbench.datasets.percepiano.render import render_midi
    from pjbench.datasets.synthetic.render import available_timbres

    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "percepiano" / "example_heard_by_annotators.wav"
    parser.add_argument("--heard", type=Path, default=default)
    args = parser.parse_args()
    heard, sr = sf.read(args.heard, dtype="float32", always_2d=True)
    rows = {"heard by the raters": describe(heard.mean(axis=1), sr)}
    _, midis, _ = segments(unpacked())
    for timbre in available_timbres():
        rows[f"pjbench, {timbre.name}"] = describe(render_midi(midis[SEGMENT], timbre, 44100), 44100)
    keys = list(next(iter(rows.values())))
    print("| audio | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.1f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
