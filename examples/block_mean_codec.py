"""A complete custom source codec: block means at a few bits per colour, zlib-compressed.

The encoder averages s x s pixel blocks, keeps ``bits`` bits of each colour sample and deflates the
result; the receiver repeats each block's colour. Rate control is the codec's own: the smallest block
size s (the best quality) whose stream fits the link's byte budget. Use it from YAML as
``codecs: [{name: "examples.block_mean_codec:BlockMean", params: {bits: 4}}]``.
"""

from __future__ import annotations

import zlib

import numpy as np

from source_codecs import BudgetTooSmall, DecodeError, Param, SourceCodec, check_image

SCALES = (1, 2, 4, 8, 16, 32, 64)  # block sizes tried, best quality first


class BlockMean(SourceCodec):
    """Block means, ``bits`` bits per colour sample, deflated (a 1-byte header holds the block size).

    :param bits: bits kept per colour sample, 1..8 (default 5).
    """

    parameters = {"bits": Param(5, int, low=1, high=8, doc="bits kept per colour sample")}

    def encode(
        self, image: np.ndarray, max_bytes: int | None, *, labels: np.ndarray | None = None
    ) -> bytes:
        """The stream of ``image`` (uint8 [H, W, 3]) in at most ``max_bytes`` bytes (None: s = 1)."""
        check_image(image)
        for scale in SCALES:
            stream = self._encode_at(image, scale)
            if max_bytes is None or len(stream) <= max_bytes:
                return stream
        raise BudgetTooSmall(type(self).__name__, max_bytes, len(stream))

    def _encode_at(self, image: np.ndarray, scale: int) -> bytes:
        height, width = image.shape[:2]
        rows, cols = -(-height // scale), -(-width // scale)  # ceil: edge blocks are padded
        padded = np.pad(
            image, ((0, rows * scale - height), (0, cols * scale - width), (0, 0)), "edge"
        )
        means = padded.reshape(rows, scale, cols, scale, 3).mean(axis=(1, 3))
        levels = np.round(means / 255 * (2 ** self.params["bits"] - 1)).astype(np.uint8)
        return bytes([scale]) + zlib.compress(levels.tobytes(), 9)

    def decode(self, data: bytes, height: int, width: int) -> np.ndarray:
        """uint8 [height, width, 3]; :class:`DecodeError` if ``data`` is not a stream of that size."""
        if not data or data[0] not in SCALES:
            raise DecodeError("block_mean: bad header")
        scale = data[0]
        rows, cols = -(-height // scale), -(-width // scale)
        try:
            levels = np.frombuffer(zlib.decompress(data[1:]), dtype=np.uint8)
        except zlib.error as exc:
            raise DecodeError(f"block_mean: {exc}") from None
        if levels.size != rows * cols * 3:
            raise DecodeError(f"block_mean: {levels.size} samples for {rows}x{cols} blocks")
        colours = np.round(levels.astype(np.float64) * 255 / (2 ** self.params["bits"] - 1))
        blocks = colours.astype(np.uint8).reshape(rows, cols, 3)
        return np.repeat(np.repeat(blocks, scale, axis=0), scale, axis=1)[:height, :width].copy()
