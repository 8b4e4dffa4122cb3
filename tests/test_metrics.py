import math

import numpy as np
import pytest

from pjbench.scoring.metrics import acc_within, hit_accuracy, mean_ci, multiclass_metrics, multilabel_metrics


def test_acc_within_is_per_class_averaged():
    # class 0: 3 items, 2 right; class 2: 1 item, wrong by one; class 4: 1 item, wrong by two
    y_true = np.array([0, 0, 0, 2, 4])
    y_pred = np.array([0, 0, 1, 3, 2])
    assert acc_within(y_true, y_pred, 0) == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert acc_within(y_true, y_pred, 1) == pytest.approx((1 + 1 + 0) / 3)
    # plain accuracy would be 2/5; the per-class average differs
    probs = np.eye(5)[y_pred]
    m = multiclass_metrics(y_true, probs, ordinal=True, n_classes=5)
    assert m["accuracy"] == pytest.approx(0.4)
    assert m["acc0"] == pytest.approx(2 / 9)
    assert m["acc1"] == pytest.approx(2 / 3)
    assert "acc1" not in multiclass_metrics(y_true, probs, ordinal=False, n_classes=5)


def test_macro_f1_by_hand():
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 1])
    # class 0: P=1, R=.5, F1=2/3; class 1: P=2/3, R=1, F1=.8
    m = multiclass_metrics(y_true, np.eye(2)[y_pred], ordinal=False, n_classes=2)
    assert m["f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_multilabel_metrics_by_hand():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    s = np.array([[0.9, 0.2], [0.4, 0.8], [0.6, 0.3], [0.1, 0.6]])
    m = multilabel_metrics(y, s, ("a", "b"))
    # class a is ranked perfectly -> AP 1, AUC 1; class b: scores .2 .8 .3 .6 for labels 0 1 1 0
    # ranking: .8(1) .6(0) .3(1) .2(0) -> AP = (1/1 + 2/3)/2
    assert m["AP/a"] == pytest.approx(1.0)
    assert m["AP/b"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["mAP"] == pytest.approx((1 + (1 + 2 / 3) / 2) / 2)
    assert m["roc_auc"] == pytest.approx((1.0 + 0.75) / 2)
    # thresholded at .5: row preds [1,0] [0,1] [1,0] [0,1]; 6 of 8 labels right, 2 rows exactly right
    assert m["labelwise_accuracy"] == pytest.approx(6 / 8)
    assert m["exact_match"] == pytest.approx(0.5)


def test_hit_accuracy_counts_any_true_label():
    probs = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]])
    accept = [(0, 1), (2,), (2,)]
    assert hit_accuracy(accept, probs) == pytest.approx(2 / 3)


def test_mean_ci_uses_student_t():
    mean, half = mean_ci([0.5, 0.6, 0.7])
    assert mean == pytest.approx(0.6)
    assert half == pytest.approx(4.302652729749464 * 0.1 / math.sqrt(3))
    assert math.isnan(mean_ci([0.4])[1])


def test_leaderboard_marks_cells_not_clearly_above_chance(tmp_path):
    from pjbench.reporting.leaderboard import NEAR_CHANCE, build_board, clearly_above
    from pjbench.results.record import TaskResult

    assert clearly_above({"mean": 0.60, "ci95": 0.05}, 0.50) and not clearly_above({"mean": 0.60, "ci95": 0.12}, 0.50)
    assert not clearly_above({"mean": 0.5, "ci95": float("nan")}, 0.5)
    # the two-stage interval's own ends decide when recorded, not the ± shown
    assert not clearly_above({"mean": 0.60, "ci95": 0.05, "ci_low": 0.49, "ci_high": 0.65}, 0.50)

    def result(head: str, mean: float, ci: float) -> TaskResult:
        scores = {"hit_accuracy": {"mean": mean, "ci95": ci}, "accuracy": {"mean": 0.2, "ci95": 0.01}}
        counts = {"chance": 0.367, "chance_levels": {"hit_accuracy": 0.367, "accuracy": 0.25}}
        return TaskResult("d", "mel", "technique-single", head, "hit_accuracy", scores, [{}], {}, {}, counts, {}, {})

    board = build_board("d", [result("linear", 0.52, 0.05), result("published", 0.33, 0.10)], tmp_path)
    cells = {row[1]: row[4] for row in board.body}
    assert board.header[:4] == ["encoder", "head", "schedule", "seeds"]
    assert cells["linear"] == "52.0 ± 5.0" and cells["published"] == "33.0 ± 10.0" + NEAR_CHANCE
    assert cells["(label-blind guess)"] == "36.7"


def test_leaderboard_csv_has_numeric_columns(tmp_path):
    """The CSV is for spreadsheets and pandas: one row per cell, plain numbers, LF line ends, a final newline."""
    import csv

    from pjbench.reporting.leaderboard import write_leaderboards
    from pjbench.results.record import TaskResult

    per_seed = [{"seed": s, "test": {"hit_accuracy": v}} for s, v in enumerate((0.5, 0.6, 0.7))]
    scores = {"hit_accuracy": {"mean": 0.6, "ci95": 0.248}}
    TaskResult("d", "mel", "technique-single", "linear", "hit_accuracy", scores, per_seed, {}, {}, {"chance": 0.367}, {}, {}).save(tmp_path)
    board = write_leaderboards(tmp_path)["d"]
    assert (
        "| mel | linear |  | 3 | – | 60.0 ± 24.8 ° |" in board and "Reference rows" not in (tmp_path / "d" / "leaderboard.md").read_text()
    )
    raw = (tmp_path / "d" / "leaderboard.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    rows = list(csv.DictReader(raw.decode().splitlines()))
    assert len(rows) == 1
    row = rows[0]
    assert (row["task"], row["metric"], int(row["n_seeds"])) == ("technique-single", "hit_accuracy", 3)
    assert float(row["mean"]) == 0.6 and abs(float(row["ci_low"]) - 0.352) < 1e-9 and abs(float(row["ci_high"]) - 0.848) < 1e-9
    assert float(row["chance"]) == 0.367 and row["clearly_above_chance"] == "0"


@pytest.mark.parametrize(("positives", "total"), [(1, 5), (2, 6), (4, 6), (6, 6)])
def test_expected_random_ap_matches_every_ranking(positives, total):
    """The mAP chance level is the mean AP over all orderings of the items, computed here by scikit-learn."""
    import itertools

    from sklearn.metrics import average_precision_score

    from pjbench.scoring.metrics import expected_random_ap

    y = np.array([1] * positives + [0] * (total - positives))
    aps = [average_precision_score(y, np.array(order, dtype=float)) for order in itertools.permutations(range(total))]
    assert expected_random_ap(positives, total) == pytest.approx(np.mean(aps), abs=1e-12)
    if positives < total:
        assert expected_random_ap(positives, total) > positives / total  # a constant score's AP is the lower one
