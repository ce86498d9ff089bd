"""Write a data source to a folder of PNG pairs, the training input of the learned codecs.

``python -m simulator.data.export --source synthetic --split train --num-images 200 --height 256
--width 512 --out data/synthetic_train`` writes ``OUT/<image_id>.png`` (RGB) and
``OUT/labels/<image_id>.png`` (uint8 trainIds, 255 = ignore). Codec packages train from such a
folder and so never import the simulator.
"""

from __future__ import annotations

__all__ = ["export_source", "main"]

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from simulator.data.base import DataConfigError, DataSource
from simulator.data.factory import SOURCES, SPLITS, make_source


def _file_stem(image_id: str) -> str:
    """A file name from an image id (path separators and odd characters become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", image_id).strip("._") or "image"


def export_source(source: DataSource, out: Path) -> int:
    """Write every labelled sample of ``source`` under ``out``; return the number written.

    :raises DataConfigError: the source has no labels.
    """
    (out / "labels").mkdir(parents=True, exist_ok=True)
    for i in range(len(source)):
        sample = source[i]
        if sample.labels is None:
            raise DataConfigError(f"image '{sample.image_id}' has no labels; cannot export pairs")
        stem = _file_stem(sample.image_id)
        Image.fromarray(sample.image).save(out / f"{stem}.png")
        Image.fromarray(sample.labels).save(out / "labels" / f"{stem}.png")
    return len(source)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 on a configuration error)."""
    parser = argparse.ArgumentParser(prog="python -m simulator.data.export", description=__doc__)
    parser.add_argument("--source", default="synthetic", choices=sorted(SOURCES))
    parser.add_argument("--root", default=None, help="folder of 'folder' and 'cityscapes'")
    parser.add_argument("--split", default="train", choices=SPLITS)
    parser.add_argument("--num-images", type=int, default=100)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        source = make_source(
            args.source,
            root=args.root,
            num_images=args.num_images,
            height=args.height,
            width=args.width,
            seed=args.seed,
            split=args.split,
        )
        written = export_source(source, args.out)
    except DataConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {written} image/label pairs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
