"""A probe grid: encoders x tasks x heads x layers, each cell an independent job (its seeds train side by side in it),
run one after the other, in local processes (``--jobs N``), or on a cluster through submitit (Slurm; its local mode
runs the same jobs as local subprocesses, which is what CI tests).

Why submitit: it is the established way to send Python functions to Slurm (pickled with cloudpickle, results and
logs in a shared folder, requeueing on preemption), it adds one small pure-Python dependency, and its local mode needs
no cluster; Ray or Dask would bring a scheduler of their own to run beside Slurm, which is what labs already have.

A job whose result is on record with the same training settings, cache, layer and split is not run again (the grid
resumes). Each job is the same computation wherever it runs, so the results are those of the serial run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..datasets.base import Dataset
from ..results.record import TaskResult, result_file
from .config import TrainConfig

EXECUTORS = ("processes", "submitit-local", "slurm")


@dataclass(frozen=True)
class ProbeJob:
    """One cell of the grid: a task probed with one head (and schedule) on one cache, every stored layer or one."""

    dataset: Dataset
    task: str
    cache_path: Path
    train: TrainConfig
    results_dir: Path
    allow_missing: bool = False
    layer: int | None = None
    threads: int = 0  # torch threads in a worker process (0: torch's default)
    progress: bool = False  # progress bars (the serial run's, in a terminal)


def recorded(job: ProbeJob) -> TaskResult | None:
    """The job's result if it is on record with the same training settings, cache, layer and split (else None)."""
    from ..datasets.fingerprint import fingerprint
    from ..heads import infer_schedule
    from ..tasks import get_task

    task = get_task(job.task, job.dataset)
    variant = job.train.schedule or infer_schedule(job.train.record())
    label = f"{job.train.head}-{variant}" if variant else job.train.head
    path = result_file(job.results_dir, job.dataset.name, _encoder_name(job.cache_path), task.name, label, job.layer)
    if not path.is_file():
        return None
    result = TaskResult.load(path)
    planned = {**job.train.record(), "lr": job.train.lr_for(task), "batch_size": job.train.batch_size_for(task)}
    train = result.config.get("train", {})
    same = (
        _comparable(train) == _comparable(json.loads(json.dumps(planned)))
        and result.config.get("cache", {}).get("path") == str(job.cache_path)
        and result.config.get("layer") == job.layer
        and result.config.get("dataset", {}).get("split_hash") == job.dataset.info.get("split_hash")
        and result.data_digest == fingerprint(job.dataset)["digest"]  # on other data of this name: not this job's
        and result.label == label
    )
    return result if same else None


def _comparable(train: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in train.items() if k != "device"}


def _encoder_name(cache_path: Path) -> str:
    from ..extraction.cache import CacheReader

    reader = CacheReader(cache_path)
    try:
        return str(reader.config["encoder"]["name"])
    finally:
        reader.close()


def run_job(job: ProbeJob) -> TaskResult:
    """Run one job (in this process, or in a worker or cluster job: everything it needs travels with it)."""
    import torch

    from ..tasks import get_task
    from .probe import run_probe

    threads = torch.get_num_threads()
    if job.threads:
        torch.set_num_threads(job.threads)
    try:
        task = get_task(job.task, job.dataset)
        return run_probe(
            job.dataset,
            task,
            job.cache_path,
            job.train,
            job.results_dir,
            progress=job.progress,
            allow_missing=job.allow_missing,
            layer=job.layer,
        )
    finally:  # a job run in this process leaves the process's thread count as it found it
        torch.set_num_threads(threads)


def run_grid(
    jobs: Iterable[ProbeJob],
    n_jobs: int = 1,
    executor: str = "processes",
    cluster_folder: Path | None = None,
    cluster_options: dict[str, Any] | None = None,
    on_result: Callable[[ProbeJob, TaskResult, bool], None] | None = None,
) -> list[TaskResult]:
    """Run every job not yet on record; ``on_result(job, result, ran)`` hears of each as it is ready (``ran``: False
    when it was on record already). Results come back in the jobs' order."""
    if executor not in EXECUTORS:
        raise ValueError(f"--executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    planned = list(jobs)
    results: dict[int, TaskResult] = {}

    def ready(i: int, result: TaskResult, ran: bool) -> None:
        results[i] = result
        if on_result is not None:
            on_result(planned[i], result, ran)

    todo = []
    for i, job in enumerate(planned):
        on_record = recorded(job)
        if on_record is None:
            todo.append(i)
        else:
            ready(i, on_record, False)
    if executor == "processes" and n_jobs <= 1:
        for i in todo:
            ready(i, run_job(replace(planned[i], progress=True)), True)
    elif executor == "processes":
        threads = max(1, (os.cpu_count() or 1) // n_jobs)  # the cores shared out, not oversubscribed
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=get_context("spawn")) as pool:
            for i, result in zip(todo, pool.map(run_job, [_with_threads(planned[i], threads) for i in todo])):
                ready(i, result, True)
    else:
        for i, result in _submitit(planned, todo, n_jobs, executor, cluster_folder, cluster_options or {}):
            ready(i, result, True)
    return [results[i] for i in range(len(planned))]


def _with_threads(job: ProbeJob, threads: int) -> ProbeJob:
    return replace(job, threads=job.threads or threads)


def _submitit(
    planned: list[ProbeJob], todo: list[int], n_jobs: int, executor: str, folder: Path | None, options: dict[str, Any]
) -> Iterable[tuple[int, TaskResult]]:
    try:
        import submitit
    except ImportError as err:
        raise RuntimeError("--executor slurm or submitit-local needs submitit: pip install 'pjbench[cluster]'") from err
    log_folder = folder or planned[0].results_dir / "grid-jobs"
    cluster = "local" if executor == "submitit-local" else "slurm"
    pool = submitit.AutoExecutor(folder=str(log_folder), cluster=cluster)
    parameters: dict[str, Any] = {"timeout_min": 24 * 60, **options}
    if cluster == "slurm":
        parameters.setdefault("slurm_array_parallelism", max(1, n_jobs))
        pool.update_parameters(**parameters)
        with pool.batch():  # one array job
            submitted = [pool.submit(run_job, planned[i]) for i in todo]
        for i, job in zip(todo, submitted):
            yield i, job.result()
        return
    pool.update_parameters(**parameters)
    width = max(1, n_jobs)
    threads = max(1, (os.cpu_count() or 1) // width)
    for start in range(0, len(todo), width):  # the local mode starts whatever it is given: at most n_jobs at a time
        wave = todo[start : start + width]
        submitted = [pool.submit(run_job, _with_threads(planned[i], threads)) for i in wave]
        for i, job in zip(wave, submitted):
            yield i, job.result()
