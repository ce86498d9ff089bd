"""Per-image network work on the CPU: Python threads side by side, one torch thread each.

One thread per image makes every score independent of the torch thread count: a network's rounding
can depend on how its work is split across threads. On the idle 2-core machine it is also slightly
faster than one image at a time on two torch threads (all six metrics of a point of 8 images at
256x512: 306 against 312 ms per image, ``benchmarks/results/throughput.md``), and it lets C encoders
that release the GIL (x265) work on two images at once.
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
