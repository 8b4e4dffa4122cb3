"""ICPC-2015 transfer: the PLD expertise-2way probe judges pairs of competition candidates.

Protocol (the paper's design, without the reference's leaks and bugs):
- each candidate's preliminary recital (all its videos, in order) is cut into consecutive
  parts of ``part_segments`` segments (30 = 5 minutes); a trailing part is kept if it has
  at least half as many; part *j* of A is paired with part *j* of B;
- every ordered pair of candidates who reached different stages is judged (ties dropped);
  the pair's verdict comes from its parts by majority vote (ties broken by the mean
  probability) and, separately, by the mean probability; both are reported;
- "with fitting": the candidates are split in two halves (seeded, stratified by stage); the
  PLD-trained probe is fitted for a few epochs on pairs *within the fitting half* and tested
  on pairs *within the other half* only; "without fitting" is reported on the same test pairs
  (as the paper's Table 4) and on all pairs;
- candidates are ranked by their win count over all pairs (every candidate counted on both
  sides of every pair); Kendall's tau-b and Spearman's rho against the stage reached.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from sklearn.metrics import f1_score

from ..datasets.base import Dataset
from ..datasets.fingerprint import combined, fingerprint
from ..extraction.cache import CachedRecording, CacheReader
from ..probing.config import TrainConfig
from ..probing.feeders import Feeder
from ..probing.probe import dataset_record, make_feeder, predictions_path, split_examples
from ..probing.train import fit_probe, predict, train_seeds
from ..results import predictions
from ..results.plots import plot_for
from ..results.record import TaskResult, build_result, check_writable
from ..scoring import bootstrap
from ..tasks import TASKS, Example, Task, get_task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransferConfig:
    part_segments: int = 30  # 5-minute parts
    fit_epochs: int = 5
    fit_fraction: float = 0.5


@dataclass(frozen=True)
class Candidate:
    name: str
    stage: int
    recordings: tuple[str, ...]  # video ids, in recital order


def candidates_of(dataset: Dataset) -> list[Candidate]:
    by_name: dict[str, list[tuple[int, str]]] = {}
    stage: dict[str, int] = {}
    for rec in dataset.recordings:
        name = rec.labels["candidate"]
        by_name.setdefault(name, []).append((rec.labels.get("part_order", 0), rec.id))
        stage[name] = int(rec.labels["stage"])
    return [Candidate(n, stage[n], tuple(i for _, i in sorted(v))) for n, v in sorted(by_name.items())]


class PartReader:
    """A view of the ICPC cache whose "recordings" are 5-minute parts of each candidate's recital."""

    def __init__(self, reader: CacheReader, candidates: list[Candidate], part_segments: int) -> None:
        self.reader, self.path, self.part_segments = reader, reader.path, part_segments
        self.parts: dict[str, tuple[np.ndarray, float]] = {}
        self.n_parts: dict[str, int] = {}
        for cand in candidates:
            present = [i for i in cand.recordings if i in reader]
            if not present:
                continue
            recs = [reader.get(i) for i in present]
            emb = np.concatenate([r.embeddings[: r.n_segments] for r in recs])
            last = recs[-1].last_segment_seconds
            count = 0
            for j, start in enumerate(range(0, len(emb), part_segments)):
                chunk = emb[start : start + part_segments]
                if len(chunk) * 2 < part_segments and j > 0:
                    break  # a short tail part is dropped (a first part is always kept)
                is_last = start + part_segments >= len(emb)
                self.parts[self.part_id(cand.name, j)] = (chunk, last if is_last else reader.segment_seconds)
                count += 1
            self.n_parts[cand.name] = count

    def part_id(self, name: str, j: int) -> str:
        return f"{name}#{self.part_segments}:{j}"  # the part size in the id keeps memoised features apart

    def ids(self) -> list[str]:
        return list(self.parts)

    def get(self, rec_id: str) -> CachedRecording:
        emb, last = self.parts[rec_id]
        return CachedRecording(emb, len(emb), last)

    @property
    def frame_rate(self) -> float:
        return self.reader.frame_rate


@dataclass(frozen=True)
class CandidatePair:
    first: str
    second: str
    target: int  # 0: the first reached a later stage, 1: the second did
    parts: tuple[Example, ...]


def build_pairs(candidates: list[Candidate], parts: PartReader) -> list[CandidatePair]:
    """Every ordered pair of candidates with different stages, with its part pairs j <-> j."""
    out = []
    for a in candidates:
        for b in candidates:
            if a.stage == b.stage or a.name not in parts.n_parts or b.name not in parts.n_parts:
                continue
            target = 0 if a.stage > b.stage else 1
            n = min(parts.n_parts[a.name], parts.n_parts[b.name])
            examples = tuple(Example((parts.part_id(a.name, j), parts.part_id(b.name, j)), target) for j in range(n))
            out.append(CandidatePair(a.name, b.name, target, examples))
    return out


def aggregate(part_probs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, P(second better) of each part -> verdicts (0 first / 1 second) by majority vote and by mean probability."""
    vote, mean = [], []
    for p in part_probs:
        p_second = float(np.mean(p))
        mean.append(int(p_second > 0.5))
        second_votes = int(np.sum(p > 0.5))
        first_votes = len(p) - second_votes
        vote.append(1 if second_votes > first_votes else 0 if first_votes > second_votes else int(p_second > 0.5))
    return np.array(vote), np.array(mean)


def win_counts(pairs: list[CandidatePair], verdicts: np.ndarray, names: list[str]) -> dict[str, dict[str, int]]:
    """Wins and matches per candidate; a candidate on either side of a pair is counted (the reference missed one side)."""
    table = {n: {"wins": 0, "matches": 0} for n in names}
    for pair, verdict in zip(pairs, verdicts):
        winner = pair.first if verdict == 0 else pair.second
        table[pair.first]["matches"] += 1
        table[pair.second]["matches"] += 1
        table[winner]["wins"] += 1
    return table


def pair_metrics(pairs: list[CandidatePair], probs: list[np.ndarray], prefix: str) -> dict[str, float]:
    if not pairs:
        return {}
    y = np.array([p.target for p in pairs])
    vote, mean = aggregate(probs)
    part_y = np.concatenate([[p.target] * len(pr) for p, pr in zip(pairs, probs)])
    part_pred = np.concatenate([(pr > 0.5).astype(int) for pr in probs])
    return {
        f"{prefix}part_accuracy": float(np.mean(part_y == part_pred)),
        f"{prefix}accuracy_vote": float(np.mean(vote == y)),
        f"{prefix}f1_vote": float(f1_score(y, vote, average="macro", zero_division=0)),
        f"{prefix}accuracy_mean_prob": float(np.mean(mean == y)),
        f"{prefix}f1_mean_prob": float(f1_score(y, mean, average="macro", zero_division=0)),
    }


def weighted_pair_metrics(pairs: list[CandidatePair], probs: list[np.ndarray], prefix: str, w: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`pair_metrics` with bootstrap weights on the pairs (a pair's parts share its weight); Kendall's tau and
    Spearman's rho over the win counts are left to the spread over seeds."""
    if not pairs:
        return {}
    y = np.array([p.target for p in pairs])
    vote, mean = aggregate(probs)
    lengths = [len(pr) for pr in probs]
    part_y = np.repeat(y, lengths)
    part_pred = np.concatenate([(pr > 0.5).astype(int) for pr in probs])
    return {
        f"{prefix}part_accuracy": bootstrap.weighted_mean(np.repeat(w, lengths, axis=1), part_y == part_pred),
        f"{prefix}accuracy_vote": bootstrap.weighted_mean(w, vote == y),
        f"{prefix}f1_vote": bootstrap.weighted_macro_f1(w, y, vote),
        f"{prefix}accuracy_mean_prob": bootstrap.weighted_mean(w, mean == y),
        f"{prefix}f1_mean_prob": bootstrap.weighted_macro_f1(w, y, mean),
    }


@dataclass
class SeedPairs:
    """What one seed judged: all pairs, the test half's pairs, and each pair's part probabilities (P(second better))
    before and after fitting; kept for the intervals and the predictions file."""

    seed: int
    all_pairs: list[CandidatePair]
    all_probs: list[np.ndarray]
    test_pairs: list[CandidatePair]
    test_probs: list[np.ndarray]
    fit_probs: list[np.ndarray]
    stages: dict[str, int] = field(default_factory=dict)  # candidate -> the stage reached (for the rank correlations)
    source_rows: list[dict[str, Any]] = field(default_factory=list)  # the PLD probe's own test predictions

    def wins(self, names: list[str]) -> dict[str, dict[str, int]]:
        """Each candidate's wins and matches over all pairs (majority-vote verdicts)."""
        vote, _ = aggregate(self.all_probs)
        return win_counts(self.all_pairs, vote, names)

    def metrics(self, names: list[str], source_accuracy: float) -> dict[str, float]:
        """The seed's transfer metrics: the test half before and after fitting, all pairs, the rank correlations of
        the win counts with the stage reached, and the source probe's own test accuracy."""
        out = pair_metrics(self.all_pairs, self.all_probs, "all_")
        out.update(pair_metrics(self.test_pairs, self.test_probs, ""))
        out.update(pair_metrics(self.test_pairs, self.fit_probs, "fit_"))
        out.update(rank_correlations([Candidate(n, s, ()) for n, s in self.stages.items()], self.wins(names)))
        out["pld_test_accuracy"] = source_accuracy
        return out

    def members(self, index: dict[str, int]) -> list[tuple[int, int]]:
        """Each judged item's two candidates: the test half's pairs, then all pairs."""
        return [(index[p.first], index[p.second]) for p in (*self.test_pairs, *self.all_pairs)]

    def weighted(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """Every pair metric under bootstrap weights on :meth:`members` (test pairs first, then all pairs)."""
        n = len(self.test_pairs)
        out = weighted_pair_metrics(self.test_pairs, self.test_probs, "", w[:, :n])
        out.update(weighted_pair_metrics(self.test_pairs, self.fit_probs, "fit_", w[:, :n]))
        out.update(weighted_pair_metrics(self.all_pairs, self.all_probs, "all_", w[:, n:]))
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Predictions-file lines: the test half before (``test``) and after fitting (``fit``), and all pairs."""
        out = []
        for split, pairs, probs in (
            ("test", self.test_pairs, self.test_probs),
            ("fit", self.test_pairs, self.fit_probs),
            ("all", self.all_pairs, self.all_probs),
        ):
            for pair, p in zip(pairs, probs):
                out.append(
                    {
                        "seed": self.seed,
                        "split": split,
                        "ids": [pair.first, pair.second],
                        "groups": [
                            {"performer": pair.first, "stage": str(self.stages.get(pair.first, ""))},
                            {"performer": pair.second, "stage": str(self.stages.get(pair.second, ""))},
                        ],
                        "target": pair.target,
                        "accept": [],
                        "scores": [float(v) for v in p],  # each part's P(second better)
                    }
                )
        return out + self.source_rows


def seeds_from_rows(rows: list[dict[str, Any]], seeds: list[int]) -> list[SeedPairs]:
    """The judged pairs per seed, as :func:`run_transfer` kept them, from a predictions file."""
    out = []
    for seed in seeds:
        split_rows = {s: [r for r in rows if r["seed"] == seed and r["split"] == s] for s in ("all", "test", "fit", "source-test")}
        pairs = {s: [CandidatePair(r["ids"][0], r["ids"][1], r["target"], ()) for r in split_rows[s]] for s in ("all", "test")}
        probs = {s: [np.array(r["scores"], dtype=np.float32) for r in split_rows[s]] for s in ("all", "test", "fit")}
        stages = {n: int(g["stage"]) for r in split_rows["all"] for n, g in zip(r["ids"], r["groups"])}
        test = pairs["test"]
        out.append(SeedPairs(seed, pairs["all"], probs["all"], test, probs["test"], probs["fit"], stages, split_rows["source-test"]))
    return out


def source_accuracy(seed: SeedPairs, source_task: Task) -> float:
    """The source probe's test accuracy from its recorded predictions."""
    examples = [Example(tuple(r["ids"]), r["target"]) for r in seed.source_rows]
    scores = np.array([r["scores"] for r in seed.source_rows], dtype=np.float32)
    return source_task.metrics(examples, scores)["accuracy"]


def transfer_scores(seeds: list[SeedPairs], per_seed: list[dict[str, Any]], names: list[str]) -> tuple[dict, dict]:
    """Scores with intervals over candidates (resampled as groups: a pair weighs by both its candidates' draws) and
    seeds; every seed is scored on its own test half."""
    ordered = sorted(names)
    index = {n: k for k, n in enumerate(ordered)}
    boot = bootstrap.replicates_varying_items([(s.members(index), s.weighted) for s in seeds], len(ordered))
    scores = bootstrap.interval_scores([r["test"] for r in per_seed], boot)
    record = bootstrap.resampling_record(bootstrap.Clusters("performer", tuple(ordered), ()), len(seeds[0].test_pairs), len(seeds))
    record["note"] = "each seed is scored on its own test half of the candidates; kendall_tau and spearman: seeds only"
    return scores, record


def rank_correlations(candidates: list[Candidate], table: dict[str, dict[str, int]]) -> dict[str, float]:
    ranked = [c for c in candidates if table.get(c.name, {}).get("matches")]
    wins = [table[c.name]["wins"] for c in ranked]
    stage = [c.stage for c in ranked]
    if len(set(wins)) < 2 or len(set(stage)) < 2:
        return {"kendall_tau": float("nan"), "spearman": float("nan")}  # undefined for a constant ranking
    tau = stats.kendalltau(wins, stage).statistic  # tau-b: ties in stage are many
    rho = stats.spearmanr(wins, stage).statistic
    return {"kendall_tau": float(tau), "spearman": float(rho)}


def _part_probs(
    model: torch.nn.Module, feeder: Feeder, task: Task, pairs: list[CandidatePair], batch: int, device: torch.device
) -> list[np.ndarray]:
    flat = [ex for p in pairs for ex in p.parts]
    if not flat:
        return []
    probs = predict(model, feeder, task, flat, batch, device)[:, 1]  # P(second better)
    out, start = [], 0
    for p in pairs:
        out.append(probs[start : start + len(p.parts)])
        start += len(p.parts)
    return out


def halves(candidates: list[Candidate], seed: int, fraction: float) -> tuple[set[str], set[str]]:
    """Candidates split into a fitting and a test half, stratified by stage (seeded)."""
    rng = np.random.default_rng(seed)
    fit: set[str] = set()
    for stage in sorted({c.stage for c in candidates}):
        names = sorted(c.name for c in candidates if c.stage == stage)
        chosen = rng.permutation(len(names))[: int(round(fraction * len(names)))]
        fit |= {names[i] for i in chosen}
    return fit, {c.name for c in candidates} - fit


def run_transfer(
    source: Dataset,
    source_cache: Path,
    target: Dataset,
    target_cache: Path,
    cfg: TrainConfig,
    tcfg: TransferConfig,
    results_dir: Path,
    progress: bool = True,
) -> TaskResult:
    started = time.perf_counter()
    task = get_task("expertise-2way", source)
    transfer_task = TASKS["icpc-transfer"]
    src, tgt = CacheReader(source_cache), CacheReader(target_cache)
    try:
        _check_compatible(src, tgt)
        splits, _ = split_examples(task, source, set(src.ids()))
        feeder = make_feeder(cfg, src, splits)
        candidates = candidates_of(target)
        parts = PartReader(tgt, candidates, tcfg.part_segments)
        if not parts.parts:
            raise ValueError(f"no ICPC-2015 recording of {target.name} is in {target_cache}; run `pjbench extract` on it first")
        icpc_feeder = feeder.rebind(parts, parts.ids())
        pairs = build_pairs(candidates, parts)
        names = [c.name for c in candidates if c.name in parts.n_parts]
        device = torch.device(cfg.device)
        batch = cfg.batch_size_for(task)
        per_seed: list[dict[str, Any]] = []
        judged: list[SeedPairs] = []
        stage_of = {c.name: c.stage for c in candidates}
        source_groups = {r.id: r.groups for r in source.recordings}
        wins_per_seed: list[dict[str, dict[str, int]]] = []
        for model, outcome in train_seeds(task, feeder, splits, cfg, progress=progress):
            seed = outcome.seed
            fit_names, test_names = halves([c for c in candidates if c.name in parts.n_parts], seed, tcfg.fit_fraction)
            fit_pairs = [p for p in pairs if p.first in fit_names and p.second in fit_names]
            test_pairs = [p for p in pairs if p.first in test_names and p.second in test_names]
            all_probs = _part_probs(model, icpc_feeder, task, pairs, batch, device)
            index = {(p.first, p.second): i for i, p in enumerate(pairs)}
            test_probs = [all_probs[index[(p.first, p.second)]] for p in test_pairs]
            fitted = copy.deepcopy(model)
            fit_part_pairs = [ex for p in fit_pairs for ex in p.parts]
            fit_losses = fit_probe(fitted, task, icpc_feeder, fit_part_pairs, cfg, seed, tcfg.fit_epochs, progress=progress).losses
            fit_probs = _part_probs(fitted, icpc_feeder, task, test_pairs, batch, device)
            source_rows = list(predictions.records(seed, "source-test", splits["test"], outcome.probabilities["test"], source_groups))
            seed_pairs = SeedPairs(seed, pairs, all_probs, test_pairs, test_probs, fit_probs, stage_of, source_rows)
            judged.append(seed_pairs)
            metrics = seed_pairs.metrics(names, outcome.test["accuracy"])
            table = seed_pairs.wins(names)
            wins_per_seed.append(table)
            per_seed.append(
                {
                    "seed": seed,
                    "test": metrics,
                    "pld": outcome.record(),
                    "fit_candidates": sorted(fit_names),
                    "n_fit_pairs": len(fit_pairs),
                    "n_test_pairs": len(test_pairs),
                    "fit_losses": fit_losses,
                    "wins": table,
                }
            )
        encoder_config = src.config
    finally:
        src.close()
        tgt.close()

    scores, intervals = transfer_scores(judged, per_seed, names)
    mean_wins = {n: float(np.mean([t[n]["wins"] for t in wins_per_seed])) for n in names}
    ranking = [
        {
            "candidate": n,
            "stage": stage_of[n],
            "stage_name": _stage_name(stage_of[n]),
            "mean_wins": mean_wins[n],
            "matches": wins_per_seed[0][n]["matches"],
        }
        for n in sorted(names, key=lambda n: (-mean_wins[n], n))
    ]
    config: dict[str, Any] = {
        "train": {**cfg.record(), "lr": cfg.lr_for(task), "batch_size": batch},
        "transfer": asdict(tcfg),
        "source": {"cache": str(source_cache), "dataset": dataset_record(source)},
        "target": {"cache": str(target_cache), "dataset": dataset_record(target)},
    }
    result = build_result(
        dataset=target.name,
        encoder=encoder_config["encoder"]["name"],
        task=transfer_task.name,
        head=cfg.head,
        primary_metric=transfer_task.primary_metric,
        per_seed=per_seed,
        config=config,
        encoder_meta=encoder_config["encoder"],
        counts={
            "n_candidates": len(names),
            "n_pairs": len(pairs),
            "n_part_pairs": sum(len(p.parts) for p in pairs),
            "chance": transfer_task.chance([]),
            "n_label_rows": target.info.get("n_label_rows", len(target.recordings)),
            "n_missing_audio": target.info.get("n_missing_audio", 0),
        },
        started=started,
        extra={"ranking": ranking},
        scores=scores,
        intervals=intervals,
        fingerprint=combined(source=fingerprint(source), target=fingerprint(target)),
    )
    target_path = result.path(results_dir)
    check_writable(results_dir)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    result.predictions = predictions.write(predictions_path(target_path), (row for s in judged for row in s.rows()))
    result.save(results_dir, plot=plot_for)
    return result


def _stage_name(stage: int) -> str:
    from ..datasets.icpc import STAGES

    return STAGES[stage] if 0 <= stage < len(STAGES) else str(stage)


def _check_compatible(src: CacheReader, tgt: CacheReader) -> None:
    a, b = src.config, tgt.config
    keys = ("encoder", "layer", "pool")
    if any(a.get(k) != b.get(k) for k in keys) or a["segments"]["seconds"] != b["segments"]["seconds"]:
        raise ValueError(
            f"the PLD cache {src.path} and the ICPC cache {tgt.path} were made with different encoder settings; "
            "extract both with the same --encoder, --option, --layer and --pool"
        )
