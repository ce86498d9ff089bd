"""Per-image network work on the CPU: Python threads side by side, one torch thread each.

On two cores the metric networks run 31 % faster as two images in two Python threads with one
intra-op thread each than one image at a time on two intra-op threads (ST-LPIPS and Inception per
256x512 image, idle AMD EPYC: 251 against 365 ms; ``benchmarks/results/throughput.md``): the
networks' small layers and the work between them do not keep two intra-op threads busy. One
thread per image also makes every score independent of the thread count, since a network's
rounding can depend on how its work is split across threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

__all__ = ["map_one_thread_each"]

T = TypeVar("T")


def map_one_thread_each(jobs: Sequence[Callable[[], T]], workers: int) -> list[T]:
    """Run ``jobs`` on ``workers`` Python threads, each with one intra-op torch thread and in
    inference mode; the results in the order of ``jobs``.

    Each job computes exactly what it computes alone on one thread, whichever Python thread runs it
    and whatever runs beside it. The caller's torch thread count is restored afterwards.

    :param jobs: callables without arguments; they must not write shared state (return it instead).
    :param workers: Python threads (1: the jobs run one after another in the calling thread).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # new threads take this count on their first parallel region
    try:
        if workers <= 1 or len(jobs) <= 1:
            return [_run(job) for job in jobs]
        with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="score") as pool:
            return list(pool.map(_run, jobs))
    finally:
        torch.set_num_threads(previous)


def _run(job: Callable[[], T]) -> T:
    """``job()`` without autograd: inference mode is per thread, so each worker enters it."""
    with torch.inference_mode():
        return job()
