"""Training data of the enhancement layer's learned residual coder: the residual images of a base layer.

``python -m source_codecs.semantic_gan.residuals --data DIR --out OUT --rate low`` reads the image /
label-map pairs of ``DIR`` (as written by ``python -m simulator.data.export``), codes each image's base
layer at the rate point ``--rate``, and writes the residual between the image and the base reconstruction
as an 8-bit image (:func:`~source_codecs.semantic_gan.enhancement.residual_image`) to ``OUT/<stem>.png``,
its label map to ``OUT/labels/<stem>.png`` (so the folder is a training folder like ``DIR``). Train the
residual coder on it with ``python -m source_codecs.hyperprior.train --data OUT ...``.
"""

from __future__ import annotations

__all__ = ["export_residuals", "main"]

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from source_codecs.registry import make_codec
from source_codecs.semantic_gan.enhancement import residual_image
from source_codecs.semantic_gan.zoo import RATES


def export_residuals(data: Path, out: Path, rate: str, limit: int | None = None) -> int:
    """Write the residual images of the pairs in ``data`` to ``out``; return how many.

    :param rate: the base layer's rate point (``low``, ``mid``, ``high``).
    :param limit: at most this many pairs (sorted by name); None = all.
    """
    codec = make_codec("semantic_gan", {"rate": rate})
    (out / "labels").mkdir(parents=True, exist_ok=True)
    paths = sorted(data.glob("*.png"))[:limit]
    for path in paths:
        image = np.asarray(Image.open(path).convert("RGB"))
        labels = np.asarray(Image.open(data / "labels" / path.name))
        height, width = labels.shape
        base = codec.decode(codec.encode_base(image, None, labels=labels), height, width)
        Image.fromarray(residual_image(image, base)).save(out / path.name)
        shutil.copyfile(data / "labels" / path.name, out / "labels" / path.name)
    return len(paths)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m source_codecs.semantic_gan.residuals", description=__doc__
    )
    parser.add_argument("--data", type=Path, required=True, help="folder of image / label pairs")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rate", default="low", choices=RATES)
    parser.add_argument("--limit", type=int, default=None, help="at most this many pairs")
    args = parser.parse_args(argv)
    print(f"wrote {export_residuals(args.data, args.out, args.rate, args.limit)} residual images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
