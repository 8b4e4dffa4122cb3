"""A whole `pjbench probe` command, timed as a user runs it, against a revision before this checkout: every run a
fresh process (imports, loading, the feeder, training, validation, predictions, the result files and the board),
the two revisions alternating on the same manifest and the same kind of cache.

The data: a manifest of N clips (default 750) of the synthetic `small` set (10-40 s each) with a 3-class label
(the difficulty level binned 1-3 | 4-6 | 7-9), grouped by score, the set's own splits. Each revision extracts its own
mel cache into its own `$PJBENCH_HOME` first (not timed in the comparison; reported).

    python benchmarks/probe_command.py --before e4fc904 [--clips 750] [--head published] [--seeds 2] [--epochs 4]
    python benchmarks/probe_command.py --before e4fc904 --profile   # also a py-spy profile of each revision's run

With `--task T` the command is instead a task of the synthetic `small` set itself, on the mel cache this machine
already has (`pjbench extract -e mel`; read, never written, by both revisions), e.g. the board's published head on the
paper's schedule for a few epochs:

    python benchmarks/probe_command.py --before e4fc904 --task difficulty-3way --seeds 5 --epochs 6

(needs `pjbench synth --size small`; `--before` is checked out into a temporary git worktree)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LEVELS = {**dict.fromkeys("123", "easy"), **dict.fromkeys("456", "medium"), **dict.fromkeys("789", "hard")}


def write_manifest(dataset_root: Path, clips: int, out: Path) -> Path:
    with open(dataset_root / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = rows if clips >= len(rows) else [r for i, r in enumerate(rows) if i * clips // len(rows) != (i + 1) * clips // len(rows)]
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "path", "split", "label", "group"])
        for r in keep:
            writer.writerow([r["id"], str(dataset_root / r["path"]), r["split"], LEVELS[r["difficulty"]], r["score_id"]])
    return manifest


# a sample's phase: the first rule whose frame is on its stack (imports first: an import inside training is an import)
PHASES = (
    ("imports", "_find_and_load"),
    ("reading and assembling training batches", "_batches.<locals>.batches ("),
    ("training steps (forward, backward, optimizer, validation)", "fit_members ("),
    ("validation and test predictions", "predict_many ("),
    ("inputs (feeder, kept arrays)", "make_feeder ("),
    ("result files", "TaskResult.save ("),
    ("board", "print_leaderboards ("),
    ("dataset, fingerprint, checks", " (pjbench/"),  # a frame of pjbench's (not the process line, which may name a path)
)


def phase_shares(profile: Path) -> dict[str, float]:
    """Each phase's share of a py-spy raw profile's samples (lines: 'frame;frame;... count')."""
    counts: dict[str, int] = {}
    for line in profile.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        phase = next((name for name, frame in PHASES if frame in stack), "interpreter start and exit")
        counts[phase] = counts.get(phase, 0) + int(n)
    total = sum(counts.values())
    return {name: round(n / total, 3) for name, n in sorted(counts.items(), key=lambda kv: -kv[1])}


def timed(cmd: list[str], env: dict[str, str], profile: Path | None = None) -> tuple[float, float]:
    """Wall seconds and the process tree's peak RSS (MB) of one command."""
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        cmd = [str(spy), "record", "--subprocesses", "--format", "raw", "-o", str(profile), "--", *cmd]
    begin = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - begin
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="e4fc904")
    parser.add_argument("--clips", type=int, default=750)
    parser.add_argument("--head", default="published")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--task", default=None, help="a task of the synthetic small set (its existing mel cache) instead of the manifest")
    parser.add_argument("--schedule", default="paper")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each revision (0 with --profile: the profiles alone)")
    parser.add_argument(
        "--profile", action="store_true", help="one more run of each under py-spy (flamegraph stacks) and its phases' shares"
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the work folder (manifests, caches, profiles) here")
    parser.add_argument("--phases", type=Path, nargs="+", default=None, help="only print the phases' shares of these saved profiles")
    args = parser.parse_args()
    if args.phases:
        print(json.dumps({str(p): phase_shares(p) for p in args.phases}, indent=1))
        return

    sys.path.insert(0, str(ROOT))
    from pjbench.datasets import load_dataset

    dataset_root = Path(load_dataset("synthetic", build_missing=False).root)
    work = args.out or Path(tempfile.mkdtemp(prefix="pjbench-probe-command-"))
    before_tree = work / "before"
    if not before_tree.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before_tree), args.before], check=True, capture_output=True
        )
    trees = {args.before: before_tree, "this checkout": ROOT}
    common = ["--head", args.head, "--schedule", args.schedule, "--seeds", str(args.seeds), "--epochs", str(args.epochs)]
    common += ["--patience", "100", "--no-baselines"]
    if args.task is None:
        manifest = write_manifest(dataset_root, args.clips, work / "data")
        probe_args = ["probe", "--manifest", str(manifest), "-e", "mel", "-t", "classification", *common]
    else:  # the board's own data and cache, shared read-only by both revisions
        from pjbench.paths import cache_dir

        probe_args = ["probe", "-d", str(dataset_root), "-e", "mel", "-t", args.task, "--cache-dir", str(cache_dir()), *common]
    report: dict[str, dict[str, object]] = {}
    try:
        for name, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": str(tree), "PJBENCH_HOME": str(work / f"home-{tree.name}")}
            report[name] = {"probe_s": [], "peak_rss_mb": []}
            if args.task is None:
                extract = [sys.executable, "-m", "pjbench", "-q", "extract", "--manifest", str(manifest), "-e", "mel"]
                report[name]["extract_s"] = round(timed(extract, env)[0], 1)
        for repeat in range(args.repeats):
            for name, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree), "PJBENCH_HOME": str(work / f"home-{tree.name}")}
                results = work / f"results-{tree.name}-{repeat}"
                wall, rss = timed([sys.executable, "-m", "pjbench", "-q", *probe_args, "--results-dir", str(results)], env)
                report[name]["probe_s"].append(round(wall, 2))  # type: ignore[union-attr]
                report[name]["peak_rss_mb"].append(round(rss))  # type: ignore[union-attr]
                print(f"{name}: {wall:.1f} s, peak RSS {rss:.0f} MB", file=sys.stderr)
        if args.profile:
            for name, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": str(tree), "PJBENCH_HOME": str(work / f"home-{tree.name}")}
                profile = work / f"profile-{tree.name}.txt"  # flamegraph stacks
                timed(
                    [sys.executable, "-m", "pjbench", "-q", *probe_args, "--results-dir", str(work / f"results-{tree.name}-profile")],
                    env,
                    profile,
                )
                report[name]["profile"] = str(profile)
                report[name]["phases"] = phase_shares(profile)
    finally:
        if args.out is None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)], capture_output=True)
    timed_runs = [report[n]["probe_s"] for n in trees]
    speedup = round(min(timed_runs[0]) / min(timed_runs[1]), 2) if all(timed_runs) else None  # type: ignore[type-var, arg-type]
    print(json.dumps({"machine": machine(), "manifest_clips": None if args.task else args.clips, "command": "pjbench " + " ".join(probe_args),
                      "runs": report, "speedup_best_of": speedup}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
