"""The scale hyperprior codec behind the :class:`SourceCodec` interface (Balle et al., ICLR 2018).

Two kinds of model, both rate-controlled by bisection over a knob (:class:`KnobCodec`):

- the rate points ``q1`` < ``q2`` < ``q3``, each a model trained at its own lambda (see
  :data:`~source_codecs.hyperprior.zoo.ZOO`): the knob is the rate point;
- the variable-rate model (``rate: variable``): one model with gain units over L lambdas
  (:mod:`.gain`), whose knob k = 0 .. 8 (L - 1) is the rate level k / 8, so that a budget gets the
  largest of 8 (L - 1) + 1 rates (65 for L = 9) that fits. Its weights are
  :data:`~source_codecs.hyperprior.zoo.VARIABLE_MODEL`, or any file the ``weights`` parameter
  names (a training run's ``weights.pt``, before it is shipped).

A stream says which model and knob wrote it (see :mod:`.bitstream`), so that any ``hyperprior``
codec decodes any ``hyperprior`` stream (a variable-rate one with its ``weights``).
"""

from __future__ import annotations

__all__ = ["HyperpriorCodec", "load_weights", "shipped_model", "to_tensor"]

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from source_codecs.base import image_digest, network_batches
from source_codecs.classical.knob_codec import KnobCodec
from source_codecs.errors import CodecConfigError, DecodeError, each_or_none
from source_codecs.hyperprior.bitstream import LEVEL_SUBSTEPS, VARIABLE, Streams, pack, unpack
from source_codecs.hyperprior.model import ScaleHyperprior
from source_codecs.hyperprior.zoo import RATES, shipped_weights
from source_codecs.params import Param
from source_codecs.registry import register_codec

_CODER_ERRORS = (AssertionError, ValueError, RuntimeError, KeyError, IndexError, OverflowError)
"""What constriction raises on data that no encoder could have written."""

Knob = str | int
"""A setting of the codec's knob: a rate point's name, or the variable-rate model's knob k."""


@cache
def load_weights(path: Path, device: str = "cpu") -> ScaleHyperprior:
    """The model of the weights file ``path``, its transforms on ``device``, loaded once per
    process and device."""
    return ScaleHyperprior.load(path).place_transforms(device)


def shipped_model(weights: str, device: str = "cpu") -> ScaleHyperprior:
    """The shipped model ``weights`` (a rate point, ``residual`` or ``variable``), see
    :func:`load_weights`."""
    return load_weights(shipped_weights(weights), device)


@register_codec("hyperprior")
class HyperpriorCodec(KnobCodec):
    """Learned transform coding with a scale hyperprior (Balle et al., ICLR 2018).

    :param rate: ``auto`` (with a budget: the largest rate point whose stream fits; without:
        ``q3``), one rate point ``q1`` (lowest) / ``q2`` / ``q3``, or ``variable``: the
        variable-rate model (with a budget: the largest of its rates that fits; without: ``level``).
    :param level: ``variable`` without a budget: the rate level, 0 (lowest) .. L - 1, on the grid
        of 1/8; -1 (default): the highest.
    :param weights: the variable-rate model's weights file; "" (default): the shipped one.
    :raises CodecConfigError: ``rate: variable`` without a variable-rate weights file, or a
        ``level`` beyond its levels.

    The decoder is trusted: range decoding is linear in the stream's length, and a stream that does
    not decode raises :class:`DecodeError`; any other corrupted stream decodes to some image.

    >>> from source_codecs import make_codec
    >>> codec = make_codec("hyperprior", {"rate": "q1"})
    >>> image = np.full((64, 128, 3), 120, np.uint8)
    >>> codec.decode(codec.encode(image, None), 64, 128).shape
    (64, 128, 3)
    """

    trusted_decoder = True
    parameters = {
        "rate": Param("auto", str, choices=("auto", *RATES, VARIABLE), doc="rate point or model"),
        "level": Param(-1.0, float, -1.0, None, doc="variable: rate level without a budget"),
        "weights": Param("", str, doc="variable: weights file ('' = the shipped one)"),
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._analysis: tuple[Any, torch.Tensor] | None = None
        if self.params.get("rate") == VARIABLE:
            top = self.knob_count() - 1
            level = self.params["level"]
            if level != -1 and not 0 <= level * LEVEL_SUBSTEPS <= top:
                raise CodecConfigError(
                    f"level: expected -1 or 0..{top / LEVEL_SUBSTEPS:g}, got {level!r}"
                )

    def variable_weights(self) -> Path:
        """The variable-rate model's weights file (the ``weights`` parameter or the shipped one)."""
        given = self.params.get("weights", "")
        return Path(given) if given else shipped_weights(VARIABLE)

    def knob_count(self) -> int:
        """Knobs of the variable-rate model: 8 (L - 1) + 1 for L levels.

        :raises CodecConfigError: its weights file is missing or has no rate levels.
        """
        path = self.variable_weights()
        if not path.is_file():
            raise CodecConfigError(
                f"rate 'variable': no weights file {path} (train one with python -m "
                "source_codecs.hyperprior.train --levels 9, see benchmarks/results/hyperprior_rd.md)"
            )
        levels = load_weights(path, self.device).config.levels
        if levels < 2:
            raise CodecConfigError(f"rate 'variable': {path} is not a variable-rate model")
        return LEVEL_SUBSTEPS * (levels - 1) + 1

    def knobs(self, image: np.ndarray) -> Sequence[Knob]:
        """The rate points (``auto``: all three) or the variable-rate model's knobs, smallest
        stream first."""
        rate = self.params["rate"]
        if rate == VARIABLE:
            return range(self.knob_count())
        return RATES if rate == "auto" else (rate,)

    def default_knob(self, image: np.ndarray) -> Knob:
        """``q3`` for ``auto``, the rate point, or the knob of ``level``."""
        rate, level = self.params["rate"], self.params["level"]
        if rate == VARIABLE:
            return self.knob_count() - 1 if level == -1 else round(level * LEVEL_SUBSTEPS)
        return RATES[-1] if rate == "auto" else rate

    def write(self, image: np.ndarray, knob: Knob) -> bytes:
        """The stream of ``image`` (uint8 [H, W, 3]) at a rate point or a variable-rate knob."""
        if isinstance(knob, str):
            model = shipped_model(knob, self.device)
            z, y = model.compress_latent(self._analyse(model, image))
            return pack(Streams(knob, z, y))
        model = load_weights(self.variable_weights(), self.device)
        z, y = model.compress_latent(self._analyse(model, image), level=knob / LEVEL_SUBSTEPS)
        return pack(Streams(VARIABLE, z, y, knob))

    def _analyse(self, model: ScaleHyperprior, image: np.ndarray) -> torch.Tensor:
        """``model.analyse`` of ``image``, kept for the next call with the same model and image
        (a bisection over the variable-rate knob runs the analysis transform once)."""
        key = (id(model), image_digest(image))
        if self._analysis is None or self._analysis[0] != key:
            self._analysis = key, model.analyse(to_tensor(image))
        return self._analysis[1]

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """Image uint8 [height, width, 3]; :class:`DecodeError` if the stream is malformed."""
        weights, y_hat = self._entropy_decode(data, height, width)
        return _to_image(load_weights(weights, self.device).synthesise(y_hat, height, width))[0]

    def decode_batch(
        self, streams: Sequence[bytes], height: int, width: int
    ) -> list[np.ndarray | None]:
        """See :meth:`SourceCodec.decode_batch`: every stream's range decoding (CPU), then the
        synthesis transform over batches of :attr:`network_batch_size` latents of one model."""
        latents = each_or_none(lambda data: self._entropy_decode(data, height, width), streams)
        images: list[np.ndarray | None] = [None] * len(streams)
        keys = [None if item is None else item[0] for item in latents]
        for chunk in network_batches(keys, self.network_batch_size):
            y_hat = torch.cat([latents[i][1] for i in chunk])
            model = load_weights(keys[chunk[0]], self.device)
            for i, image in zip(
                chunk, _to_image(model.synthesise(y_hat, height, width)), strict=True
            ):
                images[i] = image
        return images

    def _parts(self, data: bytes) -> tuple[Path, bytes, bytes, float, float | None]:
        """(weights file, z stream, y stream, quantisation step of y, rate level) of a stream;
        :class:`DecodeError` if its header is malformed or names a model or knob not here."""
        streams = unpack(bytes(data))
        if streams.rate != VARIABLE:
            return shipped_weights(streams.rate), streams.z, streams.y, 1.0, None
        try:
            count = self.knob_count()
        except CodecConfigError as exc:
            raise DecodeError(f"{self.name}: a variable-rate stream, but {exc}") from exc
        if streams.knob >= count:
            raise DecodeError(f"{self.name}: knob {streams.knob} beyond the model's {count}")
        return self.variable_weights(), streams.z, streams.y, 1.0, streams.level

    def _entropy_decode(self, data: bytes, height: int, width: int) -> tuple[Path, torch.Tensor]:
        """(weights file, y_hat float32 [1, M, H', W']) of a stream; :class:`DecodeError` if it
        is malformed."""
        weights, z, y, step, level = self._parts(data)
        model = load_weights(weights, self.device)
        try:
            y_hat = model.entropy_decode(z, y, height, width, step, level)
        except _CODER_ERRORS as exc:
            raise DecodeError(f"{self.name}: stream does not decode ({exc})") from exc
        return weights, y_hat


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """[1, 3, H, W] float32 in [0, 1] of a uint8 [H, W, 3] image."""
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255


def _to_image(x_hat: torch.Tensor) -> np.ndarray:
    """uint8 [B, H, W, 3] of a [B, 3, H, W] batch in [0, 1]."""
    return (x_hat * 255).round().byte().permute(0, 2, 3, 1).numpy()
