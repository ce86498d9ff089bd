"""The interface every source codec implements: an image in, a countable byte stream out, and back."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from source_codecs.errors import each_or_none
from source_codecs.params import Param, resolve_params
from source_codecs.recipe import CodecRecipe

__all__ = [
    "GPU_BATCH",
    "SEMANTIC_MAP_SOURCES",
    "CodecBase",
    "SourceCodec",
    "check_image",
    "image_digest",
    "network_batches",
]


GPU_BATCH = 16
"""Images per forward pass of a network on a GPU (a codec's, and the simulator's metric networks)."""
SEMANTIC_MAP_SOURCES = ("labels", "segmenter")
"""Where the semantic map a semantic codec's encoder codes comes from (:meth:`CodecBase.semantic_map`):
the data source's label maps, or a segmenter's prediction of the image at the transmitter."""


class CodecBase:
    r"""What every codec shares: a registered name, validated parameters and how the link carries it.

    :param \*\*params: the codec's parameters (see :attr:`parameters`); unknown names or values that are
        not allowed raise :class:`CodecConfigError` with one readable line.

    Class attributes:

    - ``name``: the registered name (set by :func:`source_codecs.register_codec`).
    - ``kind``: ``"digital"`` (bytes sent over the physical layer: :class:`SourceCodec`), ``"reference"``
      (delivered without error, e.g. ``original``) or ``"analog"`` (channel symbols straight from the
      image: :class:`source_codecs.AnalogCodec`, joint source-channel coding).
    - ``needs_labels``: True if the encoder needs a semantic map (``labels=``; semantic codecs);
      :meth:`semantic_map` says where it comes from.

    ``device`` (a torch device name, ``"cpu"`` unless :meth:`to` says otherwise) is where a learned
    codec runs its networks; inputs and outputs stay NumPy / CPU tensors, and entropy coding stays on
    the CPU. Codecs without networks ignore it.

    :attr:`recipe` (a :class:`~source_codecs.recipe.CodecRecipe`) is how to build the same codec again
    in another process: its class and the arguments given to its constructor, recorded whatever the
    subclass's own ``__init__`` takes.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "digital"
    needs_labels: ClassVar[bool] = False
    parameters: ClassVar[Mapping[str, Param]] = {}

    def __new__(cls, *args: Any, **params: Any) -> Self:
        codec = super().__new__(cls)
        codec._recipe = CodecRecipe.of(cls, *args, **params)
        return codec

    def __init__(self, **params: Any) -> None:
        label = self.name or type(self).__qualname__  # a plug-in used by reference has no name
        self.params: dict[str, Any] = resolve_params(label, self.parameters, params)
        self.device = "cpu"

    @property
    def recipe(self) -> CodecRecipe:
        """The class and constructor arguments this codec was built from (picklable)."""
        return self._recipe

    def to(self, device: str) -> CodecBase:
        """Run this codec's networks on ``device`` (e.g. ``"cuda:0"``); returns the codec."""
        self.device = str(device)
        return self

    @property
    def network_batch_size(self) -> int:
        """Images per pass of a codec's network: 1 on the CPU (batches at 256x512 measured slower
        there: 8 images in one pass of the semantic GAN's generator took 1.7x the time of 8 passes
        of one), :data:`GPU_BATCH` on a GPU. Batching changes an image by float rounding only, and a point's
        batches are fixed by the order of its images."""
        return 1 if self.device == "cpu" else GPU_BATCH

    def semantic_map(self, source_has_labels: bool) -> str | None:
        """Where the map given to the encoder as ``labels`` comes from, on a data source with
        (``source_has_labels``) or without label maps: ``"labels"`` (the source's own; a source
        without them cannot feed this codec), ``"segmenter"`` (the transmitter's segmenter predicts
        it from the image: whoever drives the codec computes it and passes it as ``labels``), or
        None (no map: :attr:`needs_labels` is False). Default: ``"labels"`` where
        :attr:`needs_labels`, else None; a codec with a choice overrides this."""
        return "labels" if self.needs_labels else None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


class SourceCodec(CodecBase, ABC):
    r"""An image codec whose bitstream is a value the link can count, carry and corrupt.

    Subclasses declare their parameters in :attr:`parameters` and register with
    :func:`source_codecs.register_codec`; construction validates the parameters from YAML. Besides
    those of :class:`CodecBase`, class attributes:

    - ``trusted_decoder``: True if :meth:`decode` can neither hang nor crash the process whatever the
      input, so :func:`source_codecs.safe_decode` may run it in-process.
    - ``concurrent_encodes``: True if :meth:`encode` may run for several images at once on threads
      and gains from it (a C encoder that releases the GIL, on one thread of its own), so the
      simulator encodes the images of a point side by side; a stream must not depend on what runs
      beside it.

    Example:

    >>> from skimage.data import astronaut
    >>> from source_codecs import make_codec
    >>> codec = make_codec("jpeg")
    >>> image = astronaut()[:64, :96]                 # uint8 [64, 96, 3]
    >>> stream = codec.encode(image, max_bytes=600)   # len(stream) <= 600
    >>> codec.decode(stream, 64, 96).shape
    (64, 96, 3)
    """

    trusted_decoder: ClassVar[bool] = False
    concurrent_encodes: ClassVar[bool] = False

    @abstractmethod
    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """Compress ``image`` into a stream of at most ``max_bytes`` bytes.

        Every byte the decoder needs (headers included) is in the stream.

        :param image: uint8 [H, W, 3], RGB.
        :param max_bytes: the byte budget; None = the codec's own default quality.
        :param labels: uint8 [H, W] semantic map (trainIds, 255 = ignore) for semantic codecs; ignored
            by classical codecs.
        :return: the stream, ``len(stream) <= max_bytes``.
        :raises BudgetTooSmall: the codec cannot go as low as ``max_bytes`` for this image.
        """

    @abstractmethod
    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Reconstruct the image from a stream.

        :param data: the stream, possibly corrupted by the channel.
        :param height: H, pixels.
        :param width: W, pixels.
        :return: uint8 [H, W, 3], RGB.
        :raises DecodeError: the stream does not decode to an image of that size. Third-party decoders
            fed corrupted data may also hang or crash: see :func:`source_codecs.safe_decode`.
        """

    def decode_batch(
        self, streams: Sequence[bytes], height: int, width: int
    ) -> list[np.ndarray | None]:
        """:meth:`decode` of several streams of images of one size (a codec with a network may run
        it on batches of :attr:`network_batch_size` images).

        :return: uint8 [height, width, 3] per stream, None where :meth:`decode` raises
            :class:`DecodeError`.
        """
        return each_or_none(lambda data: self.decode(data, height, width), streams)


def check_image(image: np.ndarray) -> tuple[int, int]:
    """(H, W) of an encoder input; ``ValueError`` unless it is a uint8 [H, W, 3] array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 numpy image, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"expected an image of shape [H, W, 3], got {list(image.shape)}")
    return image.shape[0], image.shape[1]


def image_digest(image: np.ndarray) -> bytes:
    """SHA-1 of an array's shape, dtype and contents (20 bytes): a cache key that two different
    images never share in practice, computed in about 1 ms for uint8 [256, 512, 3]."""
    digest = hashlib.sha1(f"{image.shape}{image.dtype}".encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.digest()


def network_batches(keys: Sequence[Hashable | None], size: int) -> Iterator[list[int]]:
    """Positions of ``keys`` in batches for a network: the same key together (e.g. one rate
    point's model), keys in order of first appearance, at most ``size`` positions a batch, None
    keys (nothing to run) left out.

    >>> list(network_batches(["a", "b", None, "a", "a"], 2))
    [[0, 3], [4], [1]]
    """
    todo = [i for i, key in enumerate(keys) if key is not None]
    for key in dict.fromkeys(keys[i] for i in todo):
        same = [i for i in todo if keys[i] == key]
        for start in range(0, len(same), size):
            yield same[start : start + size]
