"""Scoring: metrics and the bootstrap. Arrays in, numbers out: this room knows no task, file or model."""
