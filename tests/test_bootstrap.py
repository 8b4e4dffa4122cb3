"""The two-stage bootstrap: weighted metrics equal the plain ones, groups are resampled as wholes, seeds too."""

from __future__ import annotations

import numpy as np
import pytest

from pjbench.scoring import bootstrap
from pjbench.tasks import TASKS, Example


def _random_multiclass(n: int, k: int, rng: np.random.Generator) -> tuple[list[Example], np.ndarray]:
    y = rng.integers(0, k, n)
    probs = rng.dirichlet(np.ones(k), n).astype(np.float32)
    probs[np.arange(n) % 3 == 0, :] = 0
    probs[np.arange(n) % 3 == 0, y[np.arange(n) % 3 == 0]] = 1  # a third right for sure
    return [Example((f"r{i}",), int(t)) for i, t in enumerate(y)], probs


@pytest.mark.parametrize("name", ["difficulty-9way", "expertise-4way", "technique-single", "technique-multilabel"])
def test_weighted_metrics_equal_the_plain_ones_at_unit_and_repeated_weights(name: str) -> None:
    """At unit weights the weighted form is the metric; at integer weights it is the metric on items repeated
    that many times (what a bootstrap draw means)."""
    task = TASKS[name]
    rng = np.random.default_rng(1)
    n = 60
    if task.kind.name == "multilabel":
        y = (rng.random((n, task.n_classes)) < 0.3).astype(int)
        y[0] = 1
        scores = rng.random((n, task.n_classes)).astype(np.float32)
        scores[5:10] = scores[0]  # ties, which scikit-learn groups into one threshold
        examples = [Example((f"r{i}",), tuple(int(v) for v in row)) for i, row in enumerate(y)]
        probs = scores
    else:
        examples, probs = _random_multiclass(n, task.n_classes, rng)
        if task.kind.name == "single-of-set":
            examples = [Example(ex.ids, ex.target, tuple(sorted({int(ex.target), int(ex.target + 1) % task.n_classes}))) for ex in examples]
    counts = rng.integers(0, 4, n)
    counts[:3] = 1
    weights = np.stack([np.ones(n), counts.astype(float)])
    weighted = task.weighted_metrics(examples, probs, weights)
    plain = task.metrics(examples, probs)
    repeated = np.repeat(np.arange(n), counts)
    on_repeats = task.metrics([examples[i] for i in repeated], probs[repeated])
    assert set(weighted) <= set(plain) and task.primary_metric in weighted
    for metric, values in weighted.items():
        assert values[0] == pytest.approx(plain[metric], abs=1e-9), metric
        assert values[1] == pytest.approx(on_repeats[metric], abs=1e-9), metric
    for metric in weighted:  # asked for one metric, the same numbers, and only that metric
        alone = task.weighted_metrics(examples, probs, weights, only=[metric])
        assert list(alone) == [metric] and np.array_equal(alone[metric], weighted[metric]), metric


def test_groups_are_drawn_as_wholes_and_pairs_weigh_by_both_groups() -> None:
    items = [(["a1"], [{"piece": "A"}]), (["a2"], [{"piece": "A"}]), (["b1"], [{"piece": "B"}]), (["x"], [{}])]
    clusters = bootstrap.clusters_of(items, "piece")
    assert clusters.names == ("piece:A", "piece:B", "recording:x")
    w = bootstrap.item_weights(clusters, resamples=500)
    assert np.array_equal(w[:, 0], w[:, 1])  # clips of one piece always come together
    assert np.all(w.sum(axis=1) > 0)
    pairs = [(["a1", "b1"], [{"performer": "p"}, {"performer": "q"}]), (["a1", "a2"], [{"performer": "p"}, {"performer": "p"}])]
    crossed = bootstrap.clusters_of(pairs, "performer")
    assert crossed.members == ((0, 1), (0,))
    counts_w = bootstrap.item_weights(crossed, resamples=200)
    single = bootstrap.item_weights(bootstrap.Clusters("performer", crossed.names, ((0,), (1,))), resamples=200)
    assert np.array_equal(counts_w[:, 0], single[:, 0] * single[:, 1])  # a pair of two performers: the product
    assert np.array_equal(counts_w[:, 1], single[:, 0])  # a pair within one performer: that performer's count


def test_cluster_interval_has_the_width_of_the_groups_not_of_the_items() -> None:
    """20 pieces of 5 clips each, every clip of half the pieces right: the accuracy's sampling error is that of
    20 draws (sd 0.112), not of 100 (0.05), and the 95% interval spans about ±0.22."""
    task = TASKS["difficulty-3way"]
    examples, items, probs = [], [], []
    for piece in range(20):
        for clip in range(5):
            examples.append(Example((f"p{piece}-{clip}",), 0))
            items.append(([f"p{piece}-{clip}"], [{"piece": f"p{piece}"}]))
            probs.append([1.0, 0.0, 0.0] if piece % 2 == 0 else [0.0, 1.0, 0.0])
    probs_arr = np.array(probs, dtype=np.float32)
    clusters = bootstrap.clusters_of(items, "piece")
    boot = bootstrap.replicates(task.weighted_metrics, [(examples, probs_arr)], clusters)
    assert np.std(boot["accuracy"]) == pytest.approx(np.sqrt(0.25 / 20), rel=0.08)
    low, high = bootstrap.percentile_interval(boot["accuracy"])
    assert 0.25 <= low <= 0.33 and 0.67 <= high <= 0.75
    alone = bootstrap.replicates(task.weighted_metrics, [(examples, probs_arr)], bootstrap.clusters_of(items, None))
    assert np.std(alone["accuracy"]) == pytest.approx(np.sqrt(0.25 / 100), rel=0.08)


def test_seed_draws_spread_the_interval_and_one_seed_still_gets_one() -> None:
    task = TASKS["difficulty-3way"]
    examples = [Example((f"r{i}",), 0) for i in range(40)]
    items = [([f"r{i}"], [{"piece": f"p{i}"}]) for i in range(40)]
    right = np.tile(np.array([[1.0, 0.0, 0.0]], dtype=np.float32), (40, 1))
    wrong = np.tile(np.array([[0.0, 1.0, 0.0]], dtype=np.float32), (40, 1))
    per_seed = [{"test": task.metrics(examples, p)} for p in (right, wrong)]
    scores, record = bootstrap.task_scores(task, [(examples, right), (examples, wrong)], items, "piece", per_seed)
    # the items do not matter here (every item alike); the seeds do: replicates are 0, 0.5 or 1
    assert scores["accuracy"]["mean"] == 0.5
    assert scores["accuracy"]["ci_low"] == 0.0 and scores["accuracy"]["ci_high"] == 1.0
    assert record["n_groups"] == 40 and record["n_seeds"] == 2 and record["resamples"] == bootstrap.RESAMPLES
    one, _ = bootstrap.task_scores(task, [(examples, right)], items, "piece", per_seed[:1])
    assert one["accuracy"]["ci_low"] == one["accuracy"]["ci_high"] == 1.0  # one seed: an interval, not NaN
    assert np.isnan(one["accuracy"]["seed_ci95"]) and one["accuracy"]["ci95"] == 0.0


def _crossed_toy(performer_effect: bool) -> tuple[list, list, np.ndarray]:
    """12 pieces x 12 performers, each performer playing every piece once; with ``performer_effect``, half the
    performers are right on every piece and half wrong (a performer's skill carried across pieces); without, the
    right answers are spread evenly over pieces and performers (a Latin square)."""
    examples, items, probs = [], [], []
    for piece in range(12):
        for performer in range(12):
            rec = f"s{piece}-p{performer}"
            examples.append(Example((rec,), 0))
            items.append(([rec], [{"piece": f"s{piece}", "performer": f"p{performer}"}]))
            right = performer < 6 if performer_effect else (piece + performer) % 2 == 0
            probs.append([1.0, 0.0, 0.0] if right else [0.0, 1.0, 0.0])
    return examples, items, np.array(probs, dtype=np.float32)


def test_crossed_factors_widen_the_interval_where_the_second_factor_carries_variance() -> None:
    task = TASKS["difficulty-3way"]
    examples, items, probs = _crossed_toy(performer_effect=True)
    one_way = bootstrap.replicates(task.weighted_metrics, [(examples, probs)], bootstrap.clusters_of(items, "piece"))["accuracy"]
    two_way = bootstrap.clusters_of(items, ("piece", "performer"))
    assert two_way.groups_per_factor() == [12, 12] and two_way.key == "piece×performer"
    both = bootstrap.replicates(task.weighted_metrics, [(examples, probs)], two_way)["accuracy"]
    # by piece alone every piece scores 0.5: no spread; the performers' 6 right and 6 wrong give sd sqrt(0.25/12)
    assert np.std(one_way) < 1e-9
    assert np.std(both) == pytest.approx(np.sqrt(0.25 / 12), rel=0.1)


def test_crossed_factors_without_a_second_factor_effect_keep_the_one_way_interval() -> None:
    task = TASKS["difficulty-3way"]
    examples, items, probs = _crossed_toy(performer_effect=False)
    one = np.std(bootstrap.replicates(task.weighted_metrics, [(examples, probs)], bootstrap.clusters_of(items, "performer"))["accuracy"])
    both = np.std(
        bootstrap.replicates(task.weighted_metrics, [(examples, probs)], bootstrap.clusters_of(items, ("performer", "piece")))["accuracy"]
    )
    assert both == pytest.approx(one, rel=0.15)


def test_one_factor_draws_exactly_as_before_and_seed_streams_are_independent_across_encoders() -> None:
    legacy = np.random.default_rng([0, 0]).multinomial(7, np.full(7, 1 / 7), size=50).astype(float)
    assert np.array_equal(bootstrap.group_counts(7, 50), legacy)  # results written before can be rescored exactly
    shared = np.random.default_rng([0, 1]).multinomial(5, np.full(5, 0.2), size=50).astype(float)
    assert np.array_equal(bootstrap.seed_draws(5, 50), shared)
    mel, mel_again = bootstrap.seed_draws(5, 50, stream="mel/linear"), bootstrap.seed_draws(5, 50, stream="mel/linear")
    other = bootstrap.seed_draws(5, 50, stream="transkun/linear")
    assert np.array_equal(mel, mel_again) and not np.array_equal(mel, other)
    assert bootstrap.seed_stream_of("mel", "linear") == "mel/linear"


@pytest.mark.parametrize(
    "name", ["mel/expertise-2way.linear-paper", "transkun/expertise-4way.published-fast", "loudness/technique-multilabel.linear-paper"]
)
def test_committed_results_with_crossed_factors_and_seed_streams_rescore_exactly(name: str) -> None:
    from pathlib import Path

    from pjbench.reporting.rescore import differences, rescore

    path = Path(__file__).resolve().parents[1] / "results" / "synthetic" / f"{name}.json"
    result, per_seed, scores = rescore(path)
    assert result.config["dataset"]["resample_group"] == ["piece", "performer"]
    assert result.intervals["seed_stream"] == f"{result.encoder}/{result.head}"
    assert differences(result, per_seed, scores) == []


def test_curves_under_fractional_weights_equal_scikit_learns_weighted_ones() -> None:
    """Whole-count weights take an exact integer path for the curves' running sums; other weights keep the float
    path, which equals scikit-learn's sample-weighted AP and ROC-AUC."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(3)
    truth = (rng.random(80) < 0.4).astype(int)
    score = np.round(rng.random(80), 1)  # many ties
    weights = rng.integers(0, 4, (2, 80)) * np.array([[1.0], [0.25]])  # whole counts, then quarters
    ap = bootstrap.weighted_average_precision(weights, truth, score)
    auc = bootstrap.weighted_roc_auc(weights, truth, score)
    for row in range(2):
        assert ap[row] == pytest.approx(average_precision_score(truth, score, sample_weight=weights[row]), abs=1e-12)
        assert auc[row] == pytest.approx(roc_auc_score(truth, score, sample_weight=weights[row]), abs=1e-12)
