"""What every command shares: the console, the options that mean the same everywhere, errors in one line."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from ..api import ASSUMED as ASSUMED  # the dataset a command uses when given neither --dataset nor --manifest
from ..hints import did_you_mean as did_you_mean  # re-exported: every command hints the same way
from ..paths import DEFAULT_RESULTS as DEFAULT_RESULTS

# in a terminal rich wraps to its width; in a pipe or a log, lines are never wrapped (a result line or a markdown
# row broken in two cannot be read or grepped)
console = Console(soft_wrap=not sys.stdout.isatty(), width=None if sys.stdout.isatty() else 100_000, emoji=False)
err_console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 100_000, emoji=False)
log = logging.getLogger("pjbench")

DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        "-d",
        help="a dataset name (`pjbench list datasets`), a synthetic dataset folder, or a manifest CSV; your own data: "
        "--manifest [default: synthetic, the embedded set]",
        show_default=False,
    ),
]


def assumed_note(dataset: str | None, manifest: Path | None) -> str:
    """What to add to a message about the data when the user named none (they may have forgotten --manifest)."""
    if dataset is None and manifest is None:
        return f" (no --dataset or --manifest was given, so the embedded {ASSUMED} set was assumed; name yours with --manifest FILE.csv)"
    return ""


AudioRootOpt = Annotated[
    Path | None, typer.Option("--audio-root", help="your copy of a published dataset's audio, laid out as its label files name it")
]
LabelsOpt = Annotated[
    Path | None,
    typer.Option("--labels", help="folder with the published label files under their published names (default: AUDIO_ROOT/labels)"),
]
SplitSeedOpt = Annotated[int, typer.Option("--split-seed", help="seed of the grouped, stratified split (PLD expertise and technique)")]
ManifestOpt = Annotated[Path | None, typer.Option("--manifest", help="your own dataset: a CSV with columns id,path,split,label[,group]")]
CacheOpt = Annotated[Path | None, typer.Option("--cache-dir", help="where embedding caches live (default $PJBENCH_HOME/cache)")]
ResultsOpt = Annotated[
    Path,
    typer.Option(
        "--results-dir",
        envvar="PJBENCH_RESULTS",
        help="where result JSON files and leaderboards go ($PJBENCH_RESULTS; default ./pjbench-results)",
    ),
]
DeviceOpt = Annotated[str, typer.Option(help="auto (a GPU when there is one) | cpu | cuda[:N]")]
SeedsOpt = Annotated[int, typer.Option(min=1, help="number of seeds (0..N-1); intervals cover the seeds and the test sample")]
ScheduleOpt = Annotated[
    str, typer.Option(help="paper (the paper's: up to 100 epochs, patience 15) | fast (lr 1e-3, 8 epochs, patience 3, standardised)")
]


class Problem(Exception):
    """An expected failure of a command: its message is the whole story (no traceback unless --verbose)."""


def above_zero(value: float | None) -> float | None:
    """An option's check: a number above 0 (None: not given)."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"{value} is not above 0")
    return value


def load_requested(
    dataset: str | None, manifest: Path | None, audio_root: Path | None, labels: Path | None, split_seed: int, build_missing: bool = False
) -> Any:
    """The dataset a command was given: --dataset or --manifest, else the embedded synthetic set."""
    from ..api import get_dataset

    return get_dataset(dataset, manifest=manifest, audio_root=audio_root, labels=labels, split_seed=split_seed, build=build_missing)


EXPECTED = (ValueError, RuntimeError, FileNotFoundError, FileExistsError, TypeError, OSError)


@contextmanager
def failing(note: str = "") -> Iterator[None]:
    """Expected errors as one line: a request naming something unknown exits 2, any other expected failure 1
    (``note`` appended, e.g. which dataset was assumed)."""
    from ..api import UsageError

    try:
        yield
    except UsageError as err:
        fail(str(err), 2)
    except EXPECTED as err:
        fail(str(err) + note)


def print_result(label: str, result: Any, ran: bool = True) -> None:
    """A finished result as one line (the API's ``on_result``); ``(on record)`` when it was not run again."""
    console.print(score_line(label, result) + ("" if ran else " (on record)"), markup=False, highlight=False)


def say(line: str) -> None:
    """A line for the person at the terminal (the API's ``say``)."""
    console.print(line, markup=False, highlight=False)


def report_differences(heading: str, lines: list[str], limit: int = 20) -> None:
    """Print the numbers that differ (at most ``limit``) under a heading and exit with status 1; nothing if none."""
    if not lines:
        return
    console.print(heading, markup=False, highlight=False)
    for line in lines[:limit]:
        console.print(f"  {line}", markup=False, highlight=False)
    raise typer.Exit(1)


def setup_logging(verbose: bool, quiet: bool = False) -> None:
    console.quiet = quiet
    # in a terminal rich's handler; in a log one plain line per record (rich pads every record to the console width)
    handler: logging.Handler = (
        RichHandler(console=err_console, show_path=False) if sys.stderr.isatty() else logging.StreamHandler(sys.stderr)
    )
    if not sys.stderr.isatty():
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO, handlers=[handler], force=True)
    for noisy in ("matplotlib", "numba", "h5py", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and exit ``code`` (1 for a failure, 2 for a usage error)."""
    err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    if logging.getLogger().isEnabledFor(logging.DEBUG) and sys.exc_info()[0] is not None:
        err_console.print_exception()
    if getattr(sys.exc_info()[1], "unsafe", False):
        # an HDF5 file whose write failed for want of space crashes the interpreter when it is closed at exit; its
        # finished recordings are on disk already (flushed one by one), so leave without closing it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)  # not typer.Exit: that one is a RuntimeError, which the commands' handlers would catch


def split_list(values: list[str] | None) -> list[str]:
    """Repeated options and comma-separated lists alike: ``-t a,b -t c`` -> [a, b, c]."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def parse_value(value: str) -> object:
    """true/false -> bool, numbers -> int/float, anything else stays a string."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def encoder_options(options: list[str] | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in options or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"encoder option {item!r} is not KEY=VALUE", 2)
        out[key.replace("-", "_")] = parse_value(value)
    return out


def device_name(device: str) -> str:
    from ..extraction.extract import resolve_device

    try:
        return str(resolve_device(device))
    except RuntimeError as err:
        fail(str(err), 2)


def print_leaderboards(results_dir: Path | list[Path], verify: bool = False, tasks: list[str] | None = None, html: bool = False) -> None:
    """Build, write and print the boards (after a probe: unverified, the rows were just computed here; `pjbench
    leaderboard` verifies them)."""
    from ..api import boards, leaderboard, leaderboard_pages
    from ..reporting.leaderboard import board_file

    made = boards(results_dir, tasks=tasks, verify=verify, progress=True)
    for name, md in leaderboard(made=made).items():
        where = str(board_file(made.folder, name, ".md")) if made.folder else _read_only(made.sources)
        console.print(f"\n[bold]{escape(name)}[/bold]  ({escape(where)})")
        console.print(md, markup=False, highlight=False)
    if html:
        for path in leaderboard_pages(made=made).values():
            console.print(f"page: {path}", markup=False, highlight=False)


def _read_only(sources: Any) -> str:
    from ..results.record import is_reference

    if all(is_reference(s.folder) for s in sources):
        return "pjbench's committed reference results, read-only"
    return "read-only sources (committed results, bundles): not written; add a folder of yours to write the board"


def score_line(label: str, result: object) -> str:
    """One finished result as one line: the primary metric's mean ± 95% CI against chance."""
    s = result.scores[result.primary_metric]  # type: ignore[attr-defined]
    chance = result.counts.get("chance")  # type: ignore[attr-defined]
    against = f"  (chance {100 * chance:.1f})" if chance is not None else ""
    spread = "(one seed: no interval)" if s["ci95"] != s["ci95"] else f"± {100 * s['ci95']:.1f}"  # NaN: a single seed
    return f"{label} {result.primary_metric} = {100 * s['mean']:.1f} {spread}{against}"  # type: ignore[attr-defined]
