"""Classical codecs at low rates: bpp and PSNR reached at byte budgets, speed, and corrupted streams.

For each codec (jpeg, webp, jpeg2000, bpg, vvc, avif, jpegxl, default parameters) and each target
(0.05, 0.1, 0.2 bpp), every image is rate-controlled to ``floor(target * H * W / 8)`` bytes; the
table gives how many images fit, the bpp actually reached, PSNR (RGB, 8 bits) and the encode time
(rate control included) and decode time. Images: the scikit-image astronaut (rows 128-384, 256x512)
and synthetic street scenes (``simulator.data``). Then ``--fuzz`` truncated or bit-flipped copies of
each codec's 0.2 bpp astronaut stream go through :class:`source_codecs.SafeDecoder`; the table
counts how each decode ended.

    python benchmarks/classical_codecs.py [--num-scenes 50] [--fuzz 200] [--jobs 2]

Writes benchmarks/results/classical_codecs.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import platform
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

import numpy as np
from skimage.data import astronaut

from source_codecs import BudgetTooSmall, SafeDecoder, make_codec
from source_codecs.classical.annexb import hevc_nal_type, split_nal_units, vvc_nal_type

# The stream-corruption helpers are test tooling, kept beside the tests that fuzz the decoders.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from corruption import CORRUPTIONS, corrupt_stream  # noqa: E402

RESULT = Path(__file__).resolve().parent / "results" / "classical_codecs.md"
CODECS = ["jpeg", "webp", "jpeg2000", "bpg", "vvc", "avif", "jpegxl"]
TARGETS = [0.05, 0.1, 0.2]
STATUSES = ["ok", "exception", "timeout", "crash", "bad_shape"]
PARAMETER_SETS = {"bpg": (hevc_nal_type, {32, 33, 34}), "vvc": (vvc_nal_type, {14, 15, 16})}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


def run_one(task: tuple[str, str, int, np.ndarray]) -> list[dict]:
    """One codec on one image at every target: a row per target."""
    codec_name, dataset, index, image = task
    codec = make_codec(codec_name)
    height, width = image.shape[:2]
    rows = []
    for target in TARGETS:
        budget = int(target * height * width / 8)
        row = {"codec": codec_name, "data": dataset, "image": index, "target": target}
        start = time.perf_counter()
        try:
            stream = codec.encode(image, budget)
        except BudgetTooSmall as exc:
            rows.append(
                {**row, "fits": False, "min_bpp": 8 * (exc.min_bytes or 0) / (height * width)}
            )
            continue
        encode_s = time.perf_counter() - start
        start = time.perf_counter()
        decoded = codec.decode(stream, height, width)
        decode_s = time.perf_counter() - start
        rows.append(
            {
                **row,
                "fits": True,
                "bpp": 8 * len(stream) / (height * width),
                "psnr": psnr(image, decoded),
                "encode_s": encode_s,
                "decode_s": decode_s,
                "header_bytes": parameter_set_bytes(codec_name, stream),
            }
        )
    return rows


def parameter_set_bytes(codec_name: str, stream: bytes) -> int | None:
    """Bytes of VPS/SPS/PPS NAL units (start codes included) in an HEVC/VVC stream."""
    if codec_name not in PARAMETER_SETS:
        return None
    nal_type, kinds = PARAMETER_SETS[codec_name]
    return sum(len(c) + len(u) for c, u in split_nal_units(stream) if nal_type(u) in kinds)


def fuzz(image: np.ndarray, count: int) -> list[dict]:
    height, width = image.shape[:2]
    rows = []
    with SafeDecoder() as decoder:
        for name in CODECS:
            stream = make_codec(name).encode(image, int(0.2 * height * width / 8))
            rng = np.random.default_rng(0)
            counts: Counter[str] = Counter()
            start = time.perf_counter()
            for i in range(count):
                outcome = decoder.decode(
                    name,
                    {},
                    corrupt_stream(stream, CORRUPTIONS[i % 3], rng),
                    height,
                    width,
                    timeout_s=20,
                )
                counts[outcome.status] += 1
            rows.append(
                {"codec": name, "tried": count, **counts, "seconds": time.perf_counter() - start}
            )
            print(f"fuzz {name}: {dict(counts)}", flush=True)
    return rows


def summary_table(rows: list[dict], dataset: str) -> list[str]:
    lines = [
        "| codec | target bpp | fit | bpp reached | PSNR dB | encode s | decode s | min bpp (no fit) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in CODECS:
        for target in TARGETS:
            sel = [
                r
                for r in rows
                if r["codec"] == name and r["data"] == dataset and r["target"] == target
            ]
            fit = [r for r in sel if r["fits"]]
            miss = [r["min_bpp"] for r in sel if not r["fits"]]

            def mean(key: str, fit: list[dict] = fit) -> str:
                return f"{np.mean([r[key] for r in fit]):.3f}" if fit else "-"

            lines.append(
                f"| {name} | {target} | {len(fit)}/{len(sel)} | {mean('bpp')} | "
                f"{mean('psnr')[:-1] if fit else '-'} | {mean('encode_s')[:-1] if fit else '-'} | "
                f"{mean('decode_s')} | {f'{np.median(miss):.3f} (median)' if miss else '-'} |"
            )
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    libs = ", ".join(f"{p} {version(p)}" for p in ("pillow", "av", "imageio-ffmpeg", "imagecodecs"))
    return f"{os.cpu_count()} cores ({cpu}), no GPU, Python {platform.python_version()}, {libs}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-scenes", type=int, default=50)
    parser.add_argument("--fuzz", type=int, default=200, help="corrupted streams per codec")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for encoding")
    args = parser.parse_args()

    photo = np.ascontiguousarray(astronaut()[128:384])
    from simulator.data import make_source

    scenes = make_source(
        "synthetic",
        root=None,
        num_images=args.num_scenes,
        height=256,
        width=512,
        seed=0,
        split="test",
    )
    tasks = [(name, "astronaut", 0, photo) for name in CODECS]
    tasks += [
        (name, "synthetic", i, scenes[i].image) for name in CODECS for i in range(len(scenes))
    ]
    start = time.perf_counter()
    rows: list[dict] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for done, result in enumerate(pool.map(run_one, tasks, chunksize=1), 1):
            rows += result
            if done % 25 == 0 or done == len(tasks):
                print(f"{done}/{len(tasks)} tasks, {time.perf_counter() - start:.0f} s", flush=True)
    fuzz_rows = fuzz(photo, args.fuzz)

    photo_rows = {(r["codec"], r["target"]): r for r in rows if r["data"] == "astronaut"}
    lines = [
        "# Classical codecs at low rates",
        "",
        f"Command: `python benchmarks/{Path(__file__).name} --num-scenes {args.num_scenes} "
        f"--fuzz {args.fuzz} --jobs {args.jobs}` ({time.perf_counter() - start:.0f} s)",
        "",
        f"Machine: {machine()}. Encode/decode times are wall seconds of one process on one thread"
        f" ({args.jobs} processes ran at once, beside other work on the machine).",
        "",
        "Every codec runs with its default parameters (bpg: x265 preset slow, 4:2:0; vvc: libvvenc"
        " preset fast, `-qpa 0`; avif: speed 6; jpegxl: effort 7). The budget is"
        " floor(target x H x W / 8) bytes; bpp counts every byte sent (headers included). A codec"
        " that cannot go as low as the budget reports BudgetTooSmall: that image does not fit.",
        "",
        "## Astronaut (scikit-image, rows 128-384, 256x512)",
        "",
        "| codec | target bpp | bpp reached | PSNR dB | encode s | decode s | parameter sets, bytes |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in CODECS:
        for target in TARGETS:
            r = photo_rows[(name, target)]
            if r["fits"]:
                header = r["header_bytes"] if r["header_bytes"] is not None else "-"
                lines.append(
                    f"| {name} | {target} | {r['bpp']:.4f} | {r['psnr']:.2f} | "
                    f"{r['encode_s']:.2f} | {r['decode_s']:.3f} | {header} |"
                )
            else:
                lines.append(
                    f"| {name} | {target} | no fit (smallest: {r['min_bpp']:.3f} bpp) | - | - | - | - |"
                )
    lines += [
        "",
        f"## {args.num_scenes} synthetic street scenes (simulator.data, seed 0, test split, 256x512)",
        "",
        "Means over the images that fit (bpp, PSNR, times); the last column is the median smallest"
        " stream of those that did not.",
        "",
        *summary_table(rows, "synthetic"),
        "",
        "## Corrupted streams through the isolated decoder",
        "",
        f"Each codec's 0.2 bpp astronaut stream, {args.fuzz} corrupted copies (seed 0), in turn:"
        " truncated at a random length; 1-8 random bit flips; 1-3 bit flips in the first 32 bytes"
        " (headers). `ok` = the decoder returned a well-formed image (possibly damaged).",
        "",
        "| codec | tried | " + " | ".join(STATUSES) + " | seconds |",
        "|---|---|" + "---|" * len(STATUSES) + "---|",
    ]
    for r in fuzz_rows:
        counts = " | ".join(str(r.get(s, 0)) for s in STATUSES)
        lines.append(f"| {r['codec']} | {r['tried']} | {counts} | {r['seconds']:.1f} |")
    RESULT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {RESULT}", file=sys.stderr)


if __name__ == "__main__":
    main()
