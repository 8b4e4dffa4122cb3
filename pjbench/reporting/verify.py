"""Verified rows: a board recomputes each result from its predictions file before showing it.

A result whose predictions are beside it is *verified* when every per-seed metric and every interval recomputed from
the predictions (`pjbench rescore`) is exactly the recorded one; a result whose numbers do not follow from its
predictions (edited by hand, or its predictions replaced) is *refused*: the board leaves it out and says why in one
line; a result written without predictions is shown *unverified*. The verdict is cached under
``$PJBENCH_HOME/cache/verified/`` by the predictions file's sha256 and the recorded numbers, so a board is rescored
once, not at every build.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..hashing import config_hash, file_sha256
from ..paths import cache_dir
from ..progress import progress_bar
from ..results.record import TaskResult
from . import keyed_store
from .rescore import differences, rescore

log = logging.getLogger(__name__)

VERIFIED, UNVERIFIED, REFUSED = "verified", "unverified", "refused"
RESCORE_VERSION = 1  # bump when the recomputation changes what it compares


@dataclass(frozen=True)
class Verdict:
    status: str  # verified | unverified | refused
    why: str = ""  # for refused and unverified: one line


def _key(result: TaskResult, predictions_sha: str) -> str:
    return config_hash(
        {
            "v": RESCORE_VERSION,
            "predictions": predictions_sha,
            "scores": result.scores,
            "per_seed": [{k: s.get(k) for k in ("seed", "val", "test")} for s in result.per_seed],
            "task": result.config.get("task"),
            "resample_group": result.config.get("dataset", {}).get("resample_group"),
        },
        length=24,
    )


def verify(result: TaskResult, store: Path | None = None) -> Verdict:
    """The result's verdict (see the module); ``store``: where verdicts are cached (default under $PJBENCH_HOME)."""
    path = result.file_in()
    if not result.predictions:
        return Verdict(UNVERIFIED, "no per-item predictions on record")
    predictions_file = path.with_name(result.predictions["file"])
    if not predictions_file.is_file():
        return Verdict(REFUSED, f"its predictions file {predictions_file.name} is missing")
    actual = file_sha256(predictions_file)
    if actual != result.predictions.get("sha256"):
        return Verdict(REFUSED, f"{predictions_file.name} is not the predictions file it was written with (sha256 differs)")
    folder = store or cache_dir() / "verified"
    key = _key(result, actual)
    data = keyed_store.read(folder, key)
    if data is not None and "status" in data:
        return Verdict(data["status"], data.get("why", ""))
    verdict = _recompute(path)
    keyed_store.write(folder, key, {"status": verdict.status, "why": verdict.why, "file": str(path)})
    return verdict


def _recompute(path: Path) -> Verdict:
    try:
        recorded, per_seed, scores = rescore(path)
    except ValueError as err:
        if "cover probe results" in str(err):
            return Verdict(UNVERIFIED, "its kind of result is not recomputed yet")
        return Verdict(REFUSED, f"its predictions cannot be rescored ({err})")
    except (OSError, KeyError, TypeError, IndexError) as err:
        return Verdict(REFUSED, f"its predictions cannot be rescored ({type(err).__name__}: {err})")
    found = differences(recorded, per_seed, scores)
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return Verdict(REFUSED, f"its numbers do not follow from its predictions ({found[0]}{more})")
    return Verdict(VERIFIED)


def verify_all(results: Iterable[TaskResult], progress: bool = True) -> dict[Path, Verdict]:
    """Each result's verdict by its file."""
    todo = list(results)
    out = {}
    for result in progress_bar(todo, desc="verifying rows", unit="result", enabled=progress):
        out[result.file_in()] = verify(result)
    return out
