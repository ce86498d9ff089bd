"""Decoding untrusted streams without risking the caller: a persistent worker process with a time limit.

A decoder fed a corrupted stream may raise, return garbage, hang or crash the whole process (a
segmentation fault in a C library). :class:`SafeDecoder` runs such decodes in one long-lived worker
process (``spawn`` start method: safe when the parent has imported torch or started threads), reuses it
for every call, and replaces it after a crash or a hang. Codecs that declare ``trusted_decoder = True``
(pure-Python decoders such as ``original``) are decoded in-process, with the same checks.

The worker is started with :mod:`multiprocessing`'s ``spawn`` semantics: it re-imports the parent's
``__main__`` module (without running its ``if __name__ == "__main__"`` block), once per worker.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Literal

import numpy as np

from source_codecs.base import SourceCodec
from source_codecs.params import resolve_params
from source_codecs.registry import codec_class

__all__ = ["DecodeOutcome", "DecodeStatus", "SafeDecoder", "safe_decode"]

DecodeStatus = Literal["ok", "exception", "timeout", "crash", "bad_shape"]


@dataclass(frozen=True)
class DecodeOutcome:
    """The result of one isolated decode.

    :param image: uint8 [H, W, 3] when ``status == "ok"``, else None.
    :param status: ``ok``; ``exception`` (the decoder raised); ``timeout`` (it ran past the limit and its
        worker was killed); ``crash`` (the worker process died, e.g. a segmentation fault);
        ``bad_shape`` (it returned something other than a uint8 [H, W, 3] array).
    :param message: what went wrong, one line (empty when ok).
    """

    image: np.ndarray | None
    status: DecodeStatus
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the decoder produced a well-formed image."""
        return self.status == "ok"


class _CodecCache:
    """Codec instances by (class, parameters), so that a codec's set-up (e.g. weights) is paid once."""

    def __init__(self) -> None:
        self._codecs: dict[tuple[type, str], SourceCodec] = {}

    def get(self, cls: type[SourceCodec], params: Mapping[str, Any]) -> SourceCodec:
        key = (cls, repr(sorted(params.items())))
        if key not in self._codecs:
            self._codecs[key] = cls(**params)
        return self._codecs[key]


def _decode_checked(
    codecs: _CodecCache, cls: type[SourceCodec], params: Mapping[str, Any], request: tuple
) -> DecodeOutcome:
    """Decode in this process; an exception or a malformed output becomes the outcome's status."""
    data, height, width = request
    try:
        image = codecs.get(cls, params).decode(data, height, width)
    except Exception as exc:
        return DecodeOutcome(None, "exception", f"{type(exc).__name__}: {exc}")
    expected = (height, width, 3)
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.shape != expected:
        got = (
            f"{image.dtype} {list(image.shape)}"
            if isinstance(image, np.ndarray)
            else type(image).__name__
        )
        return DecodeOutcome(None, "bad_shape", f"expected uint8 {list(expected)}, got {got}")
    return DecodeOutcome(image, "ok")


def _serve(conn: Connection) -> None:
    """The worker's loop: (codec class, params, (data, H, W)) in, :class:`DecodeOutcome` out."""
    codecs = _CodecCache()
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        cls, params, request = message
        conn.send(_decode_checked(codecs, cls, params, request))


class SafeDecoder:
    """Runs codec decoders on untrusted streams in a persistent, replaceable worker process.

    :param start_timeout_s: how long a new worker may take to start (import time), in seconds.

    Thread-safe (one decode at a time). Call :meth:`close` when done, or use it as a context manager;
    workers are daemonic and are also closed at interpreter exit.

    Example:

    >>> from source_codecs import SafeDecoder
    >>> with SafeDecoder() as decoder:
    ...     outcome = decoder.decode("jpeg", {}, b"garbage", 64, 96, timeout_s=10)
    >>> outcome.status
    'exception'
    """

    def __init__(self, start_timeout_s: float = 300.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.workers_started = 0
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._local = _CodecCache()
        atexit.register(self.close)

    @property
    def worker_pid(self) -> int | None:
        """The current worker's process id (None when no worker runs)."""
        return self._process.pid if self._process is not None else None

    def decode(
        self,
        codec: str | type[SourceCodec],
        params: Mapping[str, Any] | None,
        data: bytes,
        height: int,
        width: int,
        timeout_s: float = 20.0,
    ) -> DecodeOutcome:
        """Decode ``data`` with the codec ``codec`` (a registered name or class) built from ``params``.

        :param data: the stream, possibly corrupted.
        :param height: H, pixels.
        :param width: W, pixels.
        :param timeout_s: the decode's time limit in seconds (worker start-up not included).
        :return: the outcome; never raises for anything the decoder does.
        :raises CodecConfigError: unknown codec name or invalid parameters (checked in this process).
        """
        cls = codec_class(codec) if isinstance(codec, str) else codec
        params = dict(params or {})
        request = (bytes(data), int(height), int(width))
        # Bad parameters raise here, in the caller, not as a failure inside a worker.
        resolve_params(cls.name, cls.parameters, params)
        with self._lock:
            if cls.trusted_decoder:
                return _decode_checked(self._local, cls, params, request)
            return self._decode_in_worker(cls, params, request, timeout_s)

    def _decode_in_worker(
        self, cls: type[SourceCodec], params: dict[str, Any], request: tuple, timeout_s: float
    ) -> DecodeOutcome:
        conn = self._ensure_worker()
        try:
            conn.send((cls, params, request))
        except (BrokenPipeError, ConnectionResetError, EOFError):  # died since the last call
            self._stop(kill=True)
            conn = self._ensure_worker()
            conn.send((cls, params, request))
        if not conn.poll(timeout_s):
            self._stop(kill=True)
            return DecodeOutcome(
                None, "timeout", f"no result within {timeout_s:g} s; worker killed"
            )
        try:
            return conn.recv()
        except (EOFError, ConnectionResetError, OSError):
            exitcode = self._stop(kill=True)
            return DecodeOutcome(None, "crash", f"decoder process died (exit code {exitcode})")

    def _ensure_worker(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop(kill=True)
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(target=_serve, args=(child,), name="safe-decoder", daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self.workers_started += 1
        try:
            ready = parent.poll(self.start_timeout_s) and parent.recv() == "ready"
        except (EOFError, OSError):  # it died starting, e.g. re-running an unguarded __main__
            ready = False
        if not ready:
            self._stop(kill=True)
            raise RuntimeError(
                f"decoder worker did not start within {self.start_timeout_s:g} s (a script that "
                'decodes must guard its top level with `if __name__ == "__main__":`)'
            )
        return parent

    def _stop(self, kill: bool) -> int | None:
        """End the worker (politely unless ``kill``); returns its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is None:
            return None
        if not kill and conn is not None:
            try:
                conn.send(None)
            except OSError:
                pass
            process.join(timeout=5)
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        if conn is not None:
            conn.close()
        exitcode = process.exitcode
        process.close()
        return exitcode

    def close(self) -> None:
        """Stop the worker, if any. The decoder stays usable: the next decode starts a new one."""
        with self._lock:
            self._stop(kill=False)

    def __enter__(self) -> SafeDecoder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_shared: SafeDecoder | None = None
_shared_lock = threading.Lock()


def safe_decode(
    codec_name: str,
    params: Mapping[str, Any] | None,
    data: bytes,
    height: int,
    width: int,
    timeout_s: float = 20.0,
) -> DecodeOutcome:
    """Decode an untrusted stream in the process-wide :class:`SafeDecoder` (created on first use).

    :param codec_name: a registered codec name.
    :param params: the codec's parameters, as given to :func:`make_codec`.
    :param data: the stream, possibly corrupted.
    :param height: H, pixels.
    :param width: W, pixels.
    :param timeout_s: the decode's time limit in seconds.
    :return: a :class:`DecodeOutcome`; ``image`` is uint8 [H, W, 3] when ``status == "ok"``.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SafeDecoder()
    return _shared.decode(codec_name, params, data, height, width, timeout_s)
