"""Semantic-map coding for the semantic GAN codec: bytes, speed and mIoU at reduced resolutions.

``python benchmarks/semantic_gan_maps.py --num-images 50`` codes the label maps of synthetic
256x512 test scenes at every resolution the bitstream allows (full to 1/32) (nearest neighbour) with the codec's
context-adaptive coder, PNG (Pillow, optimize) and lossless WebP (Pillow, method 6), and reports
the mean bytes, the median encode/decode times and the dataset mIoU of the map the receiver
rebuilds (the coded map repeated back to full size) against the original. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
import torch
from PIL import Image

from simulator.data import make_source
from simulator.metrics.miou import ConfusionMatrix
from source_codecs.semantic_gan.bitstream import MAP_FACTORS
from source_codecs.semantic_gan.label_coding import decode_labels, encode_labels
from source_codecs.semantic_gan.semantic_map import downscale_map, upscale_map


def _pillow_bytes(labels: np.ndarray, fmt: str, **options: object) -> int:
    buffer = io.BytesIO()
    Image.fromarray(labels).save(buffer, fmt, **options)
    return len(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-images", type=int, default=50)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    args = parser.parse_args()
    torch.set_num_threads(1)
    source = make_source(
        "synthetic",
        root=None,
        num_images=args.num_images,
        height=args.height,
        width=args.width,
        seed=0,
        split="test",
    )
    maps = [source[i].labels for i in range(len(source))]
    print(
        "| map resolution | ours (bytes) | PNG | WebP lossless | ours bpp | encode s | decode s | mIoU |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for factor in MAP_FACTORS:
        ours, png, webp, t_enc, t_dec = [], [], [], [], []
        cm = ConfusionMatrix()
        for labels in maps:
            small = downscale_map(labels, factor)
            tick = time.perf_counter()
            data = encode_labels(small)
            t_enc.append(time.perf_counter() - tick)
            tick = time.perf_counter()
            back = decode_labels(data, *small.shape)
            t_dec.append(time.perf_counter() - tick)
            assert np.array_equal(back, small)
            ours.append(len(data))
            png.append(_pillow_bytes(small, "PNG", optimize=True))
            webp.append(_pillow_bytes(small, "WEBP", lossless=True, quality=100, method=6))
            seen = upscale_map(back, factor, *labels.shape).astype(np.int64)
            seen[seen == 255] = 0  # an ignore label delivered where a class was is an error
            cm.update(torch.from_numpy(seen)[None], torch.from_numpy(labels)[None])
        pixels = args.height * args.width
        print(
            f"| 1/{factor} | {np.mean(ours):.0f} | {np.mean(png):.0f} | {np.mean(webp):.0f} "
            f"| {8 * np.mean(ours) / pixels:.4f} | {statistics.median(t_enc):.3f} "
            f"| {statistics.median(t_dec):.3f} | {cm.miou():.4f} |"
        )


if __name__ == "__main__":
    main()
