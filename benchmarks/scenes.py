"""Synthetic street scenes: a preview grid, the class statistics and the generation speed.

Writes ``benchmarks/results/scenes_grid.png`` (8 test scenes beside their colourised labels) and
``benchmarks/results/scene_classes.md`` (per-class pixel frequency and presence over N scenes, and
the scenes/s of one process pinned to one thread).

    python benchmarks/scenes.py [--num-scenes 1000] [--height 256] [--width 512]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: set before numpy loads its BLAS

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from simulator.data import CITYSCAPES_CLASSES, NUM_CLASSES, SyntheticScenes, colorize_labels

RESULTS = Path(__file__).resolve().parent / "results"


def preview(source: SyntheticScenes, path: Path, count: int = 8) -> None:
    rows = [
        np.concatenate([s.image, colorize_labels(s.labels)], axis=1)
        for s in (source[i] for i in range(count))
    ]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def statistics(source: SyntheticScenes) -> tuple[np.ndarray, np.ndarray, list[int], float]:
    """Pixel counts [19], scenes containing each class [19], classes per scene, CPU seconds per scene."""
    pixels = np.zeros(256, dtype=np.int64)
    presence = np.zeros(NUM_CLASSES, dtype=np.int64)
    per_scene = []
    cpu = 0.0
    for i in range(len(source)):
        start = time.process_time()
        labels = source[i].labels
        cpu += time.process_time() - start
        counts = np.bincount(labels.ravel(), minlength=256)
        pixels += counts
        present = counts[:NUM_CLASSES] > 0
        presence += present
        per_scene.append(int(present.sum()))
    return pixels[:NUM_CLASSES], presence, per_scene, cpu / len(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-scenes", type=int, default=1000)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    RESULTS.mkdir(parents=True, exist_ok=True)
    preview(
        SyntheticScenes(8, args.height, args.width, seed=0, split="test"),
        RESULTS / "scenes_grid.png",
    )

    source = SyntheticScenes(args.num_scenes, args.height, args.width, seed=0, split="test")
    source[0]  # warm-up (imports, caches)
    load_start = os.getloadavg()[0]
    wall = time.perf_counter()
    pixels, presence, per_scene, cpu = statistics(source)
    wall = (time.perf_counter() - wall) / args.num_scenes
    total = pixels.sum()
    lines = [
        "# Synthetic street scenes: class statistics and speed",
        "",
        f"{args.num_scenes} test-split scenes (seed 0) at {args.height}x{args.width}.",
        "",
        f"- Classes present per scene: mean {np.mean(per_scene):.2f}, min {min(per_scene)}, "
        f"max {max(per_scene)} (of 19).",
        f"- Generation speed, one core: {1 / cpu:.1f} scenes/s by process CPU time "
        f"({1000 * cpu:.1f} ms/scene); {1 / wall:.1f} scenes/s by wall clock (includes time lost "
        "to other processes on a shared machine).",
        f"- Command: `python {' '.join(['benchmarks/scenes.py', *sys.argv[1:]])}` "
        "(pinned to one CPU, OMP_NUM_THREADS=1).",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}; 1-minute load average "
        f"{load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (other processes "
        "share the machine's CPUs and caches; process CPU time rises with the load).",
        "",
        "| trainId | class | pixel share | scenes containing it |",
        "|---:|---|---:|---:|",
    ]
    for k, name in enumerate(CITYSCAPES_CLASSES):
        lines.append(
            f"| {k} | {name} | {100 * pixels[k] / total:.2f} % | {100 * presence[k] / args.num_scenes:.1f} % |"
        )
    (RESULTS / "scene_classes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
