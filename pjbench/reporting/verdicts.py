"""The pairwise verdicts of one board column (`compare --all` for the rows of a board): for every two rows with
predictions, a paired bootstrap on the column's metric, Holm-corrected over the column."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from . import compare
from .leaderboard import Board, scored_result


@dataclass(frozen=True)
class Matrix:
    column: tuple[str, str]
    labels: list[str]  # the rows compared, as the board names them
    cells: list[list[str]]  # [i][j]: "better" (row i above row j), "worse", "tie", "" (itself)


def row_label(board: Board, index: int) -> str:
    row = board.rows[index]
    label = f"{row.encoder} {row.head}-{row.schedule}" if row.schedule else f"{row.encoder} {row.head}"
    return f"{label} ({row.source})" if row.source else label


def verdict_matrix(board: Board, column: tuple[str, str], cache: dict, memo: compare.Memo) -> Matrix | None:
    """The column's matrix over the rows that have predictions (Holm over the column's pairs, settled) (None: fewer than two such rows, or rows that
    cannot be paired, e.g. scored on different items)."""
    task, metric = column
    usable = []
    for i, row in enumerate(board.rows):
        result = row.results.get(task)
        if result is None or metric not in result.scores:
            continue
        scored = scored_result(result, None, "test", cache)
        if scored is not None:
            usable.append((i, scored))
    if len(usable) < 2:
        return None
    pairs = list(itertools.combinations(range(len(usable)), 2))

    def one(i: int, resamples: int) -> compare.Comparison:
        a, b = pairs[i]
        return compare.paired(usable[a][1], usable[b][1], [metric], resamples, memo)[0]

    try:
        found = compare.settled(one, len(pairs))
    except ValueError:
        return None
    n = len(usable)
    cells = [[""] * n for _ in range(n)]
    for (a, b), c in zip(pairs, found):
        if c.verdict == "tie":
            cells[a][b] = cells[b][a] = "tie"
        else:
            a_better = c.verdict == "A better"
            cells[a][b], cells[b][a] = ("better", "worse") if a_better else ("worse", "better")
    return Matrix(column, [row_label(board, i) for i, _ in usable], cells)
