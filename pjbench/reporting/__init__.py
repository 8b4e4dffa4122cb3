"""Reporting: the leaderboard (markdown, CSV, HTML), paired comparisons, rescoring from predictions, layer curves
and the papers' published numbers."""
