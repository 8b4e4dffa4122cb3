"""A result and what travels with it: the result record (JSON, run ids, the committed-results guard), its
per-item predictions, its plot."""
