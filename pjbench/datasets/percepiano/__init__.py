"""PercePiano (Park et al., Scientific Reports 2024; MIT licence): 1,202 segments of performance MIDI rated by experts on
19 perceptual dimensions, packed inside pjbench (``pjbench/data/percepiano``), rendered to audio offline."""

from .labels import DIMENSIONS

__all__ = ["DIMENSIONS"]
