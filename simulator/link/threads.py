"""Per-image work on the CPU: two images side by side, on Python threads that share torch's threads.

With ``T`` torch threads, a point's images go through the metric networks (and a codec that allows
it, :attr:`source_codecs.SourceCodec.concurrent_encodes`, encodes them) two at a time, each on
``T // 2`` torch threads. On two cores that makes every score independent of the thread count (one
and two threads both compute each image on one), and it is slightly faster than one image at a time
on two torch threads (all six metrics of a point of 8 images at 256x512 on an idle 2-core AMD EPYC:
306 against 312 ms per image, ``benchmarks/results/throughput.md``); it lets C encoders that release
the GIL (x265) work on two images at once. Two at most: memory then holds at most two images'
activations (ST-LPIPS: about 200 MB at 256x512).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

__all__ = ["MAX_SIDE_BY_SIDE", "map_side_by_side", "side_by_side"]

MAX_SIDE_BY_SIDE = 2
"""Jobs in flight at once, at most."""

T = TypeVar("T")


def side_by_side(threads: int) -> tuple[int, int]:
    """(Python threads, torch threads each) for a budget of ``threads`` torch threads (at least 1):
    1 -> (1, 1), 2 or 3 -> (2, 1), 4 -> (2, 2), 16 -> (2, 8)."""
    workers = max(1, min(MAX_SIDE_BY_SIDE, threads))
    return workers, max(1, threads // workers)


def map_side_by_side(jobs: Sequence[Callable[[], T]], threads: int) -> list[T]:
    """The results of ``jobs``, in their order, run :func:`side_by_side` within ``threads`` torch
    threads; the caller's torch thread count is restored afterwards.

    Each job runs on the same number of torch threads however many jobs there are, so it computes
    what it computes alone with that count, whichever Python thread runs it and whatever runs
    beside it. With ``threads`` 1 the jobs run one after another in the calling thread, untouched.

    :param jobs: callables without arguments; they must not write shared state (return it
        instead). Grad mode and inference mode are per thread: a job that needs one enters it.
    :param threads: the torch threads the jobs may use together.
    """
    if threads <= 1:
        return [job() for job in jobs]
    workers, each = side_by_side(threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(each)  # new threads take this count on their first parallel region
    try:
        if len(jobs) <= 1:
            return [job() for job in jobs]
        with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="side") as pool:
            return list(pool.map(lambda job: job(), jobs))
    finally:
        torch.set_num_threads(previous)
