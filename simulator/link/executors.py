"""Where sweep points run: in this process, in worker processes, or on a Dask cluster.

Every point carries its own seeds (derived from the run seed and the point), and workers build their own
:class:`~simulator.link.pipeline.LinkSimulator` from the same configuration, so the numbers do not depend on the
executor or the number of workers. Results come back as points finish, in any order; the caller stores
each one at once (see :class:`~simulator.output.results.ResultStore`).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from simulator.config import Config
from simulator.link.sweep import SweepPoint

__all__ = ["PointExecutor", "run_point_in_worker"]

_WORKER_SIMULATORS: dict[str, Any] = {}


def _worker_threads() -> int:
    """Workers run torch with the main process's thread count: networks (Inception, LPIPS, the segmenter)
    can round differently with another count, and results must not depend on the executor."""
    import torch

    return torch.get_num_threads()


def run_point_in_worker(config_json: str, index: int, threads: int) -> tuple[int, dict, list]:
    """Run point ``index`` of the configuration in this worker (its simulator is built once and kept).

    :return: (index, summary row, per-image rows).
    """
    import torch

    from simulator.link.pipeline import LinkSimulator
    from simulator.link.sweep import sweep_points

    simulator = _WORKER_SIMULATORS.get(config_json)
    if simulator is None:
        torch.set_num_threads(threads)
        config = Config.model_validate_json(config_json)
        simulator = LinkSimulator(config, log=lambda _msg: None)
        _WORKER_SIMULATORS.clear()
        _WORKER_SIMULATORS[config_json] = simulator
    result = simulator.run_point(sweep_points(simulator.config)[index])
    return index, result.summary, result.per_image


class PointExecutor:
    """Runs points and yields ``(point, summary, per_image)`` as each finishes.

    :param config: the validated configuration.
    :param simulator: the main process's simulator (used by the ``local`` executor).
    """

    def __init__(self, config: Config, simulator: Any) -> None:
        self.config = config
        self.simulator = simulator
        self.kind = config.execution.executor
        self.workers = config.execution.workers

    def run(
        self,
        points: Sequence[SweepPoint],
        on_start: Callable[[SweepPoint], None] | None = None,
    ) -> Iterator[tuple[SweepPoint, dict, list]]:
        """Run ``points``; ``on_start(point)`` is called as the local executor starts each one (the
        worker executors run several at once and do not call it)."""
        if not points:
            return iter(())
        if self.kind == "local":
            return self._local(points, on_start or (lambda _point: None))
        if self.kind == "processes":
            return self._processes(points)
        return self._dask(points)

    def _local(
        self, points: Sequence[SweepPoint], on_start: Callable[[SweepPoint], None]
    ) -> Iterator[tuple[SweepPoint, dict, list]]:
        for point in points:
            on_start(point)
            result = self.simulator.run_point(point)
            yield point, result.summary, result.per_image

    def _processes(self, points: Sequence[SweepPoint]) -> Iterator[tuple[SweepPoint, dict, list]]:
        by_index = {p.index: p for p in points}
        config_json = self.config.model_dump_json()
        threads = _worker_threads()
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = [
                pool.submit(run_point_in_worker, config_json, p.index, threads) for p in points
            ]
            for future in cf.as_completed(futures):
                index, summary, per_image = future.result()
                yield by_index[index], summary, per_image

    def _dask(self, points: Sequence[SweepPoint]) -> Iterator[tuple[SweepPoint, dict, list]]:
        from distributed import Client, LocalCluster, as_completed

        by_index = {p.index: p for p in points}
        config_json = self.config.model_dump_json()
        address = self.config.execution.address
        cluster = None
        if address is None:
            cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        client = Client(cluster if cluster is not None else address)
        try:
            threads = _worker_threads()
            futures = [
                client.submit(
                    run_point_in_worker,
                    config_json,
                    p.index,
                    threads,
                    key=f"point-{p.key}",
                    pure=False,
                )
                for p in points
            ]
            for future in as_completed(futures):
                index, summary, per_image = future.result()
                yield by_index[index], summary, per_image
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
