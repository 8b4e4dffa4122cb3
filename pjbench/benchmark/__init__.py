"""The runners: segmenting, extraction, cache, training, evaluation, results, leaderboard."""
