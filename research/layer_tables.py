"""The layer tables of docs/layers.md, generated from a results folder's per-layer results (``--layers each``):
per task, each layer's test score alone with its 95% interval and the mix's, the layer **chosen on validation** in
bold (never the best test score: a maximum over the layers' noisy test scores is selection on test), and the mix's
learned weights. Written between ``<!-- generated: ENCODER-layers -->`` / ``<!-- generated: ENCODER-mix-weights -->``
marks and their ends.

    python research/layer_tables.py results/synthetic transkun --write docs/layers.md
    python research/layer_tables.py results/synthetic transkun --check docs/layers.md
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

from generated_blocks import write_or_check

from pjbench.reporting.layer_curves import curve_rows
from pjbench.reporting.leaderboard import UNSCALED
from pjbench.results.record import TaskResult
from pjbench.tasks import TASKS

TASK_ORDER = list(TASKS)


def curves(folder: Path, encoder: str, label: str) -> dict[str, list[dict[str, object]]]:
    """task -> the curve's rows (layers, then the mix), as the layer-curve CSV holds them."""
    per_task: dict[str, list[TaskResult]] = defaultdict(list)
    for path in sorted((folder / encoder / "layers").glob(f"*.{label}.layer*.json")):
        result = TaskResult.load(path)
        per_task[result.task].append(result)
    out = {}
    for task, per_layer in per_task.items():
        mix_path = folder / encoder / f"{task}.{label}.json"
        mix = TaskResult.load(mix_path) if mix_path.exists() else None
        out[task] = curve_rows(per_layer, mix)
    return dict(sorted(out.items(), key=lambda kv: TASK_ORDER.index(kv[0]) if kv[0] in TASK_ORDER else len(TASK_ORDER)))


def _cell(row: dict[str, object]) -> str:
    scale = 1.0 if row["metric"] in UNSCALED else 100.0
    mean, low, high = (float(str(row[k])) * scale for k in ("mean", "ci_low", "ci_high"))
    text = f"{mean:.1f} [{low:.1f}, {high:.1f}]"
    return f"**{text}**" if row["chosen"] else text


def score_table(found: dict[str, list[dict[str, object]]]) -> str:
    n_layers = max(sum(1 for r in rows if r["layer"] != "mix") for rows in found.values())
    header = ["task (metric, chance)"] + [f"layer {k}" for k in range(n_layers)] + ["mix"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for task, rows in found.items():
        first = rows[0]
        scale = 1.0 if first["metric"] in UNSCALED else 100.0
        chance = (
            ""
            if first["chance"] in ("", None) or math.isnan(float(str(first["chance"])))
            else f", {float(str(first['chance'])) * scale:.1f}"
        )
        by_layer = {r["layer"]: r for r in rows}
        cells = [_cell(by_layer[k]) if k in by_layer else "–" for k in range(n_layers)]
        cells.append(_cell({**by_layer["mix"], "chosen": False}) if "mix" in by_layer else "–")
        lines.append(f"| {task} ({first['metric']}{chance}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def weight_table(found: dict[str, list[dict[str, object]]]) -> str:
    n_layers = max(sum(1 for r in rows if r["layer"] != "mix") for rows in found.values())
    header = ["task"] + [f"layer {k}" for k in range(n_layers)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for task, rows in found.items():
        weights = {r["layer"]: r["mix_weight"] for r in rows if r["layer"] != "mix"}
        lines.append(
            f"| {task} | "
            + " | ".join(f"{float(str(weights[k])):.2f}" if weights.get(k, "") != "" else "–" for k in range(n_layers))
            + " |"
        )
    return "\n".join(lines)


def blocks(folder: Path, encoder: str, label: str = "linear-paper") -> dict[str, str]:
    found = curves(folder, encoder, label)
    if not found:
        raise SystemExit(f"no per-layer results under {folder / encoder / 'layers'} for {label}")
    out = {f"{encoder}-layers": score_table(found)}
    if any(r["mix_weight"] not in ("", None) for rows in found.values() for r in rows if r["layer"] != "mix"):
        out[f"{encoder}-mix-weights"] = weight_table(found)  # none where the row reads layers of different sizes side by side
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a dataset's results folder, e.g. results/synthetic")
    parser.add_argument("encoder")
    parser.add_argument("--label", default="linear-paper", help="head-schedule of the per-layer results")
    parser.add_argument("--write", type=Path)
    parser.add_argument("--check", type=Path)
    args = parser.parse_args()
    tables = blocks(args.folder, args.encoder, args.label)
    target = args.check or args.write
    if target:
        command = f"python research/layer_tables.py {args.folder} {args.encoder} --write {target}"
        return write_or_check(target, tables, bool(args.check), command)
    for name, table in tables.items():
        print(f"## {name}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
