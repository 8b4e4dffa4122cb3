"""One training epoch of the published probe streamed from the HDF5 cache, against the same epoch
with every embedding preloaded in memory; peak RSS per run; growing dataset sizes.

Run: python benchmarks/probe_epoch.py [--encoder mel] [--sizes 100 200 400] [--task difficulty-3way]
(needs `pjbench extract --encoder mel --dataset synthetic` first)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, peak_rss_mb, run_child  # noqa: E402


class InMemory:
    """A CacheReader stand-in holding every recording in RAM (what streaming avoids)."""

    def __init__(self, reader, ids) -> None:
        self.records = {i: reader.get(i) for i in ids}
        self.frame_rate = reader.frame_rate

    def get(self, rec_id):
        return self.records[rec_id]

    def ids(self):
        return list(self.records)


def measure(mode: str, encoder: str, dataset: str, task_name: str, n: int) -> dict:
    import torch

    from pjbench.datasets import load_dataset
    from pjbench.extraction.cache import CacheReader
    from pjbench.paths import cache_dir
    from pjbench.probing.config import TrainConfig
    from pjbench.probing.feeders import SegmentFeeder
    from pjbench.probing.probe import find_cache
    from pjbench.tasks import get_task

    ds = load_dataset(dataset, build_missing=False)
    task = get_task(task_name, ds)
    examples = task.examples(ds.split("train"), ds.pair_group)[:n]
    reader = CacheReader(find_cache(ds, encoder, cache_dir()))
    ids = sorted({i for ex in examples for i in ex.ids})
    source = reader if mode == "streamed" else InMemory(reader, ids)
    feeder = SegmentFeeder(source, 30)  # type: ignore[arg-type]
    torch.manual_seed(0)
    model = feeder.make_model(task)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
    loss_fn = task.loss(examples, TrainConfig().pos_weight_scale, torch.device("cpu"))
    start = time.perf_counter()
    for inputs, chunk in feeder.batches(examples, task.batch_size, torch.device("cpu")):
        loss = loss_fn(model(*inputs), task.targets(chunk, torch.device("cpu")))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"mode": mode, "n": len(examples), "epoch_s": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="mel")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--task", default="difficulty-3way")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "N"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.encoder, args.dataset, args.task, int(args.child[1]))))
        return
    print(f"machine: {machine()}; encoder {args.encoder}; task {args.task}\n")
    print("| train examples | in-memory epoch (s) | streamed epoch (s) | streamed / in-memory | peak RSS in-memory / streamed (MB) |")
    print("|---|---|---|---|---|")
    common = ["--encoder", args.encoder, "--dataset", args.dataset, "--task", args.task]
    for n in args.sizes:
        mem = run_child(__file__, [*common, "--child", "memory", str(n)])
        st = run_child(__file__, [*common, "--child", "streamed", str(n)])
        print(
            f"| {st['n']} | {mem['epoch_s']:.1f} | {st['epoch_s']:.1f} | {st['epoch_s'] / mem['epoch_s']:.2f} | {mem['peak_rss_mb']:.0f} / {st['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
