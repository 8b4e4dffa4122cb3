"""How a probe is trained: the settings of one run (head, seeds, schedule, learning rate...), read by the feeders,
the training loop, a probe run and the grid."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..precision import precision_suffix
from ..tasks import Task

TRAIN_PRECISIONS = ("fp32", "bf16")


def check_train_precision(precision: str) -> None:
    if precision not in TRAIN_PRECISIONS:
        raise ValueError(f"--precision {precision!r} for training: give fp32 or bf16 (fp16 training would need loss scaling)")


@dataclass(frozen=True)
class TrainConfig:
    head: str = "published"
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    lr: float | None = None  # None: the head's default (the task's paper lr for the published head)
    batch_size: int | None = None
    weight_decay: float = 0.01
    max_epochs: int = 100
    patience: int = 15
    max_segments: int = 30
    standardize: bool = False  # published head: standardise inputs with training-split frame statistics per dimension
    pos_weight_scale: float = 1.4  # multi-label: pos_weight = scale * (N - pos) / pos, as the paper
    device: str = "cpu"
    schedule: str = ""  # the named schedule these settings are, or custom-<hash>; "" lets the settings name it
    # the training examples' order each epoch: "seed" draws it from each seed (a seed fixes initial weights, dropout
    # and data order); "shared" draws it from order_seed for every seed (results written before 2026-12-04 trained so)
    data_order: str = "seed"
    order_seed: int = 0  # the order of every seed under data_order "shared"
    # the probe's arithmetic: "fp32", or "bf16" (forward passes under autocast; the weights, optimizer and losses stay
    # fp32). fp16 is not offered: its gradients would need loss scaling
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.data_order not in ("seed", "shared"):
            raise ValueError(f"data_order {self.data_order!r}: choose seed or shared")
        check_train_precision(self.precision)

    def record(self) -> dict[str, Any]:
        """The settings as a result file records them. fp32, the default, is left out, so the configurations (and
        their hashes) of results written before training had a precision stay the same."""
        out = asdict(self)
        if self.precision == "fp32":
            del out["precision"]
        return out

    def order_seeds(self, seeds: list[int]) -> list[int]:
        """The order seed of each training seed."""
        return list(seeds) if self.data_order == "seed" else [self.order_seed] * len(seeds)

    def lr_for(self, task: Task) -> float:
        return self.lr if self.lr is not None else task.lr

    def batch_size_for(self, task: Task) -> int:
        return self.batch_size or task.batch_size


def train_config(
    head: str,
    seeds: int,
    schedule: str = "paper",
    lr: float | None = None,
    batch_size: int | None = None,
    weight_decay: float | None = None,
    epochs: int | None = None,
    patience: int | None = None,
    standardize: bool | None = None,
    device: str = "cpu",
    precision: str = "fp32",
) -> TrainConfig:
    """A probe's training configuration, built by keyword in one place: the named schedule, then any explicit
    setting. A setting that changes the schedule makes it a variant of its own, ``custom-<hash>``, so its results
    never overwrite the schedule's; so does a precision other than fp32 (``paper-bf16``)."""
    from ..hashing import config_hash
    from ..heads import get_head, get_schedule

    for option, value, low in (("seeds", seeds, 1), ("epochs", epochs, 1), ("batch-size", batch_size, 1), ("patience", patience, 1)):
        if value is not None and value < low:
            raise ValueError(f"--{option} {value}: give at least {low}")
    if lr is not None and not lr > 0:
        raise ValueError(f"--lr {lr}: give a learning rate above 0")
    spec, named = get_head(head), get_schedule(schedule)
    base: dict[str, Any] = {"lr": spec.lr(named.lr), "batch_size": None, "weight_decay": 0.01, "max_epochs": named.max_epochs}
    base |= {"patience": named.patience, "standardize": named.standardize}
    asked: dict[str, Any] = {"lr": lr, "batch_size": batch_size, "weight_decay": weight_decay, "max_epochs": epochs, "patience": patience}
    asked["standardize"] = standardize
    chosen = {**base, **{k: v for k, v in asked.items() if v is not None}}
    variant = schedule if chosen == base else f"custom-{config_hash({'schedule': schedule, **chosen})[:8]}"
    variant += precision_suffix(precision)
    return TrainConfig(head=head, schedule=variant, seeds=tuple(range(seeds)), device=device, precision=precision, **chosen)
