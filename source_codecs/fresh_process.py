"""Worker processes that are fresh interpreters, so that the caller's script never runs a second time.

:mod:`multiprocessing`'s ``spawn`` imports the parent's ``__main__`` module in every worker, so a plain
script without an ``if __name__ == "__main__":`` guard runs again in each one. A :class:`FreshWorker`
is instead ``python -c`` calling a ``function(read_fd, write_fd)`` that it imports by module; it gets
the parent's ``sys.path`` (``''`` resolved to the working folder) and environment, nothing from
``__main__``, and it is safe when the parent has imported torch or started threads. Parent and worker
talk over two pipes with :mod:`multiprocessing.connection`'s framing (pickled messages).

The worker's side is :func:`serve`: it sends ``"ready"``, then one reply per request until it gets
None or its parent's end closes (so it ends by itself when its parent dies). An exception raised while
handling a request comes back to the parent: :meth:`FreshWorker.recv` raises it (from a
:class:`WorkerError` holding the worker's traceback). Workers still running at interpreter exit are
stopped.

Used by the isolated decoder (:mod:`source_codecs.isolation`) and the ``processes`` executor
(``simulator.link.executors``).
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import subprocess
import sys
import time
import traceback
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["FreshWorker", "WorkerError", "serve", "stop_workers"]

STOP_WAIT_S = 5.0  # how long a worker asked to stop may take before it is killed, seconds


class WorkerError(RuntimeError):
    """A fresh worker did not start, died, or failed to handle a request (the message then holds
    the worker's traceback)."""


@dataclass(frozen=True)
class _Failure:
    """What :func:`serve` replies when handling a request raised: the exception (None when it does not
    survive pickling) and the worker's formatted traceback."""

    error: BaseException | None
    traceback: str


def _failure(exc: BaseException) -> _Failure:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return _Failure(None, text)
    return _Failure(exc, text)


def serve(read_fd: int, write_fd: int, handle: Callable[[Any], Any]) -> None:
    """The worker's loop over its two inherited pipe ends: each request in, ``handle(request)`` out (or
    the exception it raised); returns when the parent sends None or closes its end.

    Ctrl-C is left to the parent (which ends the worker), so an interrupted run prints no traceback from
    here.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    outbox.send("ready")
    while True:
        try:
            request = inbox.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            reply = handle(request)
        except Exception as exc:
            reply = _failure(exc)
        try:
            outbox.send(reply)
        except OSError:  # the parent has gone
            return
        except Exception as exc:  # the reply does not pickle (nothing was written)
            outbox.send(_failure(exc))


class FreshWorker:
    """A worker interpreter running ``target`` (``"package.module:function"``, a function of
    ``(read_fd, write_fd)`` that calls :func:`serve`).

    Starting does not wait: call :meth:`wait_ready` (start several, then wait for each, and they import
    in parallel). :meth:`send` a request, :meth:`poll` or :func:`multiprocessing.connection.wait` on
    :attr:`inbox`, then :meth:`recv` the reply; :meth:`stop` when done.
    """

    _live: weakref.WeakSet[FreshWorker] = weakref.WeakSet()

    def __init__(self, target: str) -> None:
        module, function = target.split(":")
        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()
        path = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
        code = (
            f"import sys; sys.path[:] = {path!r}; "
            f"from {module} import {function}; {function}({to_read}, {from_write})"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.DEVNULL,
                pass_fds=(to_read, from_write),
                close_fds=True,
            )
        except BaseException:
            for fd in (to_read, to_write, from_read, from_write):
                os.close(fd)
            raise
        os.close(to_read)
        os.close(from_write)
        self._outbox = Connection(to_write, readable=False)
        self.inbox = Connection(from_read, writable=False)
        self._stopped = False
        FreshWorker._live.add(self)

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def alive(self) -> bool:
        """True while the worker runs and has not been stopped."""
        return not self._stopped and self.process.poll() is None

    def wait_ready(self, timeout_s: float, what: str) -> None:
        """Wait until the worker has started (imported its target), ``timeout_s`` seconds at most.

        :param what: the worker's name in the error, e.g. ``"decoder worker"``.
        :raises WorkerError: it died starting (e.g. its module does not import) or took too long; it is
            stopped.
        """
        try:
            ready = self.inbox.poll(timeout_s) and self.inbox.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            exitcode = self.stop(kill=True)
            raise WorkerError(
                f"{what} did not start within {timeout_s:g} s "
                f"(exit code {exitcode}; its error, if any, is on stderr above)"
            )

    def send(self, request: Any) -> None:
        """Send a request (anything that pickles but None, which asks the worker to stop).

        :raises OSError: the worker has died (e.g. ``BrokenPipeError``).
        """
        self._outbox.send(request)

    def poll(self, timeout_s: float) -> bool:
        """True when a reply (or the worker's end of the pipe closing) arrives within ``timeout_s``
        seconds."""
        return self.inbox.poll(timeout_s)

    def recv(self) -> Any:
        """The next reply.

        :raises EOFError: the worker died (``OSError`` too, possibly).
        :raises Exception: the exception handling the request raised, from a :class:`WorkerError` with
            the worker's traceback (the :class:`WorkerError` alone when the exception does not pickle).
        """
        reply = self.inbox.recv()
        if isinstance(reply, _Failure):
            error = WorkerError(f"in worker process {self.pid}:\n{reply.traceback.rstrip()}")
            if reply.error is None:
                raise error
            raise reply.error from error
        return reply

    def stop(self, kill: bool) -> int | None:
        """End the worker (politely unless ``kill``): :func:`stop_workers` of this one."""
        return stop_workers([self], kill)[0]

    def _close(self) -> None:
        self._stopped = True
        FreshWorker._live.discard(self)
        self._outbox.close()
        self.inbox.close()


def stop_workers(workers: Iterable[FreshWorker], kill: bool) -> list[int | None]:
    """End workers together: unless ``kill``, ask each to stop and give them :data:`STOP_WAIT_S`
    seconds in all; kill what still runs. Stopping a stopped worker is harmless.

    :return: each worker's exit code (negative: the signal that ended it, e.g. -11 for a segmentation
        fault; None if it could not be reaped).
    """
    workers = list(workers)
    running = [w for w in workers if not w._stopped]
    if not kill:
        for worker in running:
            try:
                worker.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + STOP_WAIT_S
        for worker in running:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    for worker in running:
        if worker.process.poll() is None:
            worker.process.kill()
        try:
            worker.process.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            pass
        worker._close()
    return [w.process.returncode for w in workers]


@atexit.register
def _stop_all_at_exit() -> None:
    stop_workers(list(FreshWorker._live), kill=False)
