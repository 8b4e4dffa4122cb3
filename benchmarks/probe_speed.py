"""A probe's seeds trained by this checkout against a revision before it, side by side: every run in a fresh
process, the two alternating, on the same cache and task.

Each run trains the task's 5 seeds for a fixed number of epochs (patience off, so every seed runs every epoch) and
reports seconds per seed-epoch (training steps and validation) and the whole task's wall time (feeder, training,
validation, test predictions).

Run: python benchmarks/probe_speed.py --before f9f5246 [--task expertise-2way] [--head published] [--epochs 3]
(needs `pjbench extract --encoder mel --dataset synthetic` first; `--before` is checked out into a temporary git
worktree)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, peak_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def child(task_name: str, head: str, epochs: int, seeds: int) -> dict:
    import torch

    from pjbench.datasets import load_dataset
    from pjbench.extraction.cache import CacheReader
    from pjbench.paths import cache_dir
    from pjbench.probing import train as train_module
    from pjbench.probing.config import train_config
    from pjbench.probing.probe import find_cache, make_feeder, split_examples
    from pjbench.tasks import get_task

    started = time.perf_counter()
    ds = load_dataset("synthetic", build_missing=False)
    task = get_task(task_name, ds)
    reader = CacheReader(find_cache(ds, "mel", cache_dir()))
    splits, _ = split_examples(task, ds, set(reader.ids()))
    base = train_config(head, seeds, "fast")
    cfg = type(base)(**{**base.__dict__, "max_epochs": epochs, "patience": 10 * epochs})
    if hasattr(train_module, "deterministic_torch"):
        train_module.deterministic_torch()
    else:  # the code before
        torch.use_deterministic_algorithms(True, warn_only=True)
    feeder = make_feeder(cfg, reader, splits)
    begin = time.perf_counter()
    if hasattr(train_module, "train_seeds"):
        outcomes = [o for _, o in train_module.train_seeds(task, feeder, splits, cfg, progress=False)]
    else:  # the code before: one seed after another
        outcomes = [train_module.train_model(task, feeder, splits, cfg, s, progress=False)[1] for s in cfg.seeds]
    trained = time.perf_counter() - begin
    reader.close()
    return {
        "seed_epoch_s": sum(o.train_seconds for o in outcomes) / sum(o.epochs_run for o in outcomes),
        "train_and_predict_s": trained,
        "task_s": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
        "test": [round(o.test[task.primary_metric], 4) for o in outcomes],
    }


def run(tree: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--task",
        args.task,
        "--head",
        args.head,
        "--epochs",
        str(args.epochs),
        "--seeds",
        str(args.seeds),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="f9f5246", help="the git revision to compare against")
    parser.add_argument("--task", default="expertise-2way")
    parser.add_argument("--head", default="published")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.task, args.head, args.epochs, args.seeds)))
        return
    print(f"# {machine()}; {args.task}, {args.head} head, {args.seeds} seeds x {args.epochs} epochs; before = {args.before}")
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.before], check=True, capture_output=True)
        try:
            rows = []
            for repeat in range(args.repeats):
                for name, tree in (("before", before), ("after", ROOT)):
                    r = run(tree, args)
                    rows.append((name, r))
                    print(
                        f"{name:6s} run {repeat + 1}: {r['seed_epoch_s']:.2f} s per seed-epoch, whole task {r['task_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB, test {r['test']}",
                        flush=True,
                    )
            per = {n: [r["seed_epoch_s"] for m, r in rows if m == n] for n in ("before", "after")}
            task = {n: [r["task_s"] for m, r in rows if m == n] for n in ("before", "after")}
            print(
                f"speed-up per seed-epoch: {min(per['before']) / min(per['after']):.2f}x (best of each); whole task {min(task['before']) / min(task['after']):.2f}x"
            )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False, capture_output=True)


if __name__ == "__main__":
    main()
