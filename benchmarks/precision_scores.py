"""Probe scores of a bf16 cache against an fp32 one: the same encoder, dataset, head, schedule and seeds, only the
extraction's arithmetic differs; each task's difference with its paired 95% interval (`pjbench compare`).

Whole commands, timed: `pjbench extract --precision P` then `pjbench probe --head H` per task, into a results folder
per precision. Default: mel on the synthetic small set, the linear head at the paper schedule, 5 seeds.

Run: python benchmarks/precision_scores.py [--encoder mel] [--head linear] [--seeds 5] [--size small] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYNTHETIC_TASKS = [
    "expertise-2way",
    "expertise-3way",
    "expertise-4way",
    "difficulty-3way",
    "difficulty-9way",
    "technique-multilabel",
    "technique-single",
]


def pjbench(*args: str) -> tuple[str, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pjbench", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"pjbench {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="mel")
    parser.add_argument("--head", default="linear")
    parser.add_argument("--seeds", default="5")
    parser.add_argument("--size", default="small")
    parser.add_argument("--precisions", nargs=2, default=["fp32", "bf16"])
    parser.add_argument("--tasks", nargs="+", default=SYNTHETIC_TASKS)
    parser.add_argument("--work", type=Path, default=None, help="cache and results here (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="pjbench-precision-"))
    pjbench("synth", "--size", args.size)
    timings: dict[str, float] = {}
    results: dict[str, Path] = {}
    for precision in args.precisions:
        out, seconds = pjbench(
            "extract", "-e", args.encoder, "--dataset", "synthetic", "--precision", precision, "--cache-dir", str(work / "cache")
        )
        timings[f"extract {precision}"] = seconds
        cache = Path(re.findall(r"-> (\S+\.h5)", out)[-1])
        results[precision] = work / f"results-{precision}"
        start = time.perf_counter()
        for task in args.tasks:
            pjbench(
                "probe", "--task", task, "--encoder", args.encoder, "--dataset", "synthetic", "--cache", str(cache),
                "--head", args.head, "--seeds", args.seeds, "--no-baselines", "--results-dir", str(results[precision]),
            )  # fmt: skip
        timings[f"probe {precision}"] = time.perf_counter() - start
    low, high = args.precisions
    print(json.dumps(timings))
    print(f"\n{args.encoder}, {args.head} head, {args.seeds} seeds, synthetic {args.size}: {high} minus {low} (paired, 95%)\n")
    for task in args.tasks:
        a = next((results[high] / "synthetic" / args.encoder).glob(f"{task}.{args.head}-*.json"))
        b = results[low] / "synthetic" / args.encoder / a.name
        out, _ = pjbench("compare", str(a), str(b))
        print(f"{task}: {out.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
