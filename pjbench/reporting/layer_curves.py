"""Layer-wise probing curves: a task's score, with its 95% interval, against the stored layer probed alone, beside
the learned layer mix (its score, and the weight it gave each layer). The layer a researcher would pick is the one
with the best *validation* score (``chosen``); its test score is then an honest estimate, where the best test score
of several layers is a maximum over noisy numbers (selection on test).

Written by ``pjbench probe --layers each`` per task and head, next to the per-layer results:
``<dataset>/<encoder>/layers/<task>.<head>-<schedule>.layer-curve.csv`` and ``.png``.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..results.record import TaskResult
from .leaderboard import UNSCALED, chance_levels, interval

FIELDS = (
    "dataset",
    "encoder",
    "task",
    "head",
    "schedule",
    "layer",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "n_seeds",
    "val_mean",
    "chosen",
    "chance",
    "mix_weight",
    "mix_weight_sd",
)


def mix_weights(mix: TaskResult | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The layer mix's softmax weights per layer: mean and standard deviation over its seeds (None: no mix)."""
    weights = [s["layer_weights"] for s in (mix.per_seed if mix else []) if s.get("layer_weights")]
    if not weights:
        return None
    stacked = np.array(weights, dtype=float)
    return stacked.mean(0), stacked.std(0)


def curve_rows(per_layer: list[TaskResult], mix: TaskResult | None) -> list[dict[str, object]]:
    """One row per layer probed alone, then one for the mix (layer "mix"), on the primary metric; ``chosen`` marks
    the single layer with the best validation score (mean over seeds; the first on a tie)."""
    first = per_layer[0]
    metric = first.primary_metric
    weights = mix_weights(mix)
    chosen = chosen_layer(per_layer)
    rows: list[dict[str, object]] = []
    for result in [*sorted(per_layer, key=lambda r: r.layer or 0), *([mix] if mix else [])]:
        score = result.scores[metric]
        low, high = interval(score)
        chance = chance_levels(result).get(metric)
        k = result.layer
        rows.append(
            {
                "dataset": result.dataset,
                "encoder": result.encoder,
                "task": result.task,
                "head": result.head,
                "schedule": result.variant,
                "layer": "mix" if k is None else k,
                "metric": metric,
                "mean": score["mean"],
                "ci_low": low,
                "ci_high": high,
                "n_seeds": len(result.per_seed),
                "val_mean": validation_mean(result),
                "chosen": k is not None and k == chosen,
                "chance": "" if chance is None else chance,
                "mix_weight": "" if weights is None or k is None or k >= len(weights[0]) else float(weights[0][k]),
                "mix_weight_sd": "" if weights is None or k is None or k >= len(weights[1]) else float(weights[1][k]),
            }
        )
    return rows


def validation_mean(result: TaskResult) -> float:
    """The primary metric on the validation split, mean over seeds (NaN where a seed did not record it)."""
    values = [s.get("val", {}).get(result.primary_metric, math.nan) for s in result.per_seed]
    return float(np.mean(values)) if values else math.nan


def chosen_layer(per_layer: list[TaskResult]) -> int | None:
    """The layer with the best validation score (the first on a tie); None when no layer recorded one."""
    scored = [(validation_mean(r), -(r.layer or 0), r.layer or 0) for r in per_layer]
    scored = [x for x in scored if math.isfinite(x[0])]
    return max(scored)[2] if scored else None


def curve_path(per_layer: TaskResult, results_dir: Path, suffix: str) -> Path:
    folder = per_layer.path(results_dir).parent
    return folder / f"{per_layer.task}.{per_layer.label}.layer-curve{suffix}"


def write_layer_curve(per_layer: list[TaskResult], mix: TaskResult | None, results_dir: Path) -> tuple[Path, Path]:
    """The CSV and the PNG of one task's curve (``per_layer``: one result per stored layer, same task and head)."""
    if not per_layer or len({(r.task, r.label) for r in per_layer}) != 1:
        raise ValueError("a layer curve needs results of one task and head")
    rows = curve_rows(per_layer, mix)
    csv_path = curve_path(per_layer[0], results_dir, ".csv")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    png_path = curve_path(per_layer[0], results_dir, ".png")
    _plot(rows, mix_weights(mix), png_path)
    return csv_path, png_path


def _plot(rows: list[dict[str, object]], weights: tuple[np.ndarray, np.ndarray] | None, path: Path) -> None:
    layers = [r for r in rows if r["layer"] != "mix"]
    mix = next((r for r in rows if r["layer"] == "mix"), None)
    first = rows[0]
    scale = 1.0 if first["metric"] in UNSCALED else 100.0
    fig, axes = plt.subplots(1, 2 if weights is not None else 1, figsize=(10 if weights is not None else 6, 4), dpi=110, squeeze=False)
    ax = axes[0, 0]
    x = np.array([int(str(r["layer"])) for r in layers])
    mean = np.array([float(str(r["mean"])) for r in layers]) * scale
    low = np.array([float(str(r["ci_low"])) for r in layers]) * scale
    high = np.array([float(str(r["ci_high"])) for r in layers]) * scale
    ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker="o", capsize=3, color="tab:blue", label="one layer alone (95% interval)")
    chosen = [(xi, mi) for xi, mi, r in zip(x, mean, layers) if r["chosen"]]
    if chosen:
        ax.plot(*zip(*chosen), marker="*", markersize=14, color="tab:green", ls="none", label="chosen on validation")
    if mix is not None:
        m, lo, hi = (float(str(mix[k])) * scale for k in ("mean", "ci_low", "ci_high"))
        ax.axhline(m, color="tab:orange", label="learned layer mix")
        ax.axhspan(lo, hi, color="tab:orange", alpha=0.15)
    if first["chance"] != "" and not math.isnan(float(str(first["chance"]))):
        ax.axhline(float(str(first["chance"])) * scale, color="grey", ls=":", label="chance")
    ax.set_xticks(x)
    ax.set_xlabel("layer (0: the input to the first layer)")
    ax.set_ylabel(f"{first['metric']} (test{', %' if scale == 100.0 else ''})")
    ax.set_title(f"{first['encoder']} / {first['task']} / {first['head']}-{first['schedule']}", fontsize=9)
    ax.legend(fontsize=7)
    if weights is not None:
        wx = axes[0, 1]
        wx.bar(np.arange(len(weights[0])), weights[0], yerr=weights[1], color="tab:orange", capsize=3)
        wx.set_xticks(np.arange(len(weights[0])))
        wx.set_xlabel("layer")
        wx.set_ylabel("weight (softmax; mean ± sd over seeds)")
        wx.set_title("the layer mix's learned weights", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
