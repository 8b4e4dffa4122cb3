"""The leaderboard as a static page per dataset: ``<dataset>/leaderboard.html``, self-contained (styles and the
sorting script inline, no network), with the plots beside it referenced by relative paths.

The tables are the markdown board's (same cells, marks and notes): encoder, baseline, chance and reference rows with
their 95% intervals; a click on a column header sorts the encoder and baseline rows by it (the chance and reference
rows stay below). Then each encoder's metadata as its results record it, and each result's plot and layer curves.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from ..extraction.baselines import is_baseline
from ..results.record import TaskResult
from . import compare
from .forest import forest_svg
from .leaderboard import Board, Boards, board_file, build_board, header_note
from .sources import Source
from .verdicts import Matrix, verdict_matrix

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222;max-width:110em}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em;max-width:100%}
th,td{border:1px solid #ccc;padding:0.3em 0.5em;text-align:right;white-space:nowrap}
th{background:#f2f2f2;cursor:pointer;position:sticky;top:0;text-align:center}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td:first-child,td:nth-child(2),td:nth-child(3){text-align:left}
tr.baseline td{color:#555;background:#fafafa}tr.fixed td{color:#666;font-style:italic}
.best{font-weight:bold;background:#eef6ee}.note{font-size:0.85em;color:#444}
figure{display:inline-block;margin:0.5em;vertical-align:top}figure img{max-width:30em;border:1px solid #ddd}
figcaption{font-size:0.8em;color:#555}
table.meta td{white-space:normal;max-width:26em;text-align:left}
section.family{margin:1.5em 0;padding-top:0.5em;border-top:2px solid #ddd}figure.forest{display:inline-block}
table.verdicts{display:inline-table;margin:0.5em 1em 0.5em 0;font-size:0.75em}table.verdicts caption{text-align:left;color:#444}
table.verdicts td,table.verdicts th{text-align:center;padding:0.15em 0.35em;cursor:default}table.verdicts td.label{text-align:left}
td.v-better{background:#e3f4e3;color:#1a7f37}td.v-worse{background:#fbe9e7;color:#c0392b}td.v-tie{color:#888}td.v-self{color:#ccc}
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


def _figures(page_dir: Path, dataset: str, results: list[TaskResult], sources: list[Source]) -> list[str]:
    """Each result's plot and each source's layer curves, by paths relative to the page."""
    out = []
    for r in sorted(results, key=lambda r: (r.encoder, r.task, r.label)):
        png = r.file_in().with_suffix(".png")
        if png.is_file():
            rel = Path(os.path.relpath(png, page_dir)).as_posix()
            out.append(
                f'<figure><img src="{html.escape(rel)}" alt="{html.escape(r.task)}"><figcaption>{html.escape(f"{r.encoder} {r.label} {r.task}")}</figcaption></figure>'
            )
    for source in sources:
        for png in sorted((source.folder / dataset).glob("*/layers/*.layer-curve.png")):
            rel = Path(os.path.relpath(png, page_dir)).as_posix()
            out.append(
                f'<figure><img src="{html.escape(rel)}" alt="layer curve"><figcaption>{html.escape(png.parent.parent.name + " " + png.stem)}</figcaption></figure>'
            )
    return out


def family(task: str) -> str:
    """The section a task's columns go to: the name before its first dash (expertise, difficulty, technique...)."""
    return task.split("-", 1)[0]


def _table(board: Board, columns: list[int], fixed_from: int) -> str:
    """The board's rows with the lead columns and the given score columns (indices into ``board.columns``)."""
    keep = list(range(board.lead)) + [board.lead + j for j in columns]
    head = "".join(f"<th>{html.escape(board.header[k])}</th>" for k in keep)
    sortable, fixed = [], []
    for i, row in enumerate(board.body):
        cells = "".join(_cell(row[k]) for k in keep)
        if i < fixed_from:
            kind = ' class="baseline"' if "(baseline)" in " ".join(row[: board.lead]) else ""
            sortable.append(f"<tr{kind}>{cells}</tr>")
        elif any(row[k] for k in keep[board.lead :]):
            fixed.append(f'<tr class="fixed">{cells}</tr>')
    return (
        f'<table class="board"><thead><tr>{head}</tr></thead><tbody class="sortable">{"".join(sortable)}</tbody>'
        f'<tbody class="fixed">{"".join(fixed)}</tbody></table>'
    )


def _matrix(m: Matrix) -> str:
    symbols = {"better": ("▲", "better"), "worse": ("▼", "worse"), "tie": ("=", "tie"), "": ("·", "self")}
    head = "".join(f'<th title="{html.escape(label)}">{k + 1}</th>' for k, label in enumerate(m.labels))
    rows = []
    for k, (label, cells) in enumerate(zip(m.labels, m.cells)):
        tds = "".join(f'<td class="v-{symbols[c][1]}">{symbols[c][0]}</td>' for c in cells)
        rows.append(f'<tr><td class="label">{k + 1}. {html.escape(label)}</td>{tds}</tr>')
    task, metric = m.column
    return (
        f'<table class="verdicts"><caption>{html.escape(f"{task} {metric}")}: row against column (▲ better, ▼ worse, = tie; '
        f"paired bootstrap, 95%, Holm over the column)</caption><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _sections(board: Board, fixed_from: int) -> str:
    cache: dict = {}
    memo: compare.Memo = {}
    by_family: dict[str, list[int]] = {}
    for j, (task, _) in enumerate(board.columns):
        by_family.setdefault(family(task), []).append(j)
    out = []
    for name, columns in by_family.items():
        forests = "".join(
            f'<figure class="forest">{svg}<figcaption>{html.escape(f"{board.columns[j][0]} {board.columns[j][1]}")}</figcaption></figure>'
            for j in columns
            if (svg := forest_svg(board, board.columns[j]))
        )
        primaries = [j for j in columns if _is_primary(board, board.columns[j])]
        matrices = "".join(_matrix(m) for j in primaries if (m := verdict_matrix(board, board.columns[j], cache, memo)) is not None)
        out.append(
            f'<section class="family" id="{html.escape(name)}"><h2>{html.escape(name)}</h2>{_table(board, columns, fixed_from)}'
            f"{forests}{'<h3>Pairwise verdicts</h3>' + matrices if matrices else ''}</section>"
        )
    return "\n".join(out)


def _is_primary(board: Board, column: tuple[str, str]) -> bool:
    task, metric = column
    return any(row.results[task].primary_metric == metric for row in board.rows if task in row.results)


def render(
    dataset: str, results: list[TaskResult], results_dir: Path, board: Board | None = None, sources: list[Source] | None = None
) -> str:
    """The page of one board (``dataset``: the board's name), written into ``results_dir``: a section per task family
    (its columns, forest plots and pairwise verdicts), then the encoders and the plots."""
    board = board or build_board(dataset, results, results_dir)
    page_dir = board_file(results_dir, dataset, ".html").parent
    published_name = dataset.split("@", 1)[0]
    fixed_from = next((i for i, row in enumerate(board.body) if row[0] == "chance"), len(board.body))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in board.notes)
    meta_head = "".join(
        f"<th>{h}</th>" for h in ("encoder", "what", "parameters", "training data", "licence", "embedding", "extraction × real time")
    )
    meta = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in _meta_rows(results))
    figures = "\n".join(_figures(page_dir, published_name, results, sources or [Source(str(results_dir), results_dir)]))
    families = list(dict.fromkeys(family(t) for t, _ in board.columns))
    nav = " · ".join(f'<a href="#{html.escape(f)}">{html.escape(f)}</a>' for f in families)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pjbench: {html.escape(dataset)}</title><style>{STYLE}</style></head>
<body>
<h1>pjbench leaderboard: {html.escape(dataset)}</h1>
<p class="note">{html.escape(header_note(published_name, results))}</p>
<p class="note">Tasks: {nav}. Click a column header to sort the encoder and baseline rows by it (again: the other way).</p>
{_sections(board, fixed_from)}
<ul class="note">{notes}</ul>
<h2>Encoders</h2>
<table class="meta"><thead><tr>{meta_head}</tr></thead><tbody>{meta}</tbody></table>
<h2>Plots</h2>
{figures}
<script>{SCRIPT}</script>
</body></html>
"""


def write_html(made: Boards) -> dict[str, Path]:
    """``<dataset>/leaderboard.html`` for every board, in the folder its markdown goes to."""
    if made.folder is None:
        raise ValueError("none of the results folders can be written (committed reference results and bundles are only read): add yours")
    out = {}
    for name, board in made.boards.items():
        path = board_file(made.folder, name, ".html")
        path.parent.mkdir(parents=True, exist_ok=True)
        page = render(name, made.results[name], made.folder, board, made.sources)
        path.write_text(re.sub(r"[ \t]+\n", "\n", page))
        out[name] = path
    return out
