"""A board column as a forest plot, in inline SVG (the page stays one self-contained file): each row's mean and 95%
interval on one axis, the chance level as a dashed line, baseline rows grey and apart, ★ rows in green."""

from __future__ import annotations

import html
import math

from .leaderboard import UNSCALED, Board, interval

ROW_HEIGHT = 18
LABEL_WIDTH = 250
PLOT_WIDTH = 330
MARGIN = 10


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low
    raw = span / count
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * step:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step) + 1)]


def forest_svg(board: Board, column: tuple[str, str]) -> str:
    """The SVG of one column ('' when fewer than two rows have a score in it)."""
    task, metric = column
    scale = 1.0 if metric in UNSCALED else 100.0
    points = []  # (label, mean, low, high, baseline, best)
    encoders = [i for i, row in enumerate(board.rows) if not row.baseline]
    baselines = [i for i, row in enumerate(board.rows) if row.baseline]
    for group in (encoders, baselines):
        for i in group:
            row = board.rows[i]
            result = row.results.get(task)
            if result is None or metric not in result.scores or math.isnan(result.scores[metric]["mean"]):
                continue
            low, high = interval(result.scores[metric])
            label = f"{row.encoder} {row.head}" + (f"-{row.schedule}" if row.schedule else "") + (f" ({row.source})" if row.source else "")
            points.append(
                (
                    label,
                    scale * result.scores[metric]["mean"],
                    scale * low,
                    scale * high,
                    row.baseline,
                    i in board.marked.get(column, set()),
                )
            )
    if len(points) < 2:
        return ""
    chance = board.chance.get(column)
    values = [v for p in points for v in p[2:4]] + ([scale * chance] if chance is not None else [])
    lo, hi = min(values), max(values)
    pad = 0.05 * (hi - lo or 1.0)
    lo, hi = lo - pad, hi + pad

    def x(value: float) -> float:
        return LABEL_WIDTH + PLOT_WIDTH * (value - lo) / (hi - lo)

    gap = ROW_HEIGHT // 2 if encoders and baselines else 0  # baseline rows drawn apart
    n_encoder_points = sum(1 for p in points if not p[4])
    height = MARGIN * 2 + ROW_HEIGHT * len(points) + gap + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="forest" width="{LABEL_WIDTH + PLOT_WIDTH + 2 * MARGIN}" height="{height}" '
        f'role="img" aria-label="{html.escape(f"{task} {metric}")}: each row\'s mean and 95% interval">'
    ]
    for k, (label, mean, low, high, baseline, best) in enumerate(points):
        y = MARGIN + ROW_HEIGHT * k + (gap if k >= n_encoder_points else 0) + ROW_HEIGHT / 2
        colour = "#888" if baseline else "#1a7f37" if best else "#333"
        weight = "bold" if best else "normal"
        mark = " ★" if best else ""
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{colour}" font-weight="{weight}">'
            f"{html.escape(label + mark)}</text>"
        )
        parts.append(f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>')
        parts.append(
            f'<circle cx="{x(mean):.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{html.escape(label)}: {mean:.1f} '
            f"[{low:.1f}, {high:.1f}]</title></circle>"
        )
    bottom = height - 24
    if chance is not None:
        cx = x(scale * chance)
        parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{MARGIN / 2}" y2="{bottom}" stroke="#c0392b" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{cx + 3:.1f}" y="{MARGIN + 2}" font-size="10" fill="#c0392b">chance</text>')
    parts.append(f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y1="{bottom}" y2="{bottom}" stroke="#999"/>')
    for tick in _ticks(lo, hi):
        tx = x(tick)
        shown = f"{tick:.2f}" if scale == 1.0 else f"{tick:g}"
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#999"/>')
        parts.append(f'<text x="{tx:.1f}" y="{bottom + 15}" font-size="10" text-anchor="middle" fill="#555">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)
