"""Feature error of lower-precision extraction: each encoder's features under bf16 (and, on a GPU, fp16) autocast
against fp32, on the same 10-s segments, with the time of each.

Encoders: transkun with its real weights (the only trained network here), the mel baseline, and MERT (both shapes),
Audio-MAE and Jukebox as the tiny random models of the fidelity fixtures (their real checkpoints cannot be
downloaded here: their numbers show the arithmetic's error on the real architectures, not a trained model's).

Run: python benchmarks/precision.py [--device cpu|cuda] [--precisions bf16 fp16]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))
import fidelity_signals as signals  # noqa: E402
from common import machine  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "fidelity"


def encoders():
    from pjbench.encoders import load_encoder

    yield "transkun (real weights)", load_encoder("transkun")
    yield "mel", load_encoder("mel")
    yield "mert 330M-shape (tiny random)", load_encoder("mert", checkpoint=str(FIXTURES / "mert-v1-330m-tiny"))
    yield "mert 95M-shape (tiny random)", load_encoder("mert-95m", checkpoint=str(FIXTURES / "mert-v1-95m-tiny"))
    ckpt = str(FIXTURES / "audiomae-finetuned-tiny" / "finetuned.pth")
    yield "audiomae finetuned (tiny random)", load_encoder("audiomae", checkpoint=ckpt, heads=2)
    yield "jukebox (tiny random)", load_encoder("jukebox", checkpoint=str(FIXTURES / "jukebox-vqvae-tiny" / "vqvae.pth.tar"), width=16)


def batch(sample_rate: int) -> torch.Tensor:
    waves = [
        signals.chord(sample_rate, 10.0),
        signals.silence_then_noise(sample_rate, 10.0, 3.0),
        signals.quiet_then_loud(sample_rate, 10.0),
    ]
    return torch.from_numpy(np.stack(waves))


def run(encoder, audio: torch.Tensor, precision: str, device: torch.device) -> tuple[torch.Tensor, float]:
    from pjbench.extraction.extract import autocast_for

    with torch.inference_mode(), autocast_for(precision, device):
        encoder.embed(audio[:1].to(device))  # warm-up
        start = time.perf_counter()
        out = encoder.embed(audio.to(device)).float().cpu()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", nargs="+", default=None, help="default: bf16 on a CPU, bf16 and fp16 on a GPU")
    args = parser.parse_args()
    device = torch.device(args.device)
    precisions = args.precisions or (["bf16"] if device.type == "cpu" else ["bf16", "fp16"])
    rows = []
    for name, encoder in encoders():
        encoder.to(device)
        audio = batch(encoder.meta.sample_rate)
        reference, fp32_s = run(encoder, audio, "fp32", device)
        for precision in precisions:
            out, seconds = run(encoder, audio, precision, device)
            diff = (out - reference).flatten(2)  # (batch, layers, frames * dim)
            relative = diff.norm(dim=2) / reference.flatten(2).norm(dim=2).clamp(min=1e-12)
            row = {
                "encoder": name,
                "precision": precision,
                "relative_error_last_layer": float(relative[:, -1].max()),
                "relative_error_worst_layer": float(relative.max()),
                "max_abs_error_over_max_abs": float(diff.abs().max() / reference.abs().max()),
                "time_ratio_vs_fp32": seconds / fp32_s,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{machine()}, device {device}\n")
    print("| encoder | precision | rel. error, last layer | rel. error, worst layer | max abs error / max abs | time vs fp32 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['encoder']} | {r['precision']} | {r['relative_error_last_layer']:.2e} | {r['relative_error_worst_layer']:.2e} "
            f"| {r['max_abs_error_over_max_abs']:.2e} | {r['time_ratio_vs_fp32']:.2f} |"
        )


if __name__ == "__main__":
    main()
