"""PNG plots next to each result: a confusion matrix, or per-class AP for multi-label tasks, or the ICPC-2015 win
counts of a transfer result (:func:`plot_for` picks by what the result holds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from .record import TaskResult


def plot_result(result: TaskResult, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=110)
    title = f"{result.dataset} / {result.encoder} / {result.head}\n{result.task}"
    if result.confusion is not None:
        cm = np.array(result.confusion, dtype=float)
        norm = cm / np.clip(cm.sum(1, keepdims=True), 1, None)
        im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        labels = result.classes
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                if cm[i, j]:
                    ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        fig.colorbar(im, ax=ax, fraction=0.046, label="row share (test, all seeds)")
    else:
        aps = {k.split("/", 1)[1]: v for k, v in result.scores.items() if k.startswith("AP/")}
        names = list(aps)
        ax.barh(names, [aps[n]["mean"] for n in names], xerr=[np.nan_to_num(aps[n]["ci95"]) for n in names], color="tab:blue")
        ax.axvline(result.counts.get("chance", 0), color="grey", ls="--", label="mean prevalence")
        ax.set_xlim(0, 1)
        ax.set_xlabel("average precision (test, mean ± 95% CI over seeds)")
        ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_win_counts(ranking: list[dict], path: Path) -> Path:
    """The paper's Figure 2: each candidate at its win count; y = share of candidates with at least that
    many wins who passed the preliminary round (the hit rate of that threshold); colour = stage reached."""
    wins = np.array([r["mean_wins"] for r in ranking])
    passed = np.array([r["stage"] > 0 for r in ranking])
    hit_rate = np.array([passed[wins >= w].mean() for w in wins])
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    stages = sorted({r["stage"] for r in ranking})
    colours = plt.get_cmap("viridis", max(len(stages), 2))
    for k, stage in enumerate(stages):
        mask = np.array([r["stage"] == stage for r in ranking])
        name = next(r["stage_name"] for r in ranking if r["stage"] == stage)
        ax.scatter(wins[mask], 100 * hit_rate[mask], color=colours(k), s=22, label=f"reached {name}", edgecolor="k", linewidth=0.3)
    ax.axvline(float(np.median(wins)), color="red", ls="--", lw=1, label="half of the candidates")
    ax.axhline(100 * passed.mean(), color="grey", ls=":", lw=1, label="pass rate of all")
    ax.set_xlabel("predicted win count (threshold)")
    ax.set_ylabel("passed the preliminary round (%) among\ncandidates with at least this many wins")
    ax.set_title("ICPC-2015: win count vs preliminary pass rate", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_for(result: TaskResult, path: Path) -> Path:
    """The plot a result gets: a transfer result's candidate ranking as the paper's Figure 2, else its scores."""
    if "ranking" in result.extra:
        return plot_win_counts(result.extra["ranking"], path)
    return plot_result(result, path)
