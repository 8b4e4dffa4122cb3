"""Typed, versioned result records: ``results/<dataset>/<encoder>/<task>.<head>.json``."""

from __future__ import annotations

import json
import os
import platform
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..hashing import config_hash, file_sha256
from ..scoring.metrics import mean_ci

# 2: scores carry the two-stage interval (ci_low, ci_high) and seed_ci95; `intervals` says how. 3: `fingerprint`, the
# data's digest (datasets/fingerprint.py); strict JSON: an undefined number (NaN) is written null (docs/results-format.md)
SCHEMA_VERSION = 3
NULL_NUMBERS = "null stands for an undefined number (NaN): a metric a split cannot define, an interval from one seed"
REFERENCE_MARKER = ".pjbench-reference"  # in the results folder committed with pjbench: read-only for runs
UPDATE_REFERENCE_ENV = "PJBENCH_UPDATE_REFERENCE"
RUN_ID_ENV = "PJBENCH_RUN_ID"


_GIVEN_RUN_ID = os.environ.get(RUN_ID_ENV)  # named by the user (or a parent pjbench) before this process began


def start_run() -> str:
    """Begin a command's run: a fresh id (the UTC time and a random suffix), unless one was given in
    ``PJBENCH_RUN_ID``; the processes this one starts inherit it."""
    os.environ[RUN_ID_ENV] = _GIVEN_RUN_ID or time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
    return os.environ[RUN_ID_ENV]


def current_run_id() -> str:
    """The id of this command's run, shared by every result it writes."""
    return os.environ.get(RUN_ID_ENV) or start_run()


def is_reference(results_dir: Path) -> bool:
    """The folder holds pjbench's committed reference results (the demo's, regenerated only on purpose)."""
    return (Path(results_dir) / REFERENCE_MARKER).exists()


def check_writable(results_dir: Path) -> None:
    """Refuse the committed reference results, and a folder that cannot be written (checked before any training, so
    that no finished work is lost to it)."""
    if is_reference(results_dir) and os.environ.get(UPDATE_REFERENCE_ENV) != "1":
        raise ValueError(
            f"{results_dir} holds pjbench's committed reference results, which runs do not overwrite: write yours elsewhere "
            f"(--results-dir DIR or $PJBENCH_RESULTS; the default is ./pjbench-results). Maintainers regenerate them with "
            f"{UPDATE_REFERENCE_ENV}=1."
        )
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=results_dir):
            pass
    except OSError as err:
        raise ValueError(f"{results_dir}: results cannot be written there ({err.strerror or err}); choose another --results-dir") from None


@dataclass
class TaskResult:
    dataset: str
    encoder: str
    task: str
    head: str
    primary_metric: str
    # metric -> on the test split: "mean" over seeds; "ci_low"/"ci_high", the 95% interval over test groups and
    # seeds (see `intervals`); "ci95", the larger distance from the mean to an end; "seed_ci95", seeds alone
    scores: dict[str, dict[str, float]]
    per_seed: list[dict[str, Any]]  # seed, best_epoch, val and test metrics, timings
    config: dict[str, Any]
    encoder_meta: dict[str, Any]
    counts: dict[str, Any]
    environment: dict[str, Any]
    timings: dict[str, float]
    confusion: list[list[int]] | None = None  # test confusion summed over seeds
    classes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific payload (the ICPC ranking)
    predictions: dict[str, str] = field(default_factory=dict)  # the per-item predictions file: name, sha256, format
    intervals: dict[str, Any] = field(default_factory=dict)  # how the intervals were made (method, group, resamples)
    variant: str = ""  # the training schedule's name (or custom-<hash>): part of the file name, never overwritten by another
    run_id: str = ""  # the command that wrote it (`current_run_id`); "" in results written before run ids
    layer: int | None = None  # one stored layer probed alone (`probe --layers each`); None: every stored layer, mixed
    plot: dict[str, str] = field(default_factory=dict)  # the PNG beside it: file name and sha256
    # the data's digest (ids, labels, groups, splits, audio identity): results are comparable only under one digest
    fingerprint: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    # where it was read from (not written): boards built from several folders find its predictions beside it
    source: Path | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """The head and its variant, as the board and file name show them."""
        return f"{self.head}-{self.variant}" if self.variant else self.head

    @property
    def data_digest(self) -> str:
        """The data's fingerprint ("" for results written before fingerprints)."""
        return str(self.fingerprint.get("digest", ""))

    def file_in(self, results_dir: Path | None = None) -> Path:
        """Its file: where it was read from, else where it belongs under ``results_dir``."""
        if self.source is not None:
            return self.source
        if results_dir is None:
            raise ValueError(f"{self.task}.{self.label}: a result not read from a file needs its results folder")
        return self.path(results_dir)

    def to_json(self) -> str:
        """Strict JSON (no NaN): undefined numbers as null, said once in `null_numbers`."""
        data = asdict(self)
        del data["source"]
        cleaned, had_nan = nan_to_null(data)
        if had_nan:
            cleaned["null_numbers"] = NULL_NUMBERS
        return json.dumps(cleaned, indent=2, sort_keys=False, allow_nan=False, default=float)

    def path(self, results_dir: Path) -> Path:
        return result_file(results_dir, self.dataset, self.encoder, self.task, self.label, self.layer)

    def save(self, results_dir: Path, plot: Callable[[TaskResult, Path], Any] | None = None) -> Path:
        """Write the JSON, and first its plot (``plot(result, png_path)``) with the plot's sha256 recorded in the JSON:
        the JSON is written last, so an interrupted run leaves the previous result whole, and a PNG that does not
        belong to its JSON is told by its hash (`pjbench leaderboard` says so)."""
        check_writable(results_dir)
        path = self.path(results_dir)
        check_same_data(path, self.data_digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        if plot is not None:
            png = path.with_suffix(".png")
            drawing = png.with_name(f"{png.stem}.drawing.png")
            plot(self, drawing)
            self.plot = {"file": png.name, "sha256": file_sha256(drawing)}
            drawing.replace(png)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)
        self.source = path
        return path

    @classmethod
    def load(cls, path: Path) -> TaskResult:
        data = json.loads(Path(path).read_text())
        version = data.get("schema_version", 0)
        if version > SCHEMA_VERSION:
            raise ValueError(f"{path}: result schema {version} is newer than this pjbench understands ({SCHEMA_VERSION})")
        known = set(cls.__dataclass_fields__) - {"source"}
        result = cls(**{k: v for k, v in data.items() if k in known}, source=Path(path))
        # null is NaN in the numbers that are read as numbers: the scores and each seed's metrics
        result.scores = {m: {k: _null_nan(v) for k, v in s.items()} for m, s in result.scores.items()}
        for seed in result.per_seed:
            for split in ("val", "test"):
                if isinstance(seed.get(split), dict):
                    seed[split] = {m: _null_nan(v) for m, v in seed[split].items()}
        return result


def _null_nan(value: Any) -> Any:
    return float("nan") if value is None else value


def nan_to_null(value: Any) -> tuple[Any, bool]:
    """``value`` with every NaN (float or numpy) replaced by None (strict JSON), and whether there was one."""
    if isinstance(value, dict):
        pairs = [(k, nan_to_null(v)) for k, v in value.items()]
        return {k: v for k, (v, _) in pairs}, any(found for _, (_, found) in pairs)
    if isinstance(value, (list, tuple)):
        items = [nan_to_null(v) for v in value]
        return [v for v, _ in items], any(found for _, found in items)
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None, True
    if isinstance(value, (float, np.floating)) and np.isinf(value):
        raise ValueError(f"an infinite number in a result ({value}): not a score pjbench writes")
    return value, False


def result_file(results_dir: Path, dataset: str, encoder: str, task: str, label: str, layer: int | None = None) -> Path:
    """Where a result lives: ``<dataset>/<encoder>/<task>.<head>-<schedule>.json``; a layer probed alone under
    ``layers/``, beside the board's results rather than among them."""
    folder = results_dir / dataset / encoder
    if layer is not None:
        return folder / "layers" / f"{task}.{label}.layer{layer:02d}.json"
    return folder / f"{task}.{label}.json"


def git_revision() -> str:
    try:
        here = Path(__file__).resolve().parent
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        # results/ is where runs write: a result written earlier must not mark the code as modified
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude)results"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if rev.returncode != 0:
            return "unknown"
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment() -> dict[str, Any]:
    import h5py
    import numpy
    import sklearn
    import torch

    from ..version import __version__

    return {
        "pjbench": __version__,
        "git_revision": git_revision(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scikit_learn": sklearn.__version__,
        "h5py": h5py.__version__,
        "platform": platform.platform(),
        "processor": platform.machine(),
    }


def seed_scores(per_seed: list[dict[str, Any]], key: str = "test") -> dict[str, dict[str, float]]:
    """metric -> mean and 95% CI half-width over the seeds' ``key`` scores (seeds alone: results without per-item
    predictions, the transfer and PISA)."""
    out = {}
    for metric in sorted(per_seed[0][key]):
        mean, ci = mean_ci([s[key][metric] for s in per_seed])
        out[metric] = {"mean": mean, "ci95": ci, "seed_ci95": ci}
    return out


def build_result(
    *,
    dataset: str,
    encoder: str,
    task: str,
    head: str,
    primary_metric: str,
    per_seed: list[dict[str, Any]],
    config: dict[str, Any],
    encoder_meta: dict[str, Any],
    counts: dict[str, Any],
    started: float,
    confusion: list[list[int]] | None = None,
    classes: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    scores: dict[str, dict[str, float]] | None = None,
    intervals: dict[str, Any] | None = None,
    variant: str = "",
    layer: int | None = None,
    fingerprint: dict[str, Any] | None = None,
) -> TaskResult:
    """The one way a result record is made (probes, the ICPC transfer and PISA alike): scores over the seeds'
    test metrics, the configuration with its hash, the environment and the timings."""
    seconds = [s["train_seconds"] for s in per_seed if "train_seconds" in s]
    timings = {"total_seconds": time.perf_counter() - started}
    if seconds:
        timings["train_seconds_per_seed"] = float(sum(seconds) / len(seconds))
    return TaskResult(
        dataset=dataset,
        encoder=encoder,
        task=task,
        head=head,
        primary_metric=primary_metric,
        scores=scores if scores is not None else seed_scores(per_seed),
        per_seed=per_seed,
        config={**config, "hash": config_hash(config)},
        encoder_meta=encoder_meta,
        counts=counts,
        environment=environment(),
        timings=timings,
        confusion=confusion,
        classes=classes or [],
        extra=extra or {},
        intervals=intervals or {"method": "Student-t over seeds (no per-item predictions)"},
        variant=variant,
        run_id=current_run_id(),
        layer=layer,
        fingerprint=fingerprint or {},
    )


def check_same_data(path: Path, digest: str) -> None:
    """Refuse to overwrite a result made on other data (another dataset of the same name: two manifests both called
    ``m.csv``), checked before any training. A result that records no fingerprint is overwritten as before."""
    if not path.is_file() or not digest:
        return
    try:
        recorded = json.loads(path.read_text()).get("fingerprint", {}).get("digest", "")
    except (OSError, ValueError, AttributeError):
        return  # unreadable: the save replaces it, and the board reports such files
    if recorded and recorded != digest:
        raise ValueError(
            f"{path} holds a result on other data of the same dataset name (data fingerprint {recorded[:8]}, this run's "
            f"{digest[:8]}): it is not overwritten. Write to another --results-dir, or give the manifest another file "
            "name (a manifest's dataset is named after its file)"
        )


def summed_confusion(per_seed_confusions: list[list[list[int]] | None]) -> list[list[int]] | None:
    """The seeds' test confusions summed (None when the task has none)."""
    present = [np.array(c) for c in per_seed_confusions if c is not None]
    return np.sum(present, axis=0).tolist() if present else None


def score_differences(recorded: list[dict[str, Any]], fresh: list[dict[str, Any]], splits: tuple[str, ...] = ("test",)) -> list[str]:
    """Lines naming each seed and metric whose score differs between two runs' per-seed records (NaN equals NaN);
    the split is named when more than one is compared."""
    if [s["seed"] for s in recorded] != [s["seed"] for s in fresh]:
        return [f"seeds {[s['seed'] for s in recorded]} recorded, {[s['seed'] for s in fresh]} now"]
    out = []
    for old, new in zip(recorded, fresh):
        for split in splits:
            where = f"{split} " if len(splits) > 1 else ""
            for metric in sorted(set(old[split]) | set(new[split])):
                a, b = old[split].get(metric), new[split].get(metric)
                if json.dumps(a) != json.dumps(b):
                    out.append(f"seed {old['seed']} {where}{metric}: {a} recorded, {b} now")
    return out


def plot_problem(result: TaskResult, results_dir: Path | None = None) -> str | None:
    """Why the PNG beside a result is not its own (None: it is, or the result records no plot)."""
    if not result.plot:
        return None
    png = result.file_in(results_dir).with_name(result.plot["file"])
    if not png.is_file():
        return f"{png.name} is missing"
    if file_sha256(png) != result.plot["sha256"]:
        return f"{png.name} was drawn for another run of it (an interrupted run?)"
    return None
