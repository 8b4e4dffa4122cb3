"""Published numbers (Piano Judges paper, Table 3; REFERENCE.md), shown as labelled reference rows
only on the datasets they were measured on, never ranked with pjbench's own rows."""

from __future__ import annotations

# columns: (task, metric) -> value in percent
_PLD_TABLE3: dict[str, dict[tuple[str, str], float]] = {
    "mel": {
        ("expertise-2way", "accuracy"): 75.90,
        ("expertise-4way", "accuracy"): 52.34,
        ("difficulty-9way", "acc0"): 32.98,
        ("difficulty-9way", "acc1"): 59.17,
        ("difficulty-3way", "accuracy"): 67.21,
        ("technique-multilabel", "mAP"): 57.49,
        ("technique-multilabel", "roc_auc"): 71.13,
        ("technique-single", "hit_accuracy"): 46.67,
    },
    "jukebox": {
        ("expertise-2way", "accuracy"): 84.51,
        ("expertise-4way", "accuracy"): 60.41,
        ("difficulty-9way", "acc0"): 33.41,
        ("difficulty-9way", "acc1"): 55.36,
        ("difficulty-3way", "accuracy"): 60.49,
        ("technique-multilabel", "mAP"): 49.33,
        ("technique-multilabel", "roc_auc"): 59.79,
        ("technique-single", "hit_accuracy"): 25.44,
    },
    "audiomae": {
        ("expertise-2way", "accuracy"): 93.48,
        ("expertise-4way", "accuracy"): 84.21,
        ("difficulty-9way", "acc0"): 31.60,
        ("difficulty-9way", "acc1"): 66.09,
        ("difficulty-3way", "accuracy"): 79.03,
        ("technique-multilabel", "mAP"): 60.69,
        ("technique-multilabel", "roc_auc"): 67.51,
        ("technique-single", "hit_accuracy"): 42.22,
    },
    "mert": {
        ("expertise-2way", "accuracy"): 89.48,
        ("expertise-4way", "accuracy"): 82.12,
        ("difficulty-9way", "acc0"): 26.55,
        ("difficulty-9way", "acc1"): 62.28,
        ("difficulty-3way", "accuracy"): 73.13,
        ("technique-multilabel", "mAP"): 55.76,
        ("technique-multilabel", "roc_auc"): 69.05,
        ("technique-single", "hit_accuracy"): 37.78,
    },
    "dac": {
        ("expertise-2way", "accuracy"): 86.84,
        ("expertise-4way", "accuracy"): 77.77,
        ("difficulty-9way", "acc0"): 27.61,
        ("difficulty-9way", "acc1"): 59.86,
        ("difficulty-3way", "accuracy"): 69.64,
        ("technique-multilabel", "mAP"): 48.50,
        ("technique-multilabel", "roc_auc"): 57.87,
        ("technique-single", "hit_accuracy"): 24.44,
    },
}

# the real PLD/CIPI datasets (added by the datasets issue) carry these names
PUBLISHED: dict[str, dict[str, dict[tuple[str, str], float]]] = {
    name: _PLD_TABLE3 for name in ("pld-expertise", "cipi-difficulty", "pld-technique")
}


def reference_rows(dataset: str) -> dict[str, dict[tuple[str, str], float]]:
    return PUBLISHED.get(dataset, {})
