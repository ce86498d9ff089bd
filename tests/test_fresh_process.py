"""Fresh-interpreter workers (``source_codecs.fresh_process``): a handler's exception comes back to the
parent as the same exception with the worker's traceback, a worker that dies or does not start raises
instead of hanging, and stopping ends them."""

from __future__ import annotations

import os
import pickle
import textwrap

import pytest

from source_codecs.fresh_process import FreshWorker, WorkerError, stop_workers

WORKER = """
import os

from source_codecs.fresh_process import serve


class Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(a)


def handle(request):
    kind, value = request
    if kind == "double":
        return 2 * value
    if kind == "raise":
        raise ValueError(f"bad value {value}")
    if kind == "unpicklable":
        raise Unpicklable(value, value)
    if kind == "lambda":
        return lambda: value
    os._exit(value)


def serve_test(read_fd, write_fd):
    serve(read_fd, write_fd, handle)
"""


@pytest.fixture
def worker_module(tmp_path, monkeypatch):
    """A module the worker imports, on this interpreter's (and so the worker's) ``sys.path``."""
    (tmp_path / "fresh_worker_for_test.py").write_text(textwrap.dedent(WORKER))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fresh_worker_for_test:serve_test"


def _ask(worker: FreshWorker, request: tuple) -> object:
    worker.send(request)
    assert worker.poll(60)
    return worker.recv()


def test_replies_and_the_handlers_exceptions_come_back(worker_module):
    worker = FreshWorker(worker_module)
    worker.wait_ready(120, "test worker")
    assert worker.pid != os.getpid()
    assert _ask(worker, ("double", 21)) == 42
    with pytest.raises(ValueError, match="bad value 7") as raised:
        _ask(worker, ("raise", 7))
    cause = raised.value.__cause__
    assert isinstance(cause, WorkerError)
    assert f"in worker process {worker.pid}" in str(cause) and "in handle" in str(cause)
    # an exception that does not survive pickling comes back as the text alone
    with pytest.raises(WorkerError, match="Unpicklable"):
        _ask(worker, ("unpicklable", 1))
    # a reply that does not pickle: the pickling error comes back instead, nothing half-written
    with pytest.raises((AttributeError, pickle.PicklingError), match="pickle") as raised:
        _ask(worker, ("lambda", 1))
    assert isinstance(raised.value.__cause__, WorkerError)
    assert _ask(worker, ("double", 1)) == 2  # still serving
    assert worker.stop(kill=False) == 0 and not worker.alive()
    assert worker.stop(kill=True) == 0  # harmless twice


def test_a_worker_that_dies_raises_rather_than_hangs(worker_module):
    worker = FreshWorker(worker_module)
    worker.wait_ready(120, "test worker")
    worker.send(("exit", 3))
    assert worker.poll(60)  # the pipe closing wakes the parent
    with pytest.raises(EOFError):
        worker.recv()
    assert worker.stop(kill=True) == 3


def test_a_worker_that_cannot_start_is_an_error():
    worker = FreshWorker("no_such_module_anywhere:serve")
    with pytest.raises(WorkerError, match=r"test worker did not start .*exit code 1"):
        worker.wait_ready(120, "test worker")
    assert not worker.alive()


def test_stop_workers_ends_several_together(worker_module):
    workers = [FreshWorker(worker_module) for _ in range(2)]
    for worker in workers:
        worker.wait_ready(120, "test worker")
    pids = [w.pid for w in workers]
    assert stop_workers(workers, kill=False) == [0, 0]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
