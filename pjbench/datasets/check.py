"""`pjbench data check`: leakage and shortcut report for a dataset.

Leakage: any group (performer, piece, source video) or audio file on two sides of the split.
Shortcuts: properties a probe could learn instead of the task — duration, codec, sample rate,
channel count — tabulated per label, and scored by how well each property *alone* predicts the
label (cross-validated balanced accuracy of a depth-3 decision tree, against chance). PLD's
virtuoso level is commercial mp3 while the others are YouTube audio: this is where that shows.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import AudioError, AudioInfo, probe_audio
from ..progress import progress_bar
from .base import SPLITS, Dataset
from .labels import label_findings

log = logging.getLogger(__name__)

LABEL_KEYS: dict[str, str] = {
    "pld-expertise": "expertise",
    "cipi-difficulty": "difficulty",
    "pld-technique": "technique_primary",
    "icpc2015": "stage",
    "percepiano": "rating_band",  # the 19 ratings' mean, in thirds: can a file property alone tell how well it is rated?
}
PROPERTIES: tuple[str, ...] = ("duration", "codec", "sample_rate", "channels")


SHORTCUT_MARGIN = 0.15  # balanced accuracy this far above chance from one property alone is reported as a shortcut


@dataclass
class CheckReport:
    dataset: str
    label_key: str
    counts: dict[str, dict[str, int]]  # split -> label -> recordings
    leaks: list[str]
    shared_files: list[str]
    missing: list[dict[str, str]]
    unreadable: dict[str, str]
    per_label: dict[str, dict[str, Any]]  # label -> property summaries
    shortcut_scores: dict[str, dict[str, float]]  # property -> {balanced_accuracy, chance}
    label_notes: list[str] = field(default_factory=list)
    label_findings: list[str] = field(default_factory=list)  # degenerate labels (datasets/labels.py)
    values: dict[str, list[tuple[str, AudioInfo]]] = field(default_factory=dict)  # label -> per-file info, for the plot

    def is_shortcut(self, prop: str, margin: float = SHORTCUT_MARGIN) -> bool:
        s = self.shortcut_scores[prop]
        return s["balanced_accuracy"] >= s["chance"] + margin

    def warnings(self, margin: float = SHORTCUT_MARGIN) -> list[str]:
        out = [f"leak: {x}" for x in self.leaks] + [f"the same audio file on two sides: {x}" for x in self.shared_files]
        out += [f"labels: {x}" for x in self.label_findings]
        for prop, s in self.shortcut_scores.items():
            if self.is_shortcut(prop, margin):
                out.append(
                    f"shortcut: {prop} alone predicts the {self.label_key} label with balanced accuracy "
                    f"{100 * s['balanced_accuracy']:.0f}% (chance {100 * s['chance']:.0f}%)"
                )
        return out


def label_key(dataset: Dataset) -> str:
    if dataset.name in LABEL_KEYS:
        return LABEL_KEYS[dataset.name]
    for key in ("expertise", "label", "difficulty"):
        if dataset.recordings and key in dataset.recordings[0].labels:
            return key
    return next(iter(dataset.recordings[0].labels))


def _property_score(x: np.ndarray, y: np.ndarray, categorical: bool) -> dict[str, float]:
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier

    classes, counts = np.unique(y, return_counts=True)
    chance = 1.0 / len(classes)
    folds = int(min(5, counts.min()))
    if len(classes) < 2 or folds < 2:
        return {"balanced_accuracy": float("nan"), "chance": chance}
    if categorical:
        values = sorted(set(x.tolist()))
        features = np.array([[v == u for u in values] for v in x], dtype=float)
    else:
        features = x.astype(float).reshape(-1, 1)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    pred = cross_val_predict(tree, features, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    return {"balanced_accuracy": float(balanced_accuracy_score(y, pred)), "chance": chance}


def check_dataset(dataset: Dataset, progress: bool = True) -> CheckReport:
    key = label_key(dataset)
    found = label_findings(dataset, key)
    counts: dict[str, dict[str, int]] = {s: {} for s in SPLITS}
    for rec in dataset.recordings:
        lbl = str(rec.labels[key])
        counts[rec.split][lbl] = counts[rec.split].get(lbl, 0) + 1

    splits_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rec in dataset.recordings:
        for kind, value in rec.groups.items():
            splits_of[(kind, value)].add(rec.split)
    crossing = set(dataset.info.get("groups_across_splits", ()))  # by design (PercePiano's performer split: pieces)
    leaks = [f"{kind} {value!r} in {sorted(s)}" for (kind, value), s in sorted(splits_of.items()) if len(s) > 1 and kind not in crossing]
    by_file: dict[Path, list[str]] = defaultdict(list)
    for rec in dataset.recordings:
        by_file[rec.path.resolve()].append(rec.id)
    split_of = {r.id: r.split for r in dataset.recordings}
    shared = [f"{p} ({', '.join(ids)})" for p, ids in by_file.items() if len({split_of[i] for i in ids}) > 1]

    infos: dict[str, list[tuple[str, AudioInfo]]] = defaultdict(list)
    unreadable = {}
    for rec in progress_bar(dataset.recordings, desc=f"check {dataset.name}", unit="file", enabled=progress):
        try:
            infos[str(rec.labels[key])].append((rec.id, probe_audio(rec.path)))
        except AudioError as err:
            unreadable[rec.id] = str(err)

    per_label: dict[str, dict[str, Any]] = {}
    for lbl, items in sorted(infos.items()):
        durations = np.array([i.duration for _, i in items])
        per_label[lbl] = {
            "n": len(items),
            "duration_median": float(np.median(durations)),
            "duration_iqr": [float(np.percentile(durations, 25)), float(np.percentile(durations, 75))],
            "codec": dict(Counter(i.codec for _, i in items).most_common()),
            "sample_rate": dict(Counter(str(i.sample_rate) for _, i in items).most_common()),
            "channels": dict(Counter(str(i.channels) for _, i in items).most_common()),
        }
    y = np.array([lbl for lbl, items in infos.items() for _ in items])
    flat = [i for items in infos.values() for _, i in items]
    scores = {}
    if len(set(y.tolist())) > 1:
        for prop in PROPERTIES:
            x = np.array([getattr(i, prop) for i in flat], dtype=object if prop == "codec" else float)
            scores[prop] = _property_score(x, y, categorical=prop != "duration")
    return CheckReport(
        dataset=dataset.name,
        label_key=key,
        counts=counts,
        leaks=leaks,
        shared_files=shared,
        missing=list(dataset.info.get("missing", [])),
        unreadable=unreadable,
        per_label=per_label,
        shortcut_scores=scores,
        label_notes=list(dataset.info.get("label_notes", [])),
        label_findings=[f"{text} (a probe refuses this)" for text in found.refusals] + found.warnings,
        values=dict(sorted(infos.items())),
    )


def render_text(report: CheckReport) -> str:
    lines = [f"# data check: {report.dataset} (label: {report.label_key})", ""]
    labels = sorted({lbl for c in report.counts.values() for lbl in c})
    lines.append("recordings with audio per split and label:")
    lines.append("  " + "split".ljust(8) + "".join(str(lbl)[:14].rjust(15) for lbl in labels) + "total".rjust(8))
    for split, c in report.counts.items():
        lines.append("  " + split.ljust(8) + "".join(str(c.get(lbl, 0)).rjust(15) for lbl in labels) + str(sum(c.values())).rjust(8))
    lines += ["", f"leakage: {len(report.leaks)} group(s) and {len(report.shared_files)} audio file(s) on two sides of the split"]
    lines += [f"  {x}" for x in (report.leaks + report.shared_files)[:20]]
    lines += ["", f"missing audio: {len(report.missing)} label row(s)"]
    by_split = Counter(m.get("split", "?") for m in report.missing)
    if report.missing:
        lines.append("  per split: " + ", ".join(f"{k} {v}" for k, v in sorted(by_split.items())))
        lines += [f"  {m['id']}: expected {m['expected']}" for m in report.missing[:10]]
        if len(report.missing) > 10:
            lines.append(f"  ... and {len(report.missing) - 10} more (see the CSV)")
    if report.unreadable:
        lines += ["", f"unreadable audio: {len(report.unreadable)}"] + [f"  {v}" for v in list(report.unreadable.values())[:10]]
    lines += ["", "per label: duration median [IQR] s; codec; sample rate; channels"]
    for lbl, s in report.per_label.items():
        lines.append(
            f"  {lbl}: n={s['n']}, {s['duration_median']:.0f} [{s['duration_iqr'][0]:.0f}-{s['duration_iqr'][1]:.0f}] s; "
            f"{_top(s['codec'])}; {_top(s['sample_rate'])} Hz; {_top(s['channels'])} ch"
        )
    lines += ["", "shortcuts: balanced accuracy of the property alone (depth-3 tree, cross-validated) vs chance"]
    for prop, s in report.shortcut_scores.items():
        lines.append(f"  {prop:12s} {100 * s['balanced_accuracy']:5.1f}%  (chance {100 * s['chance']:.1f}%)")
    warnings = report.warnings()
    lines += ["", f"warnings: {len(warnings)}"] + [f"  ! {w}" for w in warnings]
    if report.label_notes:
        lines += ["", f"label-file notes ({len(report.label_notes)}, resolved by the documented rules):"] + [
            f"  {n}" for n in report.label_notes
        ]
    return "\n".join(lines) + "\n"


def _top(counter: dict[str, int], k: int = 3) -> str:
    total = sum(counter.values())
    return ", ".join(f"{v} {100 * n / total:.0f}%" for v, n in list(counter.items())[:k])


def plot_report(report: CheckReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(report.values)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    seconds = [[i.duration for _, i in report.values[lbl]] for lbl in labels]
    in_minutes = float(np.median([d for ds in seconds for d in ds] or [0.0])) >= 120  # clips in seconds, recitals in minutes
    durations = [[d / 60 for d in ds] for ds in seconds] if in_minutes else seconds
    axes[0].boxplot(durations, showfliers=False)
    axes[0].set_xticks(range(1, len(labels) + 1), [str(x)[:10] for x in labels], rotation=30)
    axes[0].set_ylabel("duration (min)" if in_minutes else "duration (s)")
    axes[0].set_title("duration per label")
    codecs = sorted({i.codec for lbl in labels for _, i in report.values[lbl]})
    bottom = np.zeros(len(labels))
    for codec in codecs:
        share = np.array([np.mean([i.codec == codec for _, i in report.values[lbl]]) for lbl in labels])
        axes[1].bar(range(len(labels)), share, bottom=bottom, label=codec)
        bottom += share
    axes[1].set_xticks(range(len(labels)), [str(x)[:10] for x in labels], rotation=30)
    axes[1].set_title("codec share per label")
    axes[1].legend(fontsize=7)
    props = list(report.shortcut_scores)
    # red only where the property alone is a shortcut (the report's warning), grey otherwise
    colours = ["tab:red" if report.is_shortcut(p) else "tab:grey" for p in props]
    axes[2].bar(props, [100 * report.shortcut_scores[p]["balanced_accuracy"] for p in props], color=colours)
    if props:
        axes[2].axhline(100 * report.shortcut_scores[props[0]]["chance"], color="k", ls="--", label="chance")
        axes[2].legend(fontsize=7)
    axes[2].set_ylabel("balanced accuracy (%)")
    axes[2].set_title("label predicted from the property alone")
    fig.suptitle(f"{report.dataset}: shortcut check")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
