"""Decoding untrusted streams without risking the caller: a persistent worker process with a time limit.

A decoder fed a corrupted stream may raise, return garbage, hang or crash the whole process (a
segmentation fault in a C library). :class:`SafeDecoder` runs such decodes in one long-lived worker
process, reuses it for every call, and replaces it after a crash or a hang. Codecs that declare
``trusted_decoder = True`` (pure-Python decoders such as ``original``) are decoded in-process, with the
same checks.

The worker is a fresh interpreter running :func:`serve_pipes`
(:class:`~source_codecs.fresh_process.FreshWorker`: ``python -c`` over two pipes). Unlike
:mod:`multiprocessing`'s ``spawn``, it never imports the parent's ``__main__`` module, so a plain script
without an ``if __name__ == "__main__":`` guard is not run a second time; it is safe when the parent has
imported torch or started threads. It gets the parent's ``sys.path``, so it can import every codec class the
parent can, except one defined in the ``__main__`` script itself (such a class is refused with
:class:`~source_codecs.errors.CodecConfigError`: move it into a module). Each request carries the
codec's :class:`~source_codecs.recipe.CodecRecipe` (its class by reference and its constructor
arguments); the worker builds each recipe's codec once and reuses it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from source_codecs.base import CodecBase, SourceCodec
from source_codecs.errors import CodecConfigError
from source_codecs.fresh_process import FreshWorker, serve
from source_codecs.recipe import CodecRecipe
from source_codecs.registry import codec_class, codec_recipe

__all__ = [
    "DecodeOutcome",
    "DecodeStatus",
    "SafeDecoder",
    "safe_decode",
    "serve_pipes",
    "shared_decoder",
]

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
    """Codec instances by recipe, so that a codec's set-up (e.g. weights) is paid once."""

    def __init__(self) -> None:
        self._codecs: dict[tuple[type, str], SourceCodec] = {}

    def get(self, recipe: CodecRecipe) -> SourceCodec:
        if recipe.key not in self._codecs:
            self._codecs[recipe.key] = recipe.build()
        return self._codecs[recipe.key]


def _decode_checked(codecs: _CodecCache, recipe: CodecRecipe, request: tuple) -> DecodeOutcome:
    """Decode in this process; an exception or a malformed output becomes the outcome's status."""
    data, height, width = request
    try:
        image = codecs.get(recipe).decode(data, height, width)
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


def serve_pipes(read_fd: int, write_fd: int) -> None:
    """The worker's loop (:func:`~source_codecs.fresh_process.serve`) over two inherited pipe ends:
    (codec recipe, (data, H, W)) in, :class:`DecodeOutcome` out; returns when the parent sends None or
    closes its end."""
    codecs = _CodecCache()
    serve(read_fd, write_fd, lambda message: _decode_checked(codecs, *message))


class SafeDecoder:
    """Runs codec decoders on untrusted streams in a persistent, replaceable worker process.

    :param start_timeout_s: how long a new worker may take to start (import time), in seconds.

    Thread-safe (one decode at a time). Call :meth:`close` when done, or use it as a context manager;
    the worker is also closed at interpreter exit, and ends by itself when its parent dies (its pipe
    closes).

    :meth:`decode_with` decodes with a codec you hold (the worker builds the same codec once from its
    :attr:`~source_codecs.base.CodecBase.recipe`); :meth:`decode` names the codec and its parameters.

    Example:

    >>> from source_codecs import SafeDecoder, make_codec
    >>> with SafeDecoder() as decoder:
    ...     outcome = decoder.decode_with(make_codec("jpeg"), b"garbage", 64, 96, timeout_s=10)
    ...     same = decoder.decode("jpeg", {}, b"garbage", 64, 96, timeout_s=10)
    >>> outcome.status, same.status
    ('exception', 'exception')
    """

    def __init__(self, start_timeout_s: float = 300.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.workers_started = 0
        self._worker: FreshWorker | None = None
        self._lock = threading.Lock()
        self._local = _CodecCache()

    @property
    def worker_pid(self) -> int | None:
        """The current worker's process id (None when no worker runs)."""
        return self._worker.pid if self._worker is not None else None

    def decode(
        self,
        codec: str | type[SourceCodec],
        params: Mapping[str, Any] | None,
        data: bytes,
        height: int,
        width: int,
        timeout_s: float = 20.0,
    ) -> DecodeOutcome:
        """Decode ``data`` with the codec ``codec`` (a registered name, a ``"package.module:Class"``
        reference or a class) built from ``params``: :meth:`decode_with` of its recipe.

        :param data: the stream, possibly corrupted; ``height``, ``width``, ``timeout_s`` and the
            outcome: as :meth:`decode_with`.
        :raises CodecConfigError: unknown codec name or invalid parameters (checked in this process),
            or as :meth:`decode_with`.
        """
        cls = codec_class(codec) if isinstance(codec, str) else codec
        # Bad parameters raise here, in the caller, not as a failure inside a worker.
        return self.decode_with(codec_recipe(cls, params), data, height, width, timeout_s)

    def decode_with(
        self,
        codec: CodecBase | CodecRecipe,
        data: bytes,
        height: int,
        width: int,
        timeout_s: float = 20.0,
    ) -> DecodeOutcome:
        """Decode ``data`` with a codec like ``codec`` (a codec, or its recipe): in this process for a
        trusted decoder, else in the worker; either way from a codec built once from the recipe.

        :param data: the stream, possibly corrupted.
        :param height: H, pixels.
        :param width: W, pixels.
        :param timeout_s: the decode's time limit in seconds (worker start-up not included).
        :return: the outcome; never raises for anything the decoder does.
        :raises CodecConfigError: an untrusted codec class defined in ``__main__`` (the worker cannot
            import it).
        """
        recipe = codec.recipe if isinstance(codec, CodecBase) else codec
        cls = recipe.codec_class
        request = (bytes(data), int(height), int(width))
        with self._lock:
            if getattr(cls, "trusted_decoder", False):
                return _decode_checked(self._local, recipe, request)
            if cls.__module__ == "__main__":
                raise CodecConfigError(
                    f"codec class {cls.__qualname__} is defined in the script being run "
                    "(__main__); the isolated decoder imports codec classes by module: move it "
                    "into a module of its own"
                )
            return self._decode_in_worker(recipe, request, timeout_s)

    def _decode_in_worker(
        self, recipe: CodecRecipe, request: tuple, timeout_s: float
    ) -> DecodeOutcome:
        worker = self._ensure_worker()
        try:
            worker.send((recipe, request))
        except (BrokenPipeError, ConnectionResetError, EOFError):  # died since the last call
            self._stop(kill=True)
            worker = self._ensure_worker()
            worker.send((recipe, request))
        if not worker.poll(timeout_s):
            self._stop(kill=True)
            return DecodeOutcome(
                None, "timeout", f"no result within {timeout_s:g} s; worker killed"
            )
        try:
            return worker.recv()
        except (EOFError, ConnectionResetError, OSError):
            exitcode = self._stop(kill=True)
            return DecodeOutcome(None, "crash", f"decoder process died (exit code {exitcode})")

    def _ensure_worker(self) -> FreshWorker:
        """A running worker, started if needed.

        :raises ~source_codecs.fresh_process.WorkerError: a new worker did not start (a
            ``RuntimeError``).
        """
        if self._worker is not None and self._worker.alive():
            return self._worker
        self._stop(kill=True)
        worker = FreshWorker("source_codecs.isolation:serve_pipes")
        self.workers_started += 1
        worker.wait_ready(self.start_timeout_s, "decoder worker")  # stops it when it fails
        self._worker = worker
        return worker

    def _stop(self, kill: bool) -> int | None:
        """End the worker (politely unless ``kill``); returns its exit code (negative: the signal
        that ended it, e.g. -11 for a segmentation fault)."""
        worker, self._worker = self._worker, None
        return worker.stop(kill) if worker is not None else None

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


def shared_decoder() -> SafeDecoder:
    """The process-wide :class:`SafeDecoder` (created on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SafeDecoder()
    return _shared


def safe_decode(
    codec: str | type[SourceCodec],
    params: Mapping[str, Any] | None,
    data: bytes,
    height: int,
    width: int,
    timeout_s: float = 20.0,
) -> DecodeOutcome:
    """Decode an untrusted stream in the :func:`shared_decoder` (:meth:`SafeDecoder.decode`).

    :param codec: a registered codec name, a ``"package.module:ClassName"`` reference or a codec class.
    :param params: the codec's parameters, as given to :func:`make_codec`.
    :param data: the stream, possibly corrupted.
    :param height: H, pixels.
    :param width: W, pixels.
    :param timeout_s: the decode's time limit in seconds.
    :return: a :class:`DecodeOutcome`; ``image`` is uint8 [H, W, 3] when ``status == "ok"``.
    """
    return shared_decoder().decode(codec, params, data, height, width, timeout_s)
