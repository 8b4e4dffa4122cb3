"""Commands of the experiments: the ICPC-2015 transfer of the PLD ranking probe, and PISA's player level."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    DEFAULT_RESULTS,
    CacheOpt,
    DeviceOpt,
    ResultsOpt,
    SeedsOpt,
    SplitSeedOpt,
    above_zero,
    console,
    device_name,
    failing,
    print_leaderboards,
)


def transfer(
    encoder: Annotated[str, typer.Option("--encoder", "-e", help="the encoder whose caches (PLD and ICPC) to use")] = "mel",
    pld_audio_root: Annotated[Path | None, typer.Option("--pld-audio-root", help="audio of pld-expertise (the training data)")] = None,
    pld_labels: Annotated[Path | None, typer.Option("--pld-labels", help="PLD label files (default: PLD_AUDIO_ROOT/labels)")] = None,
    icpc_audio_root: Annotated[Path | None, typer.Option("--icpc-audio-root", help="audio of the ICPC-2015 preliminary round")] = None,
    icpc_labels: Annotated[
        Path | None, typer.Option("--icpc-labels", help="the ICPC2015-dataset files (default: ICPC_AUDIO_ROOT/labels)")
    ] = None,
    head: Annotated[str, typer.Option(help="published | linear")] = "linear",
    seeds: SeedsOpt = 5,
    lr: Annotated[
        float | None, typer.Option(callback=above_zero, help="learning rate (default: the paper's for ranking; 1e-3 for the linear head)")
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="maximum PLD training epochs (default: the head's, 100)")] = None,
    patience: Annotated[int | None, typer.Option(min=1, help="early stopping on PLD validation (default: the head's, 15)")] = None,
    part_segments: Annotated[int, typer.Option("--part-segments", min=1, help="segments per recital part (30 = 5 minutes)")] = 30,
    fit_epochs: Annotated[int, typer.Option("--fit-epochs", min=0, help="epochs of the 'with fitting' protocol")] = 5,
    split_seed: SplitSeedOpt = 0,
    device: DeviceOpt = "auto",
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
) -> None:
    """Apply the PLD expertise-2way probe to ICPC-2015 candidates: pairs of candidates who reached different
    stages, judged part by part (5-minute parts, part j with part j), by majority vote and by mean probability;
    with and without fitting on a disjoint half of the candidates; candidates ranked by win count, with Kendall
    tau and Spearman against the stage reached, and the paper's Figure 2 as a PNG.

    Extract both first: `pjbench extract -e mel -d pld-expertise --audio-root A` and
    `pjbench extract -e mel -d icpc2015 --audio-root B` (every segment of the recitals is kept).
    """
    from ..api import get_heads
    from ..api import transfer as run_transfer
    from ..probing.config import train_config

    with failing():
        get_heads(head)
        cfg = train_config(head, seeds, lr=lr, epochs=epochs, patience=patience, device=device_name(device))
        result = run_transfer(
            encoder=encoder, pld_audio_root=pld_audio_root, pld_labels=pld_labels, icpc_audio_root=icpc_audio_root,
            icpc_labels=icpc_labels, train=cfg, part_segments=part_segments, fit_epochs=fit_epochs, split_seed=split_seed,
            cache_root=cache_dir, results_dir=results_dir,
        )  # fmt: skip
    s = result.scores
    console.print(
        f"ICPC-2015 transfer ({encoder}, {head}): pair accuracy by vote {100 * s['accuracy_vote']['mean']:.1f} ± "
        f"{100 * s['accuracy_vote']['ci95']:.1f}, by mean probability {100 * s['accuracy_mean_prob']['mean']:.1f}; with fitting "
        f"{100 * s['fit_accuracy_vote']['mean']:.1f}; Kendall tau {s['kendall_tau']['mean']:.2f}, Spearman {s['spearman']['mean']:.2f} "
        "(chance: 50%, 0)",
        markup=False,
        highlight=False,
    )
    top = result.extra["ranking"][:10]
    console.print(
        "top candidates by win count: " + "; ".join(f"{r['candidate']} ({r['mean_wins']:.0f}, {r['stage_name']})" for r in top),
        markup=False,
        highlight=False,
    )
    print_leaderboards(results_dir)


def pisa(
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="pisa (your copy: --video-root) | synthetic-short (embedded keyboard videos)")
    ] = "synthetic-short",
    modality: Annotated[str, typer.Option(help="video | audio | multimodal")] = "multimodal",
    sampling: Annotated[str, typer.Option(help="contiguous | uniform (10 clips of 16 frames per sample)")] = "uniform",
    mode: Annotated[str, typer.Option(help="end-to-end (train the backbones) | frozen (probe cached features)")] = "end-to-end",
    video_root: Annotated[Path | None, typer.Option("--video-root", help="pisa: your copy of the PISA videos (<number>.mp4 ...)")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="pisa: the annotations (default: VIDEO_ROOT/labels)")] = None,
    split_seed: Annotated[int, typer.Option("--split-seed", help="seed of the validation carve-out")] = 0,
    video_backbone: Annotated[str, typer.Option("--video-backbone", help="c3d-small | r3d18")] = "c3d-small",
    audio_backbone: Annotated[str, typer.Option("--audio-backbone", help="resnet18")] = "resnet18",
    video_weights: Annotated[Path | None, typer.Option("--video-weights", help="pretrained video backbone (torchvision layout)")] = None,
    audio_weights: Annotated[
        Path | None, typer.Option("--audio-weights", help="pretrained ResNet-18 (ImageNet, torchvision layout)")
    ] = None,
    width: Annotated[int, typer.Option(min=1, help="backbone channel width (64 = the published size)")] = 64,
    frame_size: Annotated[int, typer.Option("--frame-size", min=16, help="cropped frames are resized to this square")] = 112,
    seeds: SeedsOpt = 3,
    lr: Annotated[float, typer.Option(callback=above_zero, help="learning rate (Adam, as the paper)")] = 1e-4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 4,
    epochs: Annotated[int, typer.Option(min=1, help="maximum epochs")] = 100,
    patience: Annotated[int, typer.Option(min=1, help="early stopping on the validation split")] = 100,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Adam weight decay (the paper: 0)")] = 0.0,
    device: DeviceOpt = "auto",
    cache_dir: CacheOpt = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
) -> None:
    """PISA player level (1-10) from video, audio or both, trained end to end or probed on frozen features.

    Samples are 10 clips of 16 frames (and a mel image each) from a performance; the multimodal model trains a
    video, an audio and a fusion head together (the paper's Eq. 1). Validation chooses the epoch; the test split
    is evaluated once per seed.
    """
    from ..api import pisa as run_pisa
    from ..experiments.pisa import PisaConfig

    cfg = PisaConfig(
        modality=modality,
        sampling=sampling,
        mode=mode,
        video_backbone=video_backbone,
        audio_backbone=audio_backbone,
        width=width,
        video_weights=str(video_weights) if video_weights else None,
        audio_weights=str(audio_weights) if audio_weights else None,
        frame_size=frame_size,
        epochs=epochs,
        patience=patience,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=batch_size,
        seeds=tuple(range(seeds)),
        device=device_name(device),
    )
    request = {"dataset": dataset, "video_root": str(video_root) if video_root else None, "labels": str(labels) if labels else None}
    with failing():
        result = run_pisa({**request, "split_seed": split_seed}, cfg, cache_root=cache_dir, results_dir=results_dir, say=_warn)
    s = result.scores
    console.print(
        f"{result.task} ({cfg.mode}): accuracy {100 * s['accuracy']['mean']:.1f} ± {100 * s['accuracy']['ci95']:.1f}"
        f" (chance {100 * result.counts['chance']:.1f}), within one level {100 * s['within_one']['mean']:.1f}, MAE {s['mae']['mean']:.2f}",
        markup=False,
        highlight=False,
    )
    print_leaderboards(results_dir)


def _warn(line: str) -> None:
    console.print(f"[yellow]{line}[/yellow]" if "have no video" in line else line)
