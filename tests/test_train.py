import numpy as np
import pytest
import torch

from pjbench.extraction.cache import CacheReader
from pjbench.probing.config import TrainConfig
from pjbench.probing.feeders import PooledFeeder, SegmentFeeder
from pjbench.probing.fit import Member, fit_members
from pjbench.probing.probe import split_examples
from pjbench.probing.train import train_seeds
from pjbench.tasks import TASKS


def test_single_label_view_trains_each_class_towards_being_among_the_true_labels():
    from pjbench.tasks.base import Example

    task = TASKS["technique-single"]
    ex = [Example(("a",), 0, (0, 4)), Example(("b",), 2, (2,))]
    t = task.targets(ex, torch.device("cpu"))
    assert torch.allclose(t[0], torch.tensor([1.0, 0, 0, 0, 1.0, 0, 0]))
    assert torch.allclose(t[1], torch.tensor([0, 0, 1.0, 0, 0, 0, 0]))


def test_single_label_objective_without_information_answers_the_most_common_label():
    """With an input that says nothing, the best single answer is the label most often among the true ones.
    Here label 4 is in 30 of 46 sets but never alone, label 3 alone in 16: a softmax towards 1/|S| would give
    4 a mass of 15 against 16 and answer 3 (hit 16/46); the per-class marginals answer 4 (hit 30/46)."""
    from pjbench.scoring.metrics import hit_accuracy
    from pjbench.tasks.base import Example

    task = TASKS["technique-single"]
    sets = [(0, 4)] * 10 + [(1, 4)] * 10 + [(2, 4)] * 10 + [(3,)] * 16
    examples = [Example((str(i),), s[0], s) for i, s in enumerate(sets)]
    device = torch.device("cpu")
    cfg = TrainConfig("linear")
    torch.manual_seed(0)
    bias = torch.zeros(1, task.n_classes, requires_grad=True)  # a model that sees no input
    optimizer = torch.optim.Adam([bias], lr=0.05)
    loss_fn, target = task.loss(examples, cfg.pos_weight_scale, device), task.targets(examples, device)
    for _ in range(500):
        loss = loss_fn(bias.expand(len(examples), -1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    probs = task.probabilities(bias.expand(len(examples), -1)).detach().numpy()
    assert np.allclose(probs.sum(1), 1.0)
    assert int(probs[0].argmax()) == 4
    assert hit_accuracy([e.accept for e in examples], probs) == 30 / 46


def test_linear_probe_learns_expertise_on_tiny(tiny, tiny_mel_cache):
    reader = CacheReader(tiny_mel_cache)
    task = TASKS["expertise-2way"]
    splits, dropped = split_examples(task, tiny, set(reader.ids()))
    assert sum(dropped.values()) == 0
    ids = sorted({i for exs in splits.values() for ex in exs for i in ex.ids})
    feeder = PooledFeeder(reader, ids, sorted({i for ex in splits["train"] for i in ex.ids}))
    out = train_seeds(task, feeder, splits, TrainConfig("linear", lr=1e-3, max_epochs=40, patience=40), seeds=[0], progress=False)[0][1]
    reader.close()
    assert out.best_epoch < out.epochs_run
    assert out.val["accuracy"] > 0.6  # 0.5 is chance: the pooled mel statistics do carry skill
    assert set(out.test) >= {"accuracy", "acc0", "f1"}


def test_published_head_streams_pairs_of_real_segments(tiny, tiny_mel_cache):
    reader = CacheReader(tiny_mel_cache)
    feeder = SegmentFeeder(reader, max_segments=30)
    task = TASKS["expertise-2way"]
    splits, _ = split_examples(task, tiny, set(reader.ids()))
    (x, batch_index, position, size), chunk = next(feeder.batches(splits["train"][:4], 4, torch.device("cpu")))
    for b, ex in enumerate(chunk):
        n = min(reader.get(i).n_segments for i in ex.ids)
        assert int((batch_index == b).sum()) == n  # only positions both recordings have
    assert x.shape[1:] == (1, 3000, 128)  # two 1500-frame segments side by side
    a = reader.get(chunk[0].ids[0]).embeddings[0]
    assert np.allclose(x[0, :, :1500].numpy(), a.astype(np.float32))
    reader.close()


def test_several_caches_of_one_encoder_are_named_with_what_they_hold(tmp_path, caplog):
    import json
    import logging
    import os
    from types import SimpleNamespace

    import h5py

    from pjbench.probing.probe import find_cache

    folder = tmp_path / "synthetic"
    folder.mkdir()
    for i, scale in enumerate(("log", "power")):
        with h5py.File(folder / f"mel-{scale}.h5", "w") as f:
            f.attrs["config"] = json.dumps({"encoder": {"description": f"mel ({scale})"}, "pool": "none", "layer": "last"})
            f.create_group("recordings")
        os.utime(folder / f"mel-{scale}.h5", (1000 + i, 1000 + i))
    with caplog.at_level(logging.WARNING):
        chosen = find_cache(SimpleNamespace(name="synthetic", info={}), "mel", tmp_path)  # type: ignore[arg-type]
    assert chosen.name == "mel-power.h5"  # the newest
    assert "mel-log.h5 (mel (log), pool none, layer last)" in caplog.text and "--cache" in caplog.text


def _alone_and_together(task_name: str, feeder_of, tiny, cache, data_order: str = "seed") -> tuple[list, list]:
    reader = CacheReader(cache)
    task = TASKS[task_name]
    splits, _ = split_examples(task, tiny, set(reader.ids()))
    feeder = feeder_of(reader, splits)
    cfg = TrainConfig("published", lr=1e-3, max_epochs=3, patience=1, standardize=True, data_order=data_order)
    together = [o for _, o in train_seeds(task, feeder, splits, cfg, seeds=[0, 1, 2], progress=False)]
    alone = [train_seeds(task, feeder, splits, cfg, seeds=[s], progress=False)[0][1] for s in (2, 0)]
    reader.close()
    return together, alone


@pytest.mark.parametrize("data_order", ["seed", "shared"])
def test_a_seed_trained_beside_others_gives_exactly_what_it_gives_alone(tiny, tiny_mel_cache, data_order):
    """The seeds take one optimisation step together (sharing their batches under the "shared" data order), but each
    keeps its weights, optimizer, dropout stream and (by default) data order: seed 2 of a run of seeds 0-2 is bit for
    bit seed 2 run alone (published head: dropout and BatchNorm in play)."""
    from pjbench.probing.feeders import segment_feeder

    cfg = TrainConfig("published", standardize=True)
    together, alone = _alone_and_together("difficulty-3way", lambda r, s: segment_feeder(cfg, r, s), tiny, tiny_mel_cache, data_order)
    for solo in alone:
        mate = next(o for o in together if o.seed == solo.seed)
        assert np.array_equal(mate.probabilities["test"], solo.probabilities["test"])
        assert mate.curve == solo.curve and mate.best_epoch == solo.best_epoch
    # and the seeds are different models
    assert not np.array_equal(together[0].probabilities["test"], together[1].probabilities["test"])


def test_a_linear_probe_seed_beside_others_gives_exactly_what_it_gives_alone(tiny, tiny_mel_cache):
    from pjbench.probing.feeders import pooled_feeder

    cfg = TrainConfig("linear")
    together, alone = _alone_and_together("expertise-2way", lambda r, s: pooled_feeder(cfg, r, s), tiny, tiny_mel_cache)
    for solo in alone:
        mate = next(o for o in together if o.seed == solo.seed)
        assert np.array_equal(mate.probabilities["test"], solo.probabilities["test"])
        assert mate.curve == solo.curve


def _visits(order_seeds: list[int]) -> list[list[tuple[int, ...]]]:
    """The batches each member trained on, over 3 epochs of 6 items in batches of 2."""
    seen: list[list[tuple[int, ...]]] = [[] for _ in order_seeds]
    members = []
    for k in range(len(order_seeds)):
        model = torch.nn.Linear(1, 1)

        def batch_loss(batch, k=k, model=model):
            seen[k].append(tuple(batch))
            return model(torch.tensor([[float(i)] for i in batch])).pow(2).mean()

        members.append(Member(model, torch.optim.SGD(model.parameters(), lr=0.01), batch_loss, None, f"seed {k}"))

    def batches(order, rng):
        for start in range(0, len(order), 2):
            yield order[start : start + 2], len(order[start : start + 2])

    fit_members(members, list(range(6)), batches, 3, order_seeds, progress=False)
    return seen


def test_each_seed_visits_the_training_data_in_its_own_order():
    """A seed fixes its data order too: members with different order seeds see different batches, members with the
    same one the same, and a member's batches do not depend on who trains beside it."""
    together = _visits([0, 1, 0])
    assert together[0] == together[2] and together[0] != together[1]
    assert _visits([1]) == [together[1]]
    assert sorted(i for batch in together[1][:3] for i in batch) == list(range(6))  # an epoch visits every item once
    assert TrainConfig("linear").order_seeds([0, 1, 2]) == [0, 1, 2]
    assert TrainConfig("linear", data_order="shared", order_seed=7).order_seeds([0, 1, 2]) == [7, 7, 7]
    with pytest.raises(ValueError, match="data_order 'random'"):
        TrainConfig("linear", data_order="random")


def test_a_feature_constant_in_training_reads_zero_not_a_million():
    """A one-hot of a piece never heard in training (PercePiano's piece split): standardising it with its training
    std (0) once turned a test value of 1 into 1e6, and the piece baseline's R² into -1e11."""
    from pjbench.probing.feeders import standardising_scale

    train = np.array([[0.0, 1.0, 5.0], [0.0, 3.0, 5.0], [0.0, 2.0, 5.0]])
    mean = train.mean(0)
    scale = standardising_scale(mean, train.std(0))
    test = np.array([1.0, 2.5, 7.0])
    standardised = (test - mean) / scale
    assert standardised[0] == 0 and standardised[2] == 0  # never varied in training: carries nothing learned
    assert standardised[1] == pytest.approx((2.5 - 2.0) / (train.std(0)[1] + 1e-6))  # as before for the rest


def test_the_loop_reads_the_losses_back_once_an_epoch_not_once_a_step(monkeypatch):
    """On a GPU each read of a device number waits for every queued kernel: the loop keeps the losses where the
    model is and reads them once an epoch (the recorded mean losses are the same float64 sums as before)."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    data = torch.randn(40, 3)
    member = Member(model, torch.optim.SGD(model.parameters(), lr=0.01), lambda batch: model(data[batch]).pow(2).mean(), None, "seed 0")
    reads = {"n": 0}
    for name in ("item", "tolist", "__float__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            reads["n"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    batches = lambda order, rng: [(order[i : i + 4], len(order[i : i + 4])) for i in range(0, len(order), 4)]  # noqa: E731
    outcome = fit_members([member], list(range(40)), batches, 3, 0, progress=False)[0]
    monkeypatch.undo()
    assert reads["n"] == 3  # 10 steps an epoch, 3 epochs
    # the mean loss of an epoch as the per-step floats gave it
    torch.manual_seed(0)
    again = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(again.parameters(), lr=0.01)
    order = [int(i) for i in np.random.default_rng(0).permutation(40)]
    total = 0.0
    for i in range(0, 40, 4):
        loss = again(data[order[i : i + 4]]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * 4
    assert outcome.losses[0] == total / 40


@pytest.mark.parametrize("head", ["published", "linear"])
def test_bf16_training_runs_the_forward_passes_in_bf16_and_stays_close_to_fp32(tiny, tiny_mel_cache, head):
    """--precision bf16: the forward passes (training, validation, predictions) under autocast, the weights, the
    optimizer and the probabilities in fp32; the scores move by bf16's rounding, not more (tolerance measured on
    this set, 3 epochs: the largest difference in a test probability was 0.0017 published, 0.0014 linear)."""
    from dataclasses import replace

    from pjbench.probing.probe import make_feeder

    reader = CacheReader(tiny_mel_cache)
    task = TASKS["difficulty-3way"]
    splits, _ = split_examples(task, tiny, set(reader.ids()))
    fp32 = TrainConfig(head, lr=1e-3, max_epochs=3, patience=3, standardize=True)
    outputs = {}
    for cfg in (fp32, replace(fp32, precision="bf16")):
        feeder = make_feeder(cfg, reader, splits)
        seen: set[torch.dtype] = set()
        make_model = feeder.make_model

        def watched(task, make_model=make_model, seen=seen):
            model = make_model(task)
            for layer in model.modules():  # the published head's first convolution runs outside its forward
                if isinstance(layer, torch.nn.Conv2d | torch.nn.Linear):
                    layer.register_forward_hook(lambda module, inputs, output: seen.add(output.dtype))
            return model

        feeder.make_model = watched  # type: ignore[method-assign]
        ((model, out),) = train_seeds(task, feeder, splits, cfg, seeds=[0], progress=False)
        assert {p.dtype for p in model.parameters()} == {torch.float32}
        assert out.probabilities["test"].dtype == np.float32 and np.allclose(out.probabilities["test"].sum(1), 1, atol=1e-5)
        outputs[cfg.precision] = (seen, out)
    reader.close()
    assert outputs["fp32"][0] == {torch.float32} and outputs["bf16"][0] == {torch.bfloat16}
    gap = np.abs(outputs["fp32"][1].probabilities["test"] - outputs["bf16"][1].probabilities["test"]).max()
    print(f"{head}: largest test-probability gap fp32 vs bf16 {gap:.4f}")
    assert 0 < gap < 0.02


def test_a_training_precision_is_checked_recorded_only_where_not_fp32_and_names_its_variant():
    from pjbench.heads import infer_schedule
    from pjbench.probing.config import train_config

    with pytest.raises(ValueError, match="fp16 training would need loss scaling"):
        TrainConfig("published", precision="fp16")
    plain, low = train_config("published", 5, "paper"), train_config("published", 5, "paper", precision="bf16")
    assert "precision" not in plain.record()  # so the board's results keep their configurations and hashes
    assert low.record()["precision"] == "bf16" and low.schedule == "paper-bf16"
    assert train_config("linear", 5, "fast", epochs=3, precision="bf16").schedule.endswith("-bf16")
    assert infer_schedule({**low.record(), "schedule": ""}) == "paper-bf16"
