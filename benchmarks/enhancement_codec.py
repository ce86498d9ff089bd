"""Which codec should code the semantic GAN's enhancement layer (the residual)?

    python benchmarks/enhancement_codec.py [--num-images 16] [--totals 0.1 0.2 0.4] [--codecs ...]

``semantic_gan`` (base rate ``low``, ``enhancement: auto``) at each total rate with the residual coded
by each codec of ``--codecs`` (default: every one in
:data:`source_codecs.semantic_gan.enhancement.RESIDUAL_CODECS`), error-free, on
synthetic test scenes (256x512, seed 0). Writes ``benchmarks/results/enhancement_codec.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
from error_free import (
    bench_parser,
    evaluate,
    load_scenes,
    make_scorer,
    markdown_table,
    write_report,
)

from source_codecs import make_codec
from source_codecs.semantic_gan.enhancement import RESIDUAL_CODECS

REPORT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "enhancement_codec.md"


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, REPORT, num_images=16)
    parser.add_argument("--totals", nargs="+", type=float, default=[0.1, 0.2, 0.4])
    parser.add_argument("--codecs", nargs="+", choices=RESIDUAL_CODECS, default=RESIDUAL_CODECS)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    samples, fallback = load_scenes(args.num_images)
    scorer = make_scorer(samples, args.device, ("psnr", "ms_ssim", "lpips", "miou"))
    pixels = samples[0].image.shape[0] * samples[0].image.shape[1]
    rows = []
    for total in args.totals:
        for name in args.codecs:
            tic = time.perf_counter()
            params = {"rate": "low", "enhancement": "auto", "enhancement_codec": name}
            codec = make_codec("semantic_gan", params)
            result = evaluate(codec, samples, fallback, scorer, int(total * pixels / 8))
            result.pop("bytes")
            rows.append({"total_bpp": total, "residual_codec": name, **result,
                         "seconds": round(time.perf_counter() - tic, 1)})  # fmt: skip
            print(rows[-1], flush=True)
    setting = (
        f"{args.num_images} synthetic test scenes, 256x512, seed 0, error-free; base layer `low`; the "
        "residual fills the rest of the total (`bpp` counts both layers; a codec whose smallest "
        "stream exceeds the room sends no enhancement)."
    )
    write_report(args.report, "The enhancement layer's residual codec", start, setting,
                 [markdown_table(pd.DataFrame(rows))], argv)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
