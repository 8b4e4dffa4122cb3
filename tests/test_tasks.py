from pathlib import Path

import pytest

from pjbench.datasets.base import Dataset, Recording
from pjbench.datasets.manifest import load_manifest
from pjbench.tasks import TASKS, get_task
from pjbench.tasks.base import pair_target


def test_pair_targets_follow_the_reference():
    assert pair_target(2, 0, "2way") == 0  # first better
    assert pair_target(0, 1, "2way") == 1
    assert [pair_target(a, b, "4way") for a, b in [(0, 2), (1, 2), (1, 0), (2, 0)]] == [0, 1, 2, 3]


def _recs(levels_by_group):
    out = []
    for g, levels in levels_by_group.items():
        for i, lvl in enumerate(levels):
            out.append(
                Recording(f"{g}-{i}", Path("x.wav"), "train", groups={"piece": g, "performer": f"p{g}{i}"}, labels={"expertise": lvl})
            )
    return out


def test_pairs_within_a_piece_cover_every_ordered_pair_of_levels():
    recs = _recs({"a": [0, 1, 2], "b": [0, 2]})
    ex = TASKS["expertise-2way"].examples(recs, pair_group="piece")
    assert len(ex) == 6 + 2
    assert all(e.ids[0].split("-")[0] == e.ids[1].split("-")[0] for e in ex)
    four = TASKS["expertise-4way"].examples(recs, pair_group="piece")
    assert sorted(e.target for e in four if e.ids[0].startswith("a")) == [0, 1, 1, 2, 2, 3]


def test_elementwise_pairs_are_balanced_across_levels():
    recs = _recs({"a": [0, 0, 0, 1, 1, 2, 2, 2, 2]})
    ex = TASKS["expertise-2way"].examples(recs, pair_group=None, seed=3)
    # smallest level has 2 -> 2 pairs per level pair, both orders, 3 level pairs
    assert len(ex) == 2 * 2 * 3
    assert sum(e.target for e in ex) == len(ex) / 2


def test_manifest_kinds_and_leakage(tmp_path):
    m = tmp_path / "m.csv"
    m.write_text("id,path,split,label,group\na,a.wav,train,Scales|Octave,g1\nb,b.wav,val,Octave,g2\nc,c.wav,test,Scales,g3\n")
    ds = load_manifest(m)
    assert ds.tasks == ("multilabel",)
    task = get_task("multilabel", ds)
    assert task.classes == ("Octave", "Scales")
    assert task.examples(ds.split("train"), None)[0].target == (1, 1)
    m.write_text("id,path,split,label,group\na,a.wav,train,3,g1\nb,b.wav,val,1,g1\n")
    with pytest.raises(ValueError, match="cross splits"):
        load_manifest(m)
    m.write_text("id,path,split,label\na,a.wav,training,x\n")
    with pytest.raises(ValueError, match="split 'training'"):
        load_manifest(m)
    m.write_text("id,path,label\na,a.wav,x\n")
    with pytest.raises(ValueError, match="missing column"):
        load_manifest(m)


def test_task_aliases_and_unknown_task():
    ds = Dataset("d", [], tasks=("difficulty-9way",))
    assert get_task("difficulty", ds).name == "difficulty-9way"
    with pytest.raises(ValueError, match="not defined"):
        get_task("technique", ds)
