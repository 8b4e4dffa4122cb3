"""Commands that prepare data: render the synthetic set, embed recordings, check a dataset, check an encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import (
    DEFAULT_RESULTS,
    EXPECTED,
    AudioRootOpt,
    CacheOpt,
    DatasetOpt,
    DeviceOpt,
    LabelsOpt,
    ManifestOpt,
    ResultsOpt,
    SplitSeedOpt,
    above_zero,
    assumed_note,
    console,
    device_name,
    encoder_options,
    fail,
    load_requested,
)


def load_named_encoder(name: str, options: list[str] | None, checkpoint: str | None):
    from ..api import UsageError, get_encoder

    try:
        return get_encoder(name, checkpoint=checkpoint, **encoder_options(options))
    except UsageError as err:
        fail(str(err), 2)


def synth(
    size: Annotated[
        str,
        typer.Option(
            help="tiny (~100 short clips, tests) | small (600 clips of 10-60 s, the demo) | full (4500 clips) | "
            "short (360 clips of 8.5-12 s: one PISA sample per keyboard video)"
        ),
    ] = "small",
    seed: Annotated[int, typer.Option(help="the same seed gives bit-identical audio")] = 0,
    out: Annotated[Path | None, typer.Option(help="output folder (default: $PJBENCH_HOME/datasets/synthetic-SIZE-seedN-RATEk)")] = None,
    sample_rate: Annotated[int, typer.Option("--sample-rate", help="FLAC sample rate")] = 24000,
    workers: Annotated[int, typer.Option(min=0, help="rendering processes (default: all cores)")] = 0,
    video: Annotated[
        bool, typer.Option("--video", help="also render keyboard videos (for `pjbench pisa`): one suited performance per piece")
    ] = False,
) -> None:
    """Render the embedded synthetic piano dataset: scores x performers -> FLAC + MIDI + manifest.csv.

    Labels are known by construction: techniques from the score's figures, difficulty 1-9 from measured score
    properties, expertise / player level from the performer's skill. Soundfont, room and loudness are drawn
    independently of every label. Cached: the same call twice does the work once.
    """
    from ..datasets.synthetic.build import SynthConfig, build

    try:
        cfg = SynthConfig.for_size(size, seed, sample_rate)
        path = build(cfg, out, workers=workers or None)
        if video:
            from ..datasets.synthetic.video import build_videos

            build_videos(path, workers=workers or None)
    except EXPECTED as err:
        fail(str(err))
    console.print(f"synthetic dataset ({size}, seed {seed}) at [bold]{path}[/bold]")


def extract(
    encoder: Annotated[
        str, typer.Option("--encoder", "-e", help="encoder name (`pjbench list encoders`) or package.module:object")
    ] = "mel",
    dataset: DatasetOpt = None,
    manifest: ManifestOpt = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", "-o", metavar="KEY=VALUE", help="encoder option KEY=VALUE, e.g. -o scale=power for the reference's linear mel"
        ),
    ] = None,
    checkpoint: Annotated[
        str | None,
        typer.Option(help="pretrained weights: a local file or folder in the published layout (default: the Hugging Face cache, offline)"),
    ] = None,
    device: DeviceOpt = "auto",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="segments per encoder call")] = 16,
    segment_seconds: Annotated[
        float, typer.Option("--segment-seconds", callback=above_zero, help="segment length in seconds (the paper's: 10)")
    ] = 10.0,
    max_segments: Annotated[
        int | None,
        typer.Option(
            "--max-segments", min=0, help="segments kept per recording (default: the dataset's, 30 = the first 5 minutes; 0 = all)"
        ),
    ] = None,
    layer: Annotated[str, typer.Option(help="which hidden layer to store: last | all | an index")] = "last",
    pool: Annotated[
        str,
        typer.Option(
            help="temporal pooling at extraction: none (full frame rate) | mean (one frame per segment) | rate:HZ (average to HZ frames/s)"
        ),
    ] = "none",
    workers: Annotated[int, typer.Option(min=0, help="audio decoding processes")] = 1,
    precision: Annotated[
        str,
        typer.Option(
            help="the encoder's arithmetic: fp32 (the default and the reference's) | bf16 | fp16 (GPU only); a lower "
            "precision is faster on a GPU and changes the features slightly (docs/benchmarks.md measures how much); it is "
            "part of the cache's key"
        ),
    ] = "fp32",
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    cache_dir: CacheOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="exit with status 1 if any recording was skipped (the others are cached all the same)")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="embed only share K (from 0) of N, balanced by duration, into a shard file (a Slurm array: "
            "--shard $SLURM_ARRAY_TASK_ID/N); `pjbench cache merge` joins the shards. Under torchrun each rank takes its "
            "share by itself (RANK of WORLD_SIZE, device cuda:LOCAL_RANK when there are GPUs) and rank 0 merges",
        ),
    ] = None,
) -> None:
    """Embed every recording into an HDF5 cache (resumable: finished recordings are skipped).

    Audio is decoded, downmixed and resampled to the encoder's rate, cut into segments (a trailing part of at least
    half a segment is kept, padded), embedded in batches and stored as float16. Missing, undecodable, too short or
    silent files are logged and skipped.
    """
    from ..api import extract as run_extract
    from ..extraction.extract import ExtractConfig
    from ..extraction.segments import SegmentConfig
    from ..extraction.shards import Shard, merge_after_all_ranks, rank_device

    try:
        part = Shard.parse(shard) if shard else Shard.from_torchrun()
        torchrun = shard is None and part is not None
        if torchrun and device == "auto":
            device = rank_device()
        enc = load_named_encoder(encoder, option, checkpoint)  # a wrong encoder name fails before any data is built
        ds = load_requested(dataset, manifest, audio_root, labels, split_seed, build_missing=True)
        keep = ds.max_segments if max_segments is None else (max_segments or None)
        cfg = ExtractConfig(SegmentConfig(segment_seconds, keep), layer, pool, batch_size, device_name(device), workers, precision)
        report = run_extract(ds, enc, config=cfg, cache_root=cache_dir, shard=part, name=encoder)
        if torchrun:
            merged = merge_after_all_ranks(report.cache_path)
    except EXPECTED as err:
        fail(str(err) + assumed_note(dataset, manifest))
    if ds.info.get("n_missing_audio"):
        console.print(
            f"[yellow]{ds.info['n_missing_audio']} of {ds.info['n_label_rows']} label rows have no audio[/yellow] "
            f"(listed in {report.cache_path.parent / 'missing-audio.csv'})"
        )
    shown = 20
    for rec_id, reason in list(report.skipped.items())[:shown]:
        console.print(f"skipped {rec_id}: {reason}", markup=False, highlight=False)
    if len(report.skipped) > shown:
        console.print(f"... and {len(report.skipped) - shown} more skipped (`pjbench cache verify {report.cache_path}` lists them all)")
    speed = f" ({report.realtime_factor:.0f}x real time)" if report.extracted else ""
    console.print(
        f"{report.extracted} extracted, {report.already_done} already cached, {len(report.skipped)} skipped{speed} -> {report.cache_path}",
        markup=False,
        highlight=False,
    )
    if torchrun and merged is not None:
        console.print(
            f"merged {merged.shards} shards ({merged.copied} recordings copied) -> {merged.cache_path}", markup=False, highlight=False
        )
    elif shard:
        console.print(f"shard {shard} done; when every shard is: pjbench cache merge {report.cache_path}", markup=False, highlight=False)
    if not report.extracted and not report.already_done:
        fail(f"nothing could be extracted: all {len(report.skipped)} recordings were skipped (reasons above)")
    if strict and report.skipped:
        fail(f"--strict: {len(report.skipped)} recording(s) skipped (reasons above); the others are in {report.cache_path}")


def data_check(
    dataset: Annotated[
        str | None, typer.Argument(help="a dataset name (`pjbench list datasets`) or a synthetic dataset folder; or give --manifest")
    ] = None,
    manifest: ManifestOpt = None,
    audio_root: AudioRootOpt = None,
    labels: LabelsOpt = None,
    split_seed: SplitSeedOpt = 0,
    out: Annotated[Path | None, typer.Option(help="where the report goes (default: RESULTS_DIR/<dataset>/)")] = None,
    results_dir: ResultsOpt = DEFAULT_RESULTS,
) -> None:
    """Leakage and shortcut report: performer / piece / source overlap across splits, the same audio on two sides,
    missing and unreadable files, and per label the duration, codec, sample-rate and channel distribution with how
    well each property alone predicts the label. Writes data-check.txt, .png and missing-audio.csv."""
    from ..datasets import load_dataset
    from ..datasets.check import check_dataset, plot_report, render_text
    from ..extraction.extract import write_missing_report

    if dataset is None and manifest is None:
        fail("name a dataset (`pjbench data check synthetic`) or give --manifest FILE.csv", 2)
    try:
        ds = load_dataset(dataset, manifest, build_missing=False, audio_root=audio_root, labels_dir=labels, split_seed=split_seed)
        report = check_dataset(ds)
    except EXPECTED as err:
        fail(str(err))
    folder = out or results_dir / ds.name
    folder.mkdir(parents=True, exist_ok=True)
    text = render_text(report)
    (folder / "data-check.txt").write_text(text)
    plot_report(report, folder / "data-check.png")
    missing_csv = write_missing_report(ds, folder)
    console.print(text, markup=False, highlight=False)
    console.print(f"report: {folder / 'data-check.txt'}, {folder / 'data-check.png'}" + (f", {missing_csv}" if missing_csv else ""))


def validate_encoder(
    encoder: Annotated[str, typer.Argument(help="encoder name or package.module:object")],
    option: Annotated[list[str] | None, typer.Option("--option", "-o", metavar="KEY=VALUE", help="encoder option KEY=VALUE")] = None,
    checkpoint: Annotated[str | None, typer.Option(help="pretrained weights (file or folder in the published layout)")] = None,
    device: DeviceOpt = "auto",
) -> None:
    """Check an encoder before benchmarking it: output shape against its declared frame count and dimension (at
    several segment lengths), determinism, batch invariance, silence and very short input, NaNs; reports
    throughput and peak memory. Exits with status 1 if a check fails."""
    from ..encoders.validate import validate_encoder as run_checks

    try:
        enc = load_named_encoder(encoder, option, checkpoint)
        checks = run_checks(enc, device=device_name(device))
    except EXPECTED as err:
        fail(str(err))
    if checkpoint:
        from ..encoders.checkpoints import weights_digest

        for name, digest in weights_digest(checkpoint).items():
            console.print(f"weights {name} sha256 {digest}", markup=False, highlight=False)
    table = Table(title=f"validate-encoder {encoder}")
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for c in checks:
        table.add_row(c.name, "[green]pass[/green]" if c.passed else "[red]FAIL[/red]", c.detail)
    console.print(table)
    if not all(c.passed for c in checks):
        raise typer.Exit(1)
