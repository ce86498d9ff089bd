"""The deep JSCC codec behind the :class:`AnalogCodec` interface (Bourtsoulatze et al. 2019, made
SNR-adaptive as in ADJSCC, Xu et al. 2021).

One shipped model serves every bandwidth ratio up to 1/24 (K up to H * W / 8 symbols): the encoder
sends the first K symbols of its channel-major latent, the decoder fills the rest with zeros.
"""

from __future__ import annotations

__all__ = ["DeepJSCCCodec"]

from functools import cache
from pathlib import Path

import numpy as np
import torch

from source_codecs.analog import AnalogCodec
from source_codecs.base import check_image
from source_codecs.deepjscc.model import DeepJSCC, shipped_weights
from source_codecs.params import Param
from source_codecs.registry import register_codec


@cache
def _model(weights: str | None, device: str = "cpu") -> DeepJSCC:
    """The model of the weights file ``weights`` (None: the shipped one) on ``device``, loaded once
    per process, file and device."""
    return DeepJSCC.load(Path(weights) if weights else shipped_weights(), device)


def _snr(snr_db: float, batch: int, device: str) -> torch.Tensor:
    """float32 [batch] filled with ``snr_db``."""
    return torch.full((batch,), float(snr_db), dtype=torch.float32, device=device)


@register_codec("deepjscc")
class DeepJSCCCodec(AnalogCodec):
    """SNR-adaptive deep JSCC: convolutional encoder to complex symbols, decoder back to pixels.

    ``weights``: the path of a weights file written by :meth:`DeepJSCC.export`, e.g. a candidate
    from ``python -m source_codecs.deepjscc.train`` (default: the shipped ``weights/deepjscc.pt``).
    Trained on AWGN and Rayleigh fast fading at -5..20 dB and rho 1/96, 1/48, 1/24; other K up to
    the capacity work (truncation of the channel-major latent) but were not trained.

    >>> import numpy as np
    >>> codec = DeepJSCCCodec()
    >>> images = np.zeros((2, 64, 128, 3), np.uint8)
    >>> x = codec.encode_symbols(images, 512, snr_db=10.0)        # complex64 [2, 512]
    >>> codec.decode_symbols(x, torch.full((2, 512), 0.1), 10.0, 64, 128).shape
    (2, 64, 128, 3)
    """

    parameters = {
        "weights": Param(None, str, doc="path of a weights file (default: the shipped one)")
    }

    @property
    def model(self) -> DeepJSCC:
        """The network of :attr:`params` ``["weights"]`` on :attr:`device` (loaded on first use)."""
        return _model(self.params["weights"], self.device)

    @torch.no_grad()
    def encode_symbols(self, images: np.ndarray, num_symbols: int, snr_db: float) -> torch.Tensor:
        if not isinstance(images, np.ndarray) or images.ndim != 4 or len(images) == 0:
            raise ValueError("expected a uint8 numpy batch of shape [B, H, W, 3]")
        check_image(images[0])
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
        x = x.permute(0, 3, 1, 2).float() / 255
        symbols = self.model.encode(x, int(num_symbols), _snr(snr_db, len(images), self.device))
        return symbols.to(torch.complex64).cpu()

    @torch.no_grad()
    def decode_symbols(
        self,
        symbols: torch.Tensor,
        noise_var: torch.Tensor,
        snr_db: float,
        height: int,
        width: int,
    ) -> np.ndarray:
        if symbols.ndim != 2 or noise_var.shape != symbols.shape:
            raise ValueError(
                f"expected symbols and noise_var of one shape [B, K], got "
                f"{list(symbols.shape)} and {list(noise_var.shape)}"
            )
        y = symbols.detach().to(self.device, torch.complex64)
        nv = noise_var.detach().to(self.device, torch.float32)
        image = self.model.decode(y, nv, _snr(snr_db, len(y), self.device), height, width)
        pixels = (image * 255).round().clamp(0, 255).to(torch.uint8)
        return pixels.permute(0, 2, 3, 1).cpu().numpy()
