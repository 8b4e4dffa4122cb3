"""Recompute the difficulty cut points of the synthetic generator (deciles of the combined value).

Run: python research/calibrate_difficulty.py [--n 5000]
"""

from __future__ import annotations

import argparse

import numpy as np

from pjbench.datasets.synthetic.scores import difficulty_value, generate_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    values = np.array([difficulty_value(generate_score(rng, seconds=float(rng.uniform(10, 60))).properties) for _ in range(args.n)])
    cuts = np.quantile(values, np.linspace(0, 1, 10)[1:-1])
    print("DIFFICULTY_CUTS =", tuple(round(float(c), 4) for c in cuts))


if __name__ == "__main__":
    main()
