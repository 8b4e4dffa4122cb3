"""pjbench's own synthesized piano dataset: scores and performers drawn, rendered from sampled piano sound, labels
known by construction. This ``__init__`` stays light (no rendering code), so the dataset registry can name the tasks
without importing the renderer."""

SYNTHETIC_TASKS = (
    "expertise-2way",
    "expertise-4way",
    "expertise-3way",
    "difficulty-9way",
    "difficulty-3way",
    "technique-multilabel",
    "technique-single",
)
