"""Extraction throughput: the full pipeline (decode, resample, segment, embed, write HDF5) against the
bare encoder forward pass on the same, already decoded audio; peak RSS per run; growing dataset sizes.

Run: python benchmarks/extraction_throughput.py [--encoder mel] [--sizes 50 100 200] [--dataset synthetic]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, peak_rss_mb, run_child  # noqa: E402


def measure(mode: str, encoder_name: str, dataset_name: str, n: int, batch_size: int) -> dict:
    import numpy as np
    import torch

    from pjbench.audio import load_audio
    from pjbench.datasets import load_dataset
    from pjbench.datasets.base import Dataset
    from pjbench.encoders import load_encoder
    from pjbench.extraction.extract import ExtractConfig, extract
    from pjbench.extraction.segments import SegmentConfig, segment

    full = load_dataset(dataset_name)
    ds = Dataset(f"bench-{n}", full.recordings[:n], full.tasks)
    encoder = load_encoder(encoder_name)
    if mode == "pipeline":
        with tempfile.TemporaryDirectory() as tmp:
            report = extract(ds, encoder, ExtractConfig(batch_size=batch_size), cache_root=Path(tmp), progress=False)
        return {"mode": mode, "n": n, "audio_s": report.audio_seconds, "wall_s": report.wall_seconds, "peak_rss_mb": peak_rss_mb()}
    # bare forward: decode and segment first (not timed), then time only encoder.embed on the same batches
    segs = [segment(load_audio(r.path, encoder.meta.sample_rate), encoder.meta.sample_rate, SegmentConfig()).audio for r in ds.recordings]
    audio_s = sum(len(load_audio(r.path, encoder.meta.sample_rate)) for r in ds.recordings) / encoder.meta.sample_rate
    batch = torch.from_numpy(np.concatenate(segs))
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(batch), batch_size):
            encoder.embed(batch[i : i + batch_size])
    return {"mode": mode, "n": n, "audio_s": audio_s, "wall_s": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="mel")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.encoder, args.dataset, int(args.child[1]), args.batch_size)))
        return
    print(f"machine: {machine()}; encoder {args.encoder}; dataset {args.dataset}\n")
    print(
        "| recordings | audio (min) | bare forward (x real time) | pipeline (x real time) | pipeline / bare time | peak RSS bare / pipeline (MB) |"
    )
    print("|---|---|---|---|---|---|")
    common = ["--encoder", args.encoder, "--dataset", args.dataset, "--batch-size", str(args.batch_size)]
    for n in args.sizes:
        bare = run_child(__file__, [*common, "--child", "bare", str(n)])
        pipe = run_child(__file__, [*common, "--child", "pipeline", str(n)])
        print(
            f"| {n} | {pipe['audio_s'] / 60:.1f} | {bare['audio_s'] / bare['wall_s']:.0f} | {pipe['audio_s'] / pipe['wall_s']:.0f} "
            f"| {pipe['wall_s'] / bare['wall_s']:.2f} | {bare['peak_rss_mb']:.0f} / {pipe['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
