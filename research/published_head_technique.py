"""Why the published head stays at chance on technique-single (docs/synthetic.md, "The published head on technique").

Trains the published conv+attention head on the first 10-s segment of each clip (log-mel, standardised with
training statistics, AdamW lr 1e-3, batch 16, validation-selected epoch) and scores it on the pooled validation and
test splits of several synthetic datasets, so that two questions can be asked of the same test clips:

- more pieces: train on the training splits of 1, 2 or 3 datasets (`--train-sets`);
- more frequency resolution: `--full-frequency` strides the convolutions by 1 along the mel axis (all 128 bins kept;
  a diagnostic, not the published design);
- pooling over time: `--pool-time` replaces the flatten → linear projection by the mean and standard deviation over
  the time positions of the convolution map, then a linear layer (one set of weights for every position; a
  diagnostic of a possible deviation from the published design, not the design).

Run after `pjbench synth --size small --seed S` and `pjbench extract --encoder mel --dataset <its folder>` for S = 1, 2
(seed 0 is the default `synthetic` dataset):

    python research/published_head_technique.py --train-sets 3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from pjbench.datasets import load_dataset
from pjbench.datasets.base import Dataset
from pjbench.extraction.cache import CacheReader
from pjbench.heads import ConvAttentionProbe
from pjbench.paths import cache_dir, datasets_dir
from pjbench.probing.config import TrainConfig
from pjbench.probing.probe import split_examples
from pjbench.probing.train import set_seed
from pjbench.tasks import get_task
from pjbench.tasks.base import Example, Task


def log_mel_cache(dataset: Dataset) -> CacheReader:
    """The log-scaled mel cache of a dataset (a folder may also hold the power-scaled variant)."""
    for path in sorted((cache_dir() / dataset.name).glob("mel-*.h5")):
        reader = CacheReader(path)
        if json.loads(reader.attrs["config"])["encoder"]["options"]["scale"] == "log":
            return reader
    raise FileNotFoundError(f"no log-mel cache for {dataset.name}: run `pjbench extract --encoder mel --dataset ...`")


def first_segments(reader: CacheReader, examples: list[Example]) -> np.ndarray:
    return np.stack([reader.get(ex.ids[0]).embeddings[0, 0].astype(np.float32) for ex in examples])


def load_splits(task_name: str, seeds: list[int], train_sets: int) -> tuple[Task, dict[str, np.ndarray], dict[str, list[Example]]]:
    arrays: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    examples: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
    task = None
    for index, seed in enumerate(seeds):
        dataset = load_dataset("synthetic" if seed == 0 else str(datasets_dir() / f"synthetic-small-seed{seed}-24k"), build_missing=False)
        task = get_task(task_name, dataset)
        reader = log_mel_cache(dataset)
        splits, _ = split_examples(task, dataset, set(reader.ids()))
        for split, exs in splits.items():
            if split == "train" and index >= train_sets:
                continue
            arrays[split].append(first_segments(reader, exs))
            examples[split] += exs
    assert task is not None
    stacked = {split: np.concatenate(parts) for split, parts in arrays.items()}
    train = stacked["train"].reshape(-1, stacked["train"].shape[-1])
    mean, std = train.mean(0), train.std(0) + 1e-6
    return task, {split: (x - mean) / std for split, x in stacked.items()}, examples


class TimePooledProjection(torch.nn.Module):
    """(N, T*F) flattened conv map → mean and std over the T time positions → linear to d_model."""

    def __init__(self, time_positions: int, freq_positions: int, d_model: int) -> None:
        super().__init__()
        self.shape = (time_positions, freq_positions)
        self.linear = torch.nn.Linear(2 * freq_positions, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = x.view(-1, *self.shape)
        return self.linear(torch.cat([grid.mean(1), grid.std(1)], dim=1))


def make_head(task: Task, frames: int, dim: int, full_frequency: bool, pool_time: bool = False) -> ConvAttentionProbe:
    head = ConvAttentionProbe(frames, dim, task.n_classes, max_segments=1)
    if full_frequency:
        for conv in (head.conv[0], head.conv[4]):
            assert isinstance(conv, torch.nn.Conv2d)
            conv.stride, conv.padding = (5, 1), (1, 3)
    with torch.no_grad():
        conv_map = head.conv(torch.zeros(2, 1, frames, dim))
    if pool_time:
        head.project = TimePooledProjection(conv_map.shape[2], conv_map.shape[3], head.d_model)
    elif full_frequency:
        head.project = torch.nn.Linear(conv_map.flatten(1).shape[1], head.d_model)
    return head


def train_one(task: Task, x: dict[str, np.ndarray], examples: dict[str, list[Example]], seed: int, args: argparse.Namespace) -> dict:
    set_seed(seed)
    rng = np.random.default_rng(seed)
    head = make_head(task, x["train"].shape[1], x["train"].shape[2], args.full_frequency, args.pool_time)
    optimiser = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=0.01)
    loss_fn = task.loss(examples["train"], TrainConfig().pos_weight_scale, torch.device("cpu"))

    def logits(batch: np.ndarray) -> torch.Tensor:
        n = len(batch)
        return head(torch.from_numpy(batch)[:, None], torch.arange(n), torch.zeros(n, dtype=torch.long), n)

    def score(split: str) -> float:
        head.eval()
        with torch.no_grad():
            out = torch.cat([logits(x[split][i : i + 64]) for i in range(0, len(x[split]), 64)])
        return float(task.metrics(examples[split], task.probabilities(out).numpy())[task.primary_metric])

    best = {"val": -1.0, "epoch": -1, "test": float("nan")}
    for epoch in range(args.epochs):
        head.train()
        order = rng.permutation(len(x["train"]))
        for start in range(0, len(order), args.batch_size):
            idx = order[start : start + args.batch_size]
            target = task.targets([examples["train"][i] for i in idx], torch.device("cpu"))
            loss = loss_fn(logits(x["train"][idx]), target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        val = score("val")
        if val > best["val"]:
            best = {"val": val, "epoch": epoch, "test": score("test")}
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="technique-single")
    parser.add_argument("--datasets", type=int, nargs="+", default=[0, 1, 2], help="synthetic small seeds whose val/test splits are pooled")
    parser.add_argument("--train-sets", type=int, default=1, help="how many of those datasets contribute their training split")
    parser.add_argument("--full-frequency", action="store_true", help="stride 1 along the mel axis (diagnostic)")
    parser.add_argument("--pool-time", action="store_true", help="mean and std over time positions before the projection (diagnostic)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    task, x, examples = load_splits(args.task, args.datasets, args.train_sets)
    print(
        f"{args.task}: clips {', '.join(f'{k} {len(v)}' for k, v in x.items())}; full_frequency={args.full_frequency}, pool_time={args.pool_time}"
    )
    for seed in args.seeds:
        start = time.perf_counter()
        best = train_one(task, x, examples, seed, args)
        print(
            f"seed {seed}: test {100 * best['test']:.1f} at epoch {best['epoch']} (val {100 * best['val']:.1f}), {time.perf_counter() - start:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
