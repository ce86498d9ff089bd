"""Where sweep points run: in this process, in worker processes, or on a Dask cluster.

Every point carries its own seeds (derived from the run seed and the point), and workers build their own
:class:`~simulator.link.pipeline.LinkSimulator` from the same configuration, so the numbers do not depend on the
executor or the number of workers. Results come back as points finish, in any order; the caller stores
each one at once (see :class:`~simulator.output.results.ResultStore`).

The ``processes`` workers are fresh interpreters (:class:`~source_codecs.fresh_process.FreshWorker`),
not :mod:`multiprocessing` spawns: they never import the caller's ``__main__``, so a script without an
``if __name__ == "__main__":`` guard is not run again in each.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from simulator.config import Config
from simulator.link.sweep import SweepPoint
from source_codecs.fresh_process import FreshWorker, WorkerError, serve, stop_workers

__all__ = ["PointExecutor", "run_point_in_worker", "serve_points"]

WORKER_START_TIMEOUT_S = 300.0
"""How long a ``processes`` worker may take to start (its imports), seconds."""

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


def serve_points(read_fd: int, write_fd: int) -> None:
    """A ``processes`` executor's worker (a fresh interpreter, see
    :mod:`source_codecs.fresh_process`): :func:`run_point_in_worker` of each
    ``(config_json, index, threads)`` request, over two inherited pipe ends."""
    serve(read_fd, write_fd, lambda request: run_point_in_worker(*request))


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
        """Up to ``workers`` fresh interpreters (:func:`serve_points`: they never import the caller's
        ``__main__``), one point at a time each, the next sent as each finishes.

        :raises Exception: what a point raised in its worker (from a
            :class:`~source_codecs.fresh_process.WorkerError` with the worker's traceback).
        :raises WorkerError: a worker did not start or died running a point.
        """
        by_index = {p.index: p for p in points}
        config_json = self.config.model_dump_json()
        threads = _worker_threads()
        todo = deque(p.index for p in points)
        workers: list[FreshWorker] = []
        running: dict[Connection, tuple[FreshWorker, int]] = {}

        def died(worker: FreshWorker, index: int) -> WorkerError:
            exitcode = worker.stop(kill=True)
            return WorkerError(
                f"point worker {worker.pid} died running point {index} (exit code {exitcode}; "
                "its error, if any, is on stderr above)"
            )

        def give_work(worker: FreshWorker) -> None:
            if todo:
                index = todo.popleft()
                try:
                    worker.send((config_json, index, threads))
                except OSError:
                    raise died(worker, index) from None
                running[worker.inbox] = (worker, index)

        finished = False
        try:
            for _ in range(min(self.workers, len(points))):  # all start, then each is waited for
                workers.append(FreshWorker("simulator.link.executors:serve_points"))
            for worker in workers:
                worker.wait_ready(WORKER_START_TIMEOUT_S, "point worker")
            for worker in workers:
                give_work(worker)
            while running:
                for inbox in wait(list(running)):
                    worker, index = running.pop(inbox)
                    try:
                        done, summary, per_image = worker.recv()
                    except (EOFError, OSError):
                        raise died(worker, index) from None
                    give_work(worker)  # before yielding: it works while the caller stores this one
                    yield by_index[done], summary, per_image
            finished = True
        finally:
            stop_workers(workers, kill=not finished)

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
