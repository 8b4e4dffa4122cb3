"""The seven piano techniques of PLD's technique subset, in the order of its label files' one-hot columns.
The synthetic generator labels its clips with the same names."""

from __future__ import annotations

TECHNIQUES: tuple[str, ...] = (
    "Scales",
    "Arpeggios",
    "Ornaments",
    "Repeatednotes",
    "Doublenotes",
    "Octave",
    "Staccato",
)
