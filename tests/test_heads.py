import pytest
import torch

from pjbench.heads import ConvAttentionProbe, conv_flatten_size
from pjbench.heads.layers import PackedDropout

# REFERENCE.md: flatten sizes after the convolutions, single / pair (pairs double the frames)
PUBLISHED_SHAPES = {
    "mert": (749, 1024, 1160, 2360),
    "dac": (870, 1024, 1360, 2760),
    "audiomae": (512, 768, 600, 1200),
    "jukebox": (3445, 64, 274, 550),
    "mel": (1500, 128, 300, 600),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_SHAPES))
def test_flatten_sizes_match_the_published_head(name):
    frames, dim, single, pair = PUBLISHED_SHAPES[name]
    assert conv_flatten_size(frames, dim) == single
    assert conv_flatten_size(2 * frames, dim) == pair
    model = ConvAttentionProbe(frames, dim, 3)
    assert model.project.in_features == single


def _inputs(n_segments: list[int], frames=60, dim=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    segs = [torch.randn(n, 1, frames, dim, generator=g) for n in n_segments]
    bi = torch.cat([torch.full((n,), b) for b, n in enumerate(n_segments)])
    pos = torch.cat([torch.arange(n) for n in n_segments])
    return segs, bi, pos


def test_returns_logits_and_padding_contributes_nothing():
    torch.manual_seed(0)
    model = ConvAttentionProbe(60, 32, 4, max_segments=5).eval()
    segs, bi, pos = _inputs([2, 4])
    both = model(torch.cat(segs), bi, pos, 2)
    alone = model(segs[0], torch.zeros(2, dtype=torch.long), torch.arange(2), 1)
    # the first example's logits do not depend on what else is in the batch or on empty slots
    assert torch.allclose(both[0], alone[0], atol=1e-5)
    # logits, not probabilities (the reference's double softmax is gone)
    assert not torch.allclose(both.sum(1), torch.ones(2))
    # and a gradient reaches the classifier through real segments only
    loss = torch.nn.functional.cross_entropy(model.train()(torch.cat(segs), bi, pos, 2), torch.tensor([0, 1]))
    loss.backward()
    grad = model.classifier.weight.grad.view(4, 5, 128)
    assert torch.all(grad[:, 4] == 0)  # slot 4 is padding for both examples
    assert torch.any(grad[:, 3] != 0)


def test_layer_mix_learns_a_softmax_over_layers():
    model = ConvAttentionProbe(60, 32, 2, max_segments=3, n_layers=4)
    x = torch.randn(3, 4, 60, 32)
    out = model(x, torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0]), 2)
    assert out.shape == (2, 2)
    assert sum(model.layer_mix.weights()) == pytest.approx(1.0)


def test_segment_feeder_keeps_prepared_inputs_within_its_memory_budget(tiny, tiny_mel_cache, monkeypatch):
    """The published head's inputs are the same whether prepared once and kept, or read each time; what is kept
    stays within $PJBENCH_MEMORY_BUDGET_MB."""
    import numpy as np

    from pjbench.extraction.cache import CacheReader
    from pjbench.probing import feeders
    from pjbench.tasks import TASKS

    task = TASKS["expertise-2way"]
    examples = task.examples(tiny.split("train"), tiny.pair_group)[:24]
    train_ids = sorted({i for ex in examples for i in ex.ids})
    reader = CacheReader(tiny_mel_cache)
    batches = {}
    for budget in ("0", "1", "2048"):
        monkeypatch.setenv(feeders.MEMORY_BUDGET_ENV, budget)
        feeder = feeders.SegmentFeeder(reader, 30, train_ids)
        out = [inputs[0].numpy() for _ in range(2) for inputs, _ in feeder.batches(examples, 6, torch.device("cpu"))]
        batches[budget] = out
        assert feeder._kept.nbytes <= float(budget) * 2**20
        kept = len(feeder._kept.arrays)
        assert (kept == 0) if budget == "0" else (kept == len(train_ids) if budget == "2048" else 0 < kept < len(train_ids))
    assert all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c in zip(batches["0"], batches["1"], batches["2048"]))
    # the next task's feeder on the same cache and transform finds the recordings prepared; another transform does not
    assert feeders.SegmentFeeder(reader, 30, train_ids)._kept is feeder._kept
    raw = feeders.SegmentFeeder(reader, 30, None)
    assert not raw._kept.arrays
    # unstandardised inputs are kept as float32: the cache's float16 converted once, not in every batch
    for _ in raw.batches(examples[:6], 6, torch.device("cpu")):
        pass
    assert raw._kept.arrays and all(a.dtype == np.float32 for a in raw._kept.arrays.values())
    assert all(np.array_equal(a, reader.get(i).embeddings.astype(np.float32)) for i, a in raw._kept.arrays.items())
    monkeypatch.setenv(feeders.MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(ValueError, match="megabytes"):
        feeders.memory_budget_bytes()
    reader.close()


def test_blocked_convolution_is_the_published_convolution():
    """The published head's second convolution, computed over 5 x 5 blocks while training: the same outputs and the
    same gradients (input, weight, bias) as the convolution itself, to float rounding, for odd shapes too."""
    import torch.nn.functional as F

    from pjbench.heads.published import KERNEL, PADDING, STRIDE, blocked_conv

    torch.manual_seed(0)
    for shape, out_channels in (((3, 2, 600, 25), 1), ((2, 2, 37, 23), 1), ((4, 1, 300, 128), 3)):
        x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        weight = torch.randn(out_channels, shape[1], KERNEL, KERNEL, dtype=torch.float64, requires_grad=True)
        bias = torch.randn(out_channels, dtype=torch.float64, requires_grad=True)
        expected = F.conv2d(x, weight, bias, STRIDE, PADDING)
        got = blocked_conv(x, weight, bias)
        assert got.shape == expected.shape
        assert torch.allclose(got, expected, atol=1e-10)
        upstream = torch.randn_like(expected)
        want = torch.autograd.grad((expected * upstream).sum(), (x, weight, bias))
        have = torch.autograd.grad((blocked_conv(x, weight, bias) * upstream).sum(), (x, weight, bias))
        for a, b in zip(want, have):
            assert torch.allclose(a, b, atol=1e-9)


def test_packed_dropout_drops_p_of_the_elements_and_keeps_the_expectation():
    drop = PackedDropout(0.1)
    x = torch.ones(200, 2, 60, 25, requires_grad=True)
    torch.manual_seed(0)
    y = drop(x)
    kept = y != 0
    share = 1 - kept.float().mean().item()
    assert abs(share - 3277 / 2**15) < 0.002  # p rounded to 15 bits
    assert torch.all(y[kept] == 2**15 / (2**15 - 3277))  # kept elements scaled: the expectation is exact
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # the gradient passes through the same mask
    torch.manual_seed(0)
    assert torch.equal(drop(x), y)  # the seed fixes the mask
    assert not torch.equal(drop(x), y)  # and the stream moves on
    rows = (y.detach() != 0).reshape(-1, 4).float().mean(0)  # the four draws of a word are all used alike
    assert torch.all((rows - 0.9).abs() < 0.01)
    drop.eval()
    assert drop(x) is x
