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

# paper Table 4: ICPC-2015 2-way pair ranking, w/o fitting and with fitting (Acc, F1)
_ICPC_TABLE4_VALUES: dict[str, tuple[float, float, float, float]] = {
    "mel": (52.91, 52.79, 49.27, 49.04),
    "jukebox": (46.63, 44.92, 48.27, 47.13),
    "audiomae": (56.86, 55.86, 59.08, 58.76),
    "mert": (49.07, 46.78, 53.05, 52.54),
    "dac": (42.17, 41.71, 53.67, 53.67),
    "audiomae (fine-tuned)": (54.32, 50.14, 54.89, 49.81),
    "dac (fine-tuned)": (60.49, 60.27, 59.87, 59.84),
}
_ICPC_COLUMNS = (
    ("icpc-transfer", "accuracy_vote"),
    ("icpc-transfer", "f1_vote"),
    ("icpc-transfer", "fit_accuracy_vote"),
    ("icpc-transfer", "fit_f1_vote"),
)
_ICPC_TABLE4 = {enc: dict(zip(_ICPC_COLUMNS, values)) for enc, values in _ICPC_TABLE4_VALUES.items()}

# PISA paper Table 1 (C3D video branch, ResNet-18 audio branch, their fusion; accuracy %) and the fusion paper
_PISA_ROWS: dict[str, dict[tuple[str, str], float]] = {
    "C3D + ResNet-18 (PISA paper, Table 1)": {
        ("pisa-video-contiguous", "accuracy"): 65.55,
        ("pisa-video-uniform", "accuracy"): 73.95,
        ("pisa-audio-contiguous", "accuracy"): 53.36,
        ("pisa-audio-uniform", "accuracy"): 64.50,
        ("pisa-multimodal-contiguous", "accuracy"): 61.55,
        ("pisa-multimodal-uniform", "accuracy"): 74.60,
    },
    "R3D-18 + ResNet-18 (fusion paper)": {("pisa-multimodal-uniform", "accuracy"): 70.80},
}

# the real datasets carry these names; row label -> (task, metric) -> value
PUBLISHED: dict[str, dict[str, dict[tuple[str, str], float]]] = {
    **{
        name: {f"{enc} (paper, Table 3)": v for enc, v in _PLD_TABLE3.items()}
        for name in ("pld-expertise", "cipi-difficulty", "pld-technique")
    },
    "icpc2015": {f"{enc} (paper, Table 4)": v for enc, v in _ICPC_TABLE4.items()},
    "pisa": _PISA_ROWS,
}


def reference_rows(dataset: str) -> dict[str, dict[tuple[str, str], float]]:
    """Labelled rows of the papers' published numbers for this dataset (none for the synthetic set or a manifest)."""
    return PUBLISHED.get(dataset, {})
