"""The leaderboard as a static page per dataset: ``<dataset>/leaderboard.html``, self-contained (styles and the
sorting script inline, no network), with the plots beside it referenced by relative paths.

The tables are the markdown board's (same cells, marks and notes): encoder, baseline, chance and reference rows with
their 95% intervals; a click on a column header sorts the encoder and baseline rows by it (the chance and reference
rows stay below). Then each encoder's metadata as its results record it, and each result's plot and layer curves.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..extraction.baselines import is_baseline
from ..results.record import TaskResult
from .leaderboard import build_board, header_note, load_results

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222;max-width:110em}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}
th,td{border:1px solid #ccc;padding:0.3em 0.5em;text-align:right;white-space:nowrap}
th{background:#f2f2f2;cursor:pointer;position:sticky;top:0;text-align:center}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td:first-child,td:nth-child(2),td:nth-child(3){text-align:left}
tr.baseline td{color:#555;background:#fafafa}tr.fixed td{color:#666;font-style:italic}
.best{font-weight:bold;background:#eef6ee}.note{font-size:0.85em;color:#444}
figure{display:inline-block;margin:0.5em;vertical-align:top}figure img{max-width:30em;border:1px solid #ddd}
figcaption{font-size:0.8em;color:#555}
"""

SCRIPT = """
function cellValue(row, col) {
  const text = row.children[col].textContent.trim();
  const number = parseFloat(text);
  return isNaN(number) ? null : number;
}
function sortBy(th) {
  const table = th.closest('table');
  const col = Array.from(th.parentNode.children).indexOf(th);
  const body = table.querySelector('tbody.sortable');
  const descending = !th.classList.contains('sorted-desc');
  table.querySelectorAll('th').forEach(h => h.classList.remove('sorted-asc', 'sorted-desc'));
  th.classList.add(descending ? 'sorted-desc' : 'sorted-asc');
  const rows = Array.from(body.querySelectorAll('tr'));
  rows.sort((a, b) => {
    const x = cellValue(a, col), y = cellValue(b, col);
    if (x === null && y === null) return a.children[col].textContent.localeCompare(b.children[col].textContent);
    if (x === null) return 1;
    if (y === null) return -1;
    return descending ? y - x : x - y;
  });
  rows.forEach(r => body.appendChild(r));
}
document.querySelectorAll('table.board th').forEach(th => th.addEventListener('click', () => sortBy(th)));
"""


def _cell(text: str) -> str:
    marked = ' class="best"' if " ★" in text else ""
    return f"<td{marked}>{html.escape(text)}</td>"


def _meta_rows(results: list[TaskResult]) -> list[list[str]]:
    seen: dict[str, dict] = {}
    for r in results:
        if not is_baseline(r.encoder_meta):
            seen.setdefault(r.encoder, r.encoder_meta)
    rows = []
    for name, meta in sorted(seen.items()):
        parameters = meta.get("parameters")
        speed = meta.get("extraction_x_real_time")
        rows.append(
            [
                name,
                str(meta.get("description", "")),
                f"{parameters / 1e6:.1f} M" if isinstance(parameters, (int, float)) else "not recorded",
                "; ".join(meta.get("training_data", [])) or "none",
                str(meta.get("licence", "")),
                f"{meta.get('sample_rate', '')} Hz, {float(meta.get('frame_rate', 0)):.4g} frames/s, {meta.get('dim', '')}-d, "
                f"{meta.get('n_layers', '')} layer(s)",
                f"{speed:.0f}×" if isinstance(speed, (int, float)) else "not recorded",
            ]
        )
    return rows


def _figures(dataset_dir: Path, results: list[TaskResult]) -> list[str]:
    out = []
    for r in sorted(results, key=lambda r: (r.encoder, r.task, r.label)):
        png = r.path(dataset_dir.parent).with_suffix(".png")
        if png.is_file():
            rel = png.relative_to(dataset_dir).as_posix()
            out.append(
                f'<figure><img src="{html.escape(rel)}" alt="{html.escape(r.task)}"><figcaption>{html.escape(f"{r.encoder} {r.label} {r.task}")}</figcaption></figure>'
            )
    for png in sorted(dataset_dir.glob("*/layers/*.layer-curve.png")):
        rel = png.relative_to(dataset_dir).as_posix()
        out.append(
            f'<figure><img src="{html.escape(rel)}" alt="layer curve"><figcaption>{html.escape(png.parent.parent.name + " " + png.stem)}</figcaption></figure>'
        )
    return out


def render(dataset: str, results: list[TaskResult], results_dir: Path) -> str:
    board = build_board(dataset, results, results_dir)
    fixed_from = next((i for i, row in enumerate(board.body) if row[0] == "chance"), len(board.body))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in board.header)
    sortable = []
    for row in board.body[:fixed_from]:
        kind = ' class="baseline"' if "(baseline)" in row[1] else ""
        sortable.append(f"<tr{kind}>" + "".join(_cell(c) for c in row) + "</tr>")
    fixed = ['<tr class="fixed">' + "".join(_cell(c) for c in row) + "</tr>" for row in board.body[fixed_from:]]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in board.notes)
    meta_head = "".join(
        f"<th>{h}</th>" for h in ("encoder", "what", "parameters", "training data", "licence", "embedding", "extraction × real time")
    )
    meta = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in _meta_rows(results))
    figures = "\n".join(_figures(results_dir / dataset, results))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pjbench: {html.escape(dataset)}</title><style>{STYLE}</style></head>
<body>
<h1>pjbench leaderboard: {html.escape(dataset)}</h1>
<p class="note">{html.escape(header_note(dataset, results))}</p>
<p class="note">Click a column header to sort the encoder and baseline rows by it (again: the other way).</p>
<div style="overflow-x:auto"><table class="board" id="board"><thead><tr>{head}</tr></thead>
<tbody class="sortable">{"".join(sortable)}</tbody><tbody class="fixed">{"".join(fixed)}</tbody></table></div>
<ul class="note">{notes}</ul>
<h2>Encoders</h2>
<table class="meta"><thead><tr>{meta_head}</tr></thead><tbody>{meta}</tbody></table>
<h2>Plots</h2>
{figures}
<script>{SCRIPT}</script>
</body></html>
"""


def write_html(results_dir: Path) -> dict[str, Path]:
    """``<dataset>/leaderboard.html`` for every dataset with results."""
    out = {}
    for dataset, results in load_results(results_dir).items():
        path = results_dir / dataset / "leaderboard.html"
        path.write_text(re.sub(r"[ \t]+\n", "\n", render(dataset, results, results_dir)))
        out[dataset] = path
    return out
