"""ICPC-2015 transfer: pairing, aggregation, win counts, the fitting halves, and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from published_audio import ICPC_LABELS, PLD_LABELS, populate
from typer.testing import CliRunner

from pjbench.cli import app
from pjbench.experiments.icpc_transfer import (
    Candidate,
    CandidatePair,
    PartReader,
    SeedPairs,
    aggregate,
    build_pairs,
    halves,
    pair_metrics,
    rank_correlations,
    transfer_scores,
    weighted_pair_metrics,
    win_counts,
)
from pjbench.extraction.cache import CachedRecording

runner = CliRunner()


class FakeReader:
    """A cache with recordings of a given number of 10-second segments."""

    def __init__(self, segments: dict[str, int]) -> None:
        self.path = Path("fake.h5")
        self.segments = segments
        self.segment_seconds = 10.0
        self.frame_rate = 1.0

    def __contains__(self, rec_id: str) -> bool:
        return rec_id in self.segments

    def get(self, rec_id: str) -> CachedRecording:
        n = self.segments[rec_id]
        emb = np.arange(n, dtype=np.float16).reshape(n, 1, 1, 1) * np.ones((1, 1, 10, 2), np.float16)
        return CachedRecording(emb, n, 4.0)


def test_parts_and_pairs() -> None:
    cands = [Candidate("A", 2, ("a1", "a2")), Candidate("B", 0, ("b",)), Candidate("C", 0, ("c",)), Candidate("D", 1, ("missing",))]
    reader = FakeReader({"a1": 3, "a2": 4, "b": 5, "c": 2})
    parts = PartReader(reader, cands, part_segments=3)  # type: ignore[arg-type]
    # A's two videos make 7 segments -> parts of 3 + 3 + a 1-segment tail, dropped (shorter than half a part);
    # B: 3 + 2 (kept); C: a single short part is still kept
    assert parts.n_parts == {"A": 2, "B": 2, "C": 1}
    assert parts.get(parts.part_id("A", 0)).embeddings[:, 0, 0, 0].tolist() == [0, 1, 2]  # a1, in order
    assert parts.get(parts.part_id("A", 1)).embeddings[:, 0, 0, 0].tolist() == [0, 1, 2]  # then a2
    assert parts.get(parts.part_id("B", 1)).n_segments == 2
    pairs = build_pairs(cands, parts)
    names = {(p.first, p.second) for p in pairs}
    assert names == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A")}  # B and C tie (same stage); D has no audio
    ab = next(p for p in pairs if (p.first, p.second) == ("A", "B"))
    assert ab.target == 0 and [ex.ids for ex in ab.parts] == [("A#3:0", "B#3:0"), ("A#3:1", "B#3:1")]
    assert next(p for p in pairs if (p.first, p.second) == ("C", "A")).target == 1


def test_vote_and_mean_probability() -> None:
    probs = [np.array([0.9, 0.6, 0.2]), np.array([0.45, 0.45, 0.95]), np.array([0.7, 0.3])]
    vote, mean = aggregate(probs)
    # votes for "second": 2 of 3 -> second; 1 of 3 -> first; 1 of 2 is a tie, broken by the mean (0.5: not above) -> first
    assert vote.tolist() == [1, 0, 0]
    assert mean.tolist() == [1, 1, 0]  # mean P(second): 0.57, 0.62, 0.50


def test_win_counts_count_both_sides() -> None:
    pairs = [CandidatePair("A", "B", 0, ()), CandidatePair("B", "A", 1, ()), CandidatePair("C", "B", 0, ())]
    table = win_counts(pairs, np.array([0, 0, 1]), ["A", "B", "C"])
    assert table == {"A": {"wins": 1, "matches": 2}, "B": {"wins": 2, "matches": 3}, "C": {"wins": 0, "matches": 1}}
    cands = [Candidate("A", 2, ()), Candidate("B", 1, ()), Candidate("C", 0, ())]
    perfect = {"A": {"wins": 4, "matches": 4}, "B": {"wins": 2, "matches": 4}, "C": {"wins": 0, "matches": 4}}
    corr = rank_correlations(cands, perfect)
    assert corr["kendall_tau"] == pytest.approx(1.0) and corr["spearman"] == pytest.approx(1.0)


def test_fitting_halves_are_disjoint_and_stratified() -> None:
    cands = [Candidate(f"c{i}", i % 3, ()) for i in range(30)]
    fit, test = halves(cands, seed=0, fraction=0.5)
    assert not fit & test and len(fit | test) == 30
    assert all(sum(1 for c in cands if c.name in fit and c.stage == s) == 5 for s in range(3))
    assert halves(cands, seed=1, fraction=0.5)[0] != fit


def test_transfer_intervals_resample_candidates() -> None:
    """Weighted pair metrics equal the plain ones at unit weights and on repeated pairs at integer weights; the
    interval resamples candidates (both of a pair's) and seeds."""
    rng = np.random.default_rng(0)
    names = [f"c{i}" for i in range(12)]
    pairs = [CandidatePair(a, b, int(rng.integers(2)), ()) for a in names for b in names if a != b]
    probs = [rng.random(int(rng.integers(1, 4))) for _ in pairs]
    counts = rng.integers(0, 3, len(pairs))
    counts[:2] = 1
    w = np.stack([np.ones(len(pairs)), counts.astype(float)])
    weighted = weighted_pair_metrics(pairs, probs, "", w)
    plain = pair_metrics(pairs, probs, "")
    repeated = np.repeat(np.arange(len(pairs)), counts)
    on_repeats = pair_metrics([pairs[i] for i in repeated], [probs[i] for i in repeated], "")
    for metric, values in weighted.items():
        assert values[0] == pytest.approx(plain[metric]) and values[1] == pytest.approx(on_repeats[metric]), metric
    stages = {n: i % 3 for i, n in enumerate(names)}
    seeds = [SeedPairs(s, pairs, probs, pairs[: 40 + s], probs[: 40 + s], probs[: 40 + s], stages) for s in range(2)]
    per_seed = [{"test": {**pair_metrics(s.test_pairs, s.test_probs, ""), **pair_metrics(pairs, probs, "all_")}} for s in seeds]
    scores, record = transfer_scores(seeds, per_seed, names)
    acc = scores["accuracy_vote"]
    assert acc["ci_low"] < acc["mean"] < acc["ci_high"] and record["group"] == "performer" and record["n_groups"] == 12
    rows = seeds[0].rows()
    assert {r["split"] for r in rows} == {"test", "fit", "all"} and rows[0]["groups"][0] == {
        "performer": pairs[0].first,
        "stage": str(stages[pairs[0].first]),
    }


@pytest.mark.slow
def test_transfer_end_to_end(pjbench_home: Path, tmp_path: Path) -> None:
    pld, icpc, results = tmp_path / "pld", tmp_path / "icpc", tmp_path / "results"
    populate("pld-expertise", pld, PLD_LABELS, 4, {"*": ["flac"]})
    populate("icpc2015", icpc, ICPC_LABELS, 5, {"*": ["flac"]}, seconds=(25.0, 45.0), level_of=lambda s: 0.5 + int(s) / 2)
    for name, root, labels in (("pld-expertise", pld, PLD_LABELS), ("icpc2015", icpc, ICPC_LABELS)):
        r = runner.invoke(app, ["extract", "-e", "mel", "-d", name, "--audio-root", str(root), "--labels", str(labels)])
        assert r.exit_code == 0, r.output
    r = runner.invoke(
        app,
        ["transfer", "-e", "mel", "--pld-audio-root", str(pld), "--pld-labels", str(PLD_LABELS), "--icpc-audio-root", str(icpc)]
        + ["--icpc-labels", str(ICPC_LABELS), "--seeds", "2", "--epochs", "20", "--part-segments", "2", "--fit-epochs", "2"]
        + ["--results-dir", str(results)],
    )
    assert r.exit_code == 0, r.output
    data = json.loads((results / "icpc2015" / "mel" / "icpc-transfer.linear.json").read_text())
    assert data["counts"]["n_candidates"] == 20 and data["counts"]["n_missing_audio"] == 139 - 20
    assert data["counts"]["n_pairs"] == 20 * 20 - 4 * 5 * 5  # ordered pairs of different stages
    for metric in ("accuracy_vote", "accuracy_mean_prob", "fit_accuracy_vote", "all_accuracy_vote", "kendall_tau", "spearman"):
        assert metric in data["scores"]
    assert "ci_low" in data["scores"]["accuracy_vote"] and data["intervals"]["group"] == "performer"
    assert (results / "icpc2015" / "mel" / data["predictions"]["file"]).exists()
    r = runner.invoke(app, ["rescore", str(results / "icpc2015" / "mel" / "icpc-transfer.linear.json")])
    assert r.exit_code == 0 and "recomputed exactly" in r.output, r.output  # the rank correlations and PLD accuracy too
    # the recitals' sound rises with the stage as the PLD levels' does, so the probe transfers
    assert data["scores"]["all_accuracy_vote"]["mean"] > 0.65 and data["scores"]["kendall_tau"]["mean"] > 0.3
    ranking = data["extra"]["ranking"]
    names = {r["candidate"] for r in ranking}
    stage = {r["candidate"]: r["stage"] for r in ranking}
    for seed in data["per_seed"]:
        fit = set(seed["fit_candidates"])
        assert fit < names and 8 <= len(fit) <= 12  # half of each stage's 5, rounded
        test = names - fit
        assert seed["n_test_pairs"] == sum(stage[a] != stage[b] for a in test for b in test)  # only within the other half
    # each candidate meets the 15 candidates of other stages, as first and as second
    assert len(ranking) == 20 and all(r["matches"] == 30 for r in ranking)
    assert [r["mean_wins"] for r in ranking] == sorted((r["mean_wins"] for r in ranking), reverse=True)
    assert (results / "icpc2015" / "mel" / "icpc-transfer.linear.png").stat().st_size > 0
    board = (results / "icpc2015" / "leaderboard.md").read_text()
    assert "mel (paper, Table 4)" in board and "52.91" in board
