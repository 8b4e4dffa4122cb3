"""How well the PISA models learn the player level on the embedded keyboard videos (CPU-sized runs).

    python research/pisa_learnability.py [--size small] [--frame-size 56] [--runs frozen:video:16:60,frozen:audio:16:60]

Renders the keyboard videos of the synthetic set if needed, builds the uniform-sampling clip cache and trains
each run (mode:modality:width:epochs, lr 1e-3, 2 seeds); prints one JSON line per run with the test metrics, the
test split's majority share and the MAE of always answering the training median. Results go to a scratch folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from pjbench.datasets import load_dataset
from pjbench.datasets.pisa import load_synthetic_pisa
from pjbench.datasets.synthetic.video import ANNOTATIONS, build_videos
from pjbench.experiments.clipcache import ClipReader, build_clip_cache
from pjbench.experiments.pisa import PisaConfig, run_pisa


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="small")
    ap.add_argument("--frame-size", type=int, default=56)
    ap.add_argument("--runs", default="frozen:video:16:60,frozen:audio:16:60,frozen:multimodal:16:60")
    args = ap.parse_args()
    ds_audio = load_dataset("synthetic" if args.size == "small" else f"synthetic-{args.size}")
    assert ds_audio.root is not None
    if not (ds_audio.root / ANNOTATIONS).exists():
        build_videos(ds_audio.root)
    ds = load_synthetic_pisa(ds_audio.root, f"{ds_audio.name}-video")
    clips = build_clip_cache(ds, "uniform", args.frame_size)
    reader = ClipReader(clips)
    levels = {s: np.array([reader.samples[i].attrs["level"] for i in reader.ids(s)]) for s in ("train", "test")}
    reader.close()
    baseline_mae = float(np.mean(np.abs(levels["test"] - np.median(levels["train"]))))
    scratch = Path(tempfile.mkdtemp(prefix="pisa-learnability-"))
    for run in args.runs.split(","):
        mode, modality, width, epochs = run.split(":")
        cfg = PisaConfig(
            modality=modality, sampling="uniform", mode=mode, width=int(width), frame_size=args.frame_size,
            epochs=int(epochs), patience=int(epochs), seeds=(0, 1), lr=1e-3,
        )  # fmt: skip
        start = time.perf_counter()
        result = run_pisa(ds, cfg, None, scratch, progress=False)
        print(
            json.dumps(
                {
                    "run": run,
                    "test": {k: round(v["mean"], 3) for k, v in result.scores.items()},
                    "heads": {h: {k: round(v["mean"], 3) for k, v in sc.items()} for h, sc in result.extra["heads"].items()},
                    "majority_share": round(result.counts["chance"], 3),
                    "median_guess_mae": round(baseline_mae, 3),
                    "counts": {k: result.counts[k] for k in ("n_train", "n_val", "n_test")},
                    "seconds": round(time.perf_counter() - start),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
