"""Building the board of a results folder (its paired comparisons: ★, shortcut notes, head notes), this checkout
against a revision before it, side by side: each build in a fresh process with an empty `$PJBENCH_HOME` (nothing
stored), the two alternating; then this checkout again on its own filled store (a rebuild). The boards' text must
be the same.

Run: python benchmarks/board_speed.py --before a32706d [--results results] [--repeats 2]
(`--before` is checked out into a temporary git worktree; the rows' verification is left out: it is cached
separately and measured by the board's first build)
"""

from __future__ import annotations

import argparse
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


def child(results: str) -> dict:
    from pjbench.reporting.leaderboard import make_boards

    start = time.perf_counter()
    made = make_boards(Path(results), verify=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "text": {name: board.markdown() for name, board in made.boards.items()}}


def run(code_root: Path, home: Path, results: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code_root), "PJBENCH_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(results)], check=True, capture_output=True, text=True, env=env, cwd=code_root
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="the revision to measure against")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    if not args.before:
        parser.error("--before REV is required")
    print(f"machine: {machine()}")
    results = args.results.resolve()
    with tempfile.TemporaryDirectory() as scratch:
        before_root = Path(scratch) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before_root), args.before], check=True, capture_output=True, cwd=ROOT)
        try:
            times: dict[str, list[float]] = {"before": [], "after": [], "after, stored": []}
            texts = {}
            for k in range(args.repeats):
                for name, code in (("before", before_root), ("after", ROOT)):
                    home = Path(scratch) / f"home-{name}-{k}"
                    got = run(code, home, results)
                    times[name].append(got["seconds"])
                    texts[name] = got["text"]
                    print(f"{name} (empty store): {got['seconds']:.1f} s", flush=True)
                stored = run(ROOT, Path(scratch) / f"home-after-{k}", results)
                times["after, stored"].append(stored["seconds"])
                print(f"after (its store filled): {stored['seconds']:.1f} s", flush=True)
                if stored["text"] != texts["after"]:
                    raise SystemExit("the board read from the store differs from the board computed")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before_root)], capture_output=True, cwd=ROOT)
    same = texts["before"] == texts["after"]
    print(f"boards identical before and after: {same}")
    for name, values in times.items():
        print(f"{name}: {', '.join(f'{v:.1f}' for v in values)} s")
    print(f"ratio (before / after, empty stores): {sum(times['before']) / sum(times['after']):.2f}x")
    print(f"ratio (before / after with its store): {sum(times['before']) / sum(times['after, stored']):.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
