"""The semantic GAN codec with its shipped weights: bytes, quality and speed per rate point.

``python benchmarks/semantic_gan_codec.py --num-images 8`` codes synthetic 256x512 test scenes at
each rate point and prints a Markdown table: mean stream bytes (and the map's share), bpp, PSNR,
ST-LPIPS, median encode and decode times (one intra-op thread), and the PSNR when the second latent
packet is lost (its band regenerated from the map alone).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from simulator.data import make_source
from simulator.metrics.lpips import load_lpips
from source_codecs import make_codec
from source_codecs.semantic_gan.bitstream import unpack


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def _lpips(a: np.ndarray, b: np.ndarray) -> float:
    def to_tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255

    with torch.no_grad():
        return float(load_lpips()(to_tensor(a), to_tensor(b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-images", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    h, w = 256, 512
    source = make_source(
        "synthetic", root=None, num_images=args.num_images, height=h, width=w, seed=0, split="test"
    )
    print(
        "| rate | bytes | map bytes | bpp | PSNR dB | ST-LPIPS | encode s | decode s | PSNR, 1 latent packet lost |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for rate in ("low", "mid", "high"):
        codec = make_codec("semantic_gan", {"rate": rate})
        rows: dict[str, list[float]] = {
            k: [] for k in ("n", "map", "psnr", "lpips", "enc", "dec", "lost")
        }
        for i in range(len(source)):
            sample = source[i]
            tick = time.perf_counter()
            data = codec.encode(sample.image, None, labels=sample.labels)
            rows["enc"].append(time.perf_counter() - tick)
            tick = time.perf_counter()
            out = codec.decode(data, h, w)
            rows["dec"].append(time.perf_counter() - tick)
            spans = unpack(data, h // 16).spans
            erased = np.zeros(len(data), bool)
            erased[spans[3][0] : spans[3][1]] = True
            lost = codec.decode_with_erasures(data, h, w, erased)
            rows["n"].append(len(data))
            rows["map"].append(spans[1][1] - spans[1][0])
            rows["psnr"].append(_psnr(sample.image, out))
            rows["lpips"].append(_lpips(sample.image, out))
            rows["lost"].append(_psnr(sample.image, lost))
        n = np.mean(rows["n"])
        print(
            f"| {rate} | {n:.0f} | {np.mean(rows['map']):.0f} | {8 * n / (h * w):.4f} "
            f"| {np.mean(rows['psnr']):.2f} | {np.mean(rows['lpips']):.3f} "
            f"| {statistics.median(rows['enc']):.2f} | {statistics.median(rows['dec']):.2f} "
            f"| {np.mean(rows['lost']):.2f} |"
        )


if __name__ == "__main__":
    main()
