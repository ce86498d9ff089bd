"""A gallery of held-out scenes: the semantic GAN at every rate point beside classical codecs at its bytes.

    python benchmarks/semantic_gan_gallery.py [--num-images 6] [--match mid] [--codecs vvc bpg jpeg2000]

Each row is one held-out synthetic test scene (256x512, seed 0): the original, ``semantic_gan`` at
each rate point (base layer, error-free; a rate point with weights for a finer map also with that
map), then each classical codec rate-controlled to the bytes the
semantic GAN spent on that image at the ``--match`` rate point. Every tile is labelled with the
bpp it cost (every byte counted); a codec that cannot fit the budget shows the mean-colour fallback
the link would show, labelled "does not fit". Writes ``benchmarks/results/semantic_gan_gallery.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from error_free import load_scenes
from PIL import Image, ImageDraw, ImageFont

from source_codecs import BudgetTooSmall, make_codec
from source_codecs.semantic_gan.model import SemanticGAN
from source_codecs.semantic_gan.zoo import RATES, ZOO

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "semantic_gan_gallery.png"
HEADER = 28
"""Pixels of the column-title band."""


def tile(image: np.ndarray, caption: str, font: ImageFont.ImageFont) -> Image.Image:
    """``image`` uint8 [H, W, 3] with ``caption`` on a dark band in its lower-left corner."""
    out = Image.fromarray(image)
    draw = ImageDraw.Draw(out)
    box = draw.textbbox((6, 0), caption, font=font)
    height = box[3] - box[1]
    top = out.height - height - 10
    draw.rectangle((0, top, box[2] + 6, out.height), fill=(0, 0, 0))
    draw.text((6, top + 4 - box[1]), caption, fill=(255, 255, 255), font=font)
    return out


def bpp(stream: bytes, image: np.ndarray) -> float:
    """Bits per pixel of ``stream`` for ``image`` [H, W, 3]."""
    return 8 * len(stream) / (image.shape[0] * image.shape[1])


def variants() -> list[tuple[str, int, bool]]:
    """The semantic GAN's columns: (rate point, map factor, whether it is the rate point's own map),
    each rate point at its own map, then at the finer maps it has weights for (the zoo's
    ``map_weights``)."""
    columns = []
    for point in ZOO:
        own = SemanticGAN.load(point.weights).config.map_factor
        finer = sorted((f for f in point.map_weights if f < own), reverse=True)
        columns += [(point.name, own, True), *((point.name, f, False) for f in finer)]
    return columns


def variant_title(rate: str, factor: int) -> str:
    """The column title of a :func:`variants` entry."""
    return f"semantic GAN {rate}, map 1/{factor}"


def row(
    sample_image: np.ndarray,
    labels: np.ndarray,
    codecs: list[str],
    match: str,
    fallback: np.ndarray,
    font: ImageFont.ImageFont,
) -> list[Image.Image]:
    """The tiles of one scene: original, the semantic GAN's :func:`variants`, then ``codecs``."""
    height, width = sample_image.shape[:2]
    tiles = [tile(sample_image, "original", font)]
    matched = 0
    for rate, factor, own in variants():
        codec = make_codec("semantic_gan", {"rate": rate, "map_scale": 1 / factor})
        stream = codec.encode(sample_image, None, labels=labels)
        matched = len(stream) if own and rate == match else matched
        image = codec.decode(stream, height, width)
        tiles.append(tile(image, f"{bpp(stream, sample_image):.4f} bpp", font))
    for name in codecs:
        codec = make_codec(name, {})
        try:
            stream = codec.encode(sample_image, matched, labels=labels)
        except BudgetTooSmall:
            tiles.append(tile(fallback, f"does not fit in {8 * matched} bits", font))
            continue
        image = codec.decode(stream, height, width)
        tiles.append(tile(image, f"{bpp(stream, sample_image):.4f} bpp", font))
    return tiles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-images", type=int, default=6)
    parser.add_argument("--match", choices=RATES, default="mid")
    parser.add_argument("--codecs", nargs="+", default=["vvc", "bpg", "jpeg2000"])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    samples, fallback = load_scenes(args.num_images)
    font = ImageFont.load_default(size=16)
    titles = ["original", *(variant_title(r, f) for r, f, _ in variants())]
    titles += [f"{c} at GAN-{args.match} bytes" for c in args.codecs]
    rows = [row(s.image, s.labels, args.codecs, args.match, fallback, font) for s in samples]
    width, height = rows[0][0].size
    sheet = Image.new("RGB", (width * len(titles), HEADER + height * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for j, title in enumerate(titles):
        draw.text((j * width + 6, 5), title, fill=(0, 0, 0), font=font)
    for i, tiles in enumerate(rows):
        for j, t in enumerate(tiles):
            sheet.paste(t, (j * width, HEADER + i * height))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out} ({len(rows)} scenes x {len(titles)} columns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
