"""Sample planes in and out of PyAV (FFmpeg) video frames, and decoding one picture from a stream."""

from __future__ import annotations

import av
import numpy as np

__all__ = ["decode_picture", "frame_planes", "planes_to_frame"]


def planes_to_frame(planes: list[np.ndarray], pixel_format: str) -> av.VideoFrame:
    """A PyAV frame holding Y, Cb, Cr sample planes.

    :param planes: [Y [H, W], Cb, Cr], uint8 (8-bit formats) or uint16 (e.g. ``yuv420p10le``), each
        the size the format gives its plane.
    :param pixel_format: an FFmpeg planar YCbCr format, e.g. ``"yuv420p"``, ``"yuv444p"``.
    """
    height, width = planes[0].shape
    frame = av.VideoFrame(width, height, pixel_format)
    for samples, plane in zip(planes, frame.planes, strict=True):
        stride = plane.line_size // samples.itemsize
        rows = np.zeros((plane.height, stride), dtype=samples.dtype.newbyteorder("<"))
        rows[:, : plane.width] = samples
        plane.update(rows.tobytes())
    return frame


def frame_planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """The sample planes of a planar YCbCr frame: [Y [H, W], Cb, Cr], uint8 or uint16."""
    depth = 2 if frame.format.components[0].bits > 8 else 1
    dtype = np.dtype("<u2") if depth == 2 else np.dtype(np.uint8)
    return [
        np.frombuffer(plane, dtype=dtype).reshape(plane.height, plane.line_size // depth)[
            :, : plane.width
        ]
        for plane in frame.planes
    ]


def decode_picture(decoder: str, stream: bytes) -> av.VideoFrame:
    """The first picture FFmpeg's ``decoder`` (e.g. ``"hevc"``, ``"vvc"``) gets from an Annex B stream.

    Single-threaded, so that a corrupted stream cannot leave decoder threads behind.

    :raises av.FFmpegError: the decoder rejects the stream.
    :raises ValueError: the stream holds no picture.
    """
    context = av.CodecContext.create(decoder, "r")
    context.thread_count = 1
    frames = list(context.decode(av.Packet(stream))) + list(context.decode(None))
    if not frames:
        raise ValueError(f"{decoder}: the stream holds no picture")
    return frames[0]
