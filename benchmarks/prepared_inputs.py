"""The published head's epoch with its prepared inputs kept in RAM ($PJBENCH_MEMORY_BUDGET_MB, default 2048) against
the same epochs reading every recording from the cache each time it is used (budget 0, the code before), side by side
in one process, alternating; the training losses are asserted identical.

Run: python benchmarks/prepared_inputs.py [--task expertise-2way] [--epochs 3] [--repeats 2]
(needs `pjbench extract --encoder mel --dataset synthetic` first)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402


def epochs(task_name: str, budget_mb: int, n_epochs: int) -> tuple[list[float], list[float]]:
    import torch

    from pjbench.datasets import load_dataset
    from pjbench.extraction.cache import CacheReader
    from pjbench.paths import cache_dir
    from pjbench.probing import feeders
    from pjbench.probing.config import train_config
    from pjbench.probing.probe import find_cache, make_feeder, split_examples
    from pjbench.tasks import get_task

    os.environ[feeders.MEMORY_BUDGET_ENV] = str(budget_mb)
    ds = load_dataset("synthetic", build_missing=False)
    task = get_task(task_name, ds)
    reader = CacheReader(find_cache(ds, "mel", cache_dir()))
    splits, _ = split_examples(task, ds, set(reader.ids()))
    feeder = make_feeder(train_config("published", 1, "fast"), reader, splits)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(0)
    model = feeder.make_model(task)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = task.loss(splits["train"], 1.4, torch.device("cpu"))
    times, losses = [], []
    for _ in range(n_epochs):
        start = time.perf_counter()
        for inputs, chunk in feeder.batches(splits["train"], task.batch_size, torch.device("cpu")):
            loss = loss_fn(model(*inputs), task.targets(chunk, torch.device("cpu")))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        times.append(time.perf_counter() - start)
    reader.close()
    return times, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="expertise-2way")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}; task {args.task}\n")
    print("| repeat | epochs, budget 0 (s) | epochs, budget 2048 MB (s) | later epochs: before / after |")
    print("|---|---|---|---|")
    for k in range(args.repeats):
        before, losses_before = epochs(args.task, 0, args.epochs)
        after, losses_after = epochs(args.task, 2048, args.epochs)
        assert losses_before == losses_after, "the kept inputs changed the training"
        ratio = sum(before[1:]) / sum(after[1:])
        print(f"| {k + 1} | {', '.join(f'{t:.2f}' for t in before)} | {', '.join(f'{t:.2f}' for t in after)} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
