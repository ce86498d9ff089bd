"""The walk of one layered delivery through the source files: rooms entered and returns (issue 16).

Traces (``sys.settrace``) one real layered delivery of the semantic GAN (one synthetic 64x128 scene,
rate ``low`` with ``enhancement: auto``, base on BPSK r=1/3, enhancement on 64-QAM r=5/6, 5G LDPC
n=1024 with Sionna's decoder, 5,000 channel uses, AWGN at one SNR) and records which project source
file is executing. A *room* is a source file of ``source_codecs/``, ``channels/`` or ``simulator/``;
library frames (torch, NumPy, Sionna) belong to the room that called them. Every change of room is an
*entry*; an entry into a room the walk had already left is a *return*. A walk is seen at several
depths (:data:`DEPTHS`): rooms nested at most 2, 3 or 4 deep (the traced function's room is depth 1,
a room it calls into depth 2, ...), or the innermost room of every frame (range-coding loops and
network layers included).

It runs against either layout: the old ``simulator.layered.deliver_layered`` (before issue 16) or the
new ``simulator.link.layered.LayeredTransport.deliver`` (and, reported apart, its ``plan``). Run it
from the root of the tree to measure, so that tree's packages import::

    cd TREE && PYTHONPATH=. python /path/to/benchmarks/layered_walk.py --snr 6

One untraced delivery runs first (imports, model loading, JIT and table caches), then the traced one
with a fresh cache of encoded streams, so the traced walk includes the encoding. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
from collections import Counter
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path.cwd().resolve()
PACKAGES = ("source_codecs", "channels", "simulator")
H, W, K = 64, 128, 5000


def _room(code: types.CodeType) -> str | None:
    """The project-relative path of ``code``'s file, or None outside the three packages."""
    return _file_room(code.co_filename)


@cache
def _file_room(filename: str) -> str | None:
    path = Path(filename)
    if not path.is_absolute():
        return None
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        return None
    return str(relative) if relative.parts[0] in PACKAGES else None


DEPTHS = (2, 3, 4, None)
"""The views of a walk, by nesting of rooms (the rooms of the project frames now running, outermost
first, a room repeated by consecutive frames counted once): 2 is the traced function's room and the
rooms it calls into; 3 adds the rooms those call into; None is the innermost room (every frame)."""


def walk(call: Callable[[], Any]) -> dict[int | None, list[str]]:
    """The rooms ``call()`` passes through, in order (consecutive entries differ), in each view of
    :data:`DEPTHS`."""
    stack: list[str] = []  # the files of the project frames now running, outermost first
    views: dict[int | None, list[str]] = {depth: [] for depth in DEPTHS}

    def moved() -> None:
        if not stack:  # the traced call returned
            return
        nested = [room for i, room in enumerate(stack) if i == 0 or stack[i - 1] != room]
        for depth, rooms in views.items():
            room = nested[-1] if depth is None or len(nested) <= depth else nested[depth - 1]
            if not rooms or rooms[-1] != room:
                rooms.append(room)

    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "return":
            stack.pop()
            moved()
        return local

    def tracer(frame: types.FrameType, event: str, arg: Any) -> Any:
        room = _room(frame.f_code)
        if room is None:
            return None
        stack.append(room)
        moved()
        return local

    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(None)
    return views


def summary(views: dict[int | None, list[str]]) -> dict[str, Any]:
    """Per view (see :data:`DEPTHS`): entries, returns to rooms already left, entries per room, the
    compact sequence."""
    return {str(depth or "all"): _summary(rooms) for depth, rooms in views.items()}


def _summary(rooms: list[str]) -> dict[str, Any]:
    seen: set[str] = set()
    returns = 0
    for room in rooms:
        returns += room in seen
        seen.add(room)
    return {
        "entries": len(rooms),
        "returns": returns,
        "rooms": len(seen),
        "per_room": dict(Counter(rooms).most_common()),
        "sequence": compact(rooms),
    }


def compact(rooms: list[str]) -> str:
    """``rooms`` as short names with repeated runs folded: ``(a b)x3``."""
    names = [r.removesuffix(".py") for r in rooms]
    out: list[str] = []
    i = 0
    while i < len(names):
        best, times = 1, 1
        for size in range(1, 9):
            n = 1
            while names[i + n * size : i + (n + 1) * size] == names[i : i + size]:
                n += 1
            if n > 1 and n * size > best * times:
                best, times = size, n
        unit = " ".join(names[i : i + best])
        out.append(f"({unit})x{times}" if times > 1 else unit)
        i += best * times
    return " > ".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snr", type=float, default=6.0, help="Es/N0 in dB")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np
    import torch

    from channels import AWGNChannel
    from channels.phy import MCS, DigitalLink, FECConfig
    from simulator.data import make_source
    from source_codecs import make_codec

    torch.set_num_threads(1)
    source = make_source(
        "synthetic", root=None, num_images=1, height=H, width=W, seed=0, split="test"
    )
    samples = [source[0]]
    codec = make_codec("semantic_gan", {"rate": "low", "enhancement": "auto"})
    fallback = np.zeros((H, W, 3), dtype=np.uint8)
    try:
        fec = FECConfig(code="ldpc5g", n=1024, iterations=20, decoder="sionna")
    except TypeError:  # before the fast decoder: Sionna's is the only one
        fec = FECConfig(code="ldpc5g", n=1024, iterations=20)
    links = tuple(
        DigitalLink(MCS(m, r), fec, AWGNChannel()) for m, r in (("bpsk", 1 / 3), ("64qam", 5 / 6))
    )
    result: dict[str, Any] = {"tree": str(ROOT), "snr_db": args.snr}
    try:
        from simulator.layered import deliver_layered
    except ImportError:
        deliver_layered = None
    if deliver_layered is not None:
        from simulator.digital import EncodeCache

        def fresh() -> Callable[[], list]:
            """One delivery with a fresh cache of encoded streams."""
            cache = EncodeCache()
            return lambda: deliver_layered(
                samples, "sg", codec, links, K, args.snr, fallback, cache
            )

        result["function"] = "simulator/layered.py:deliver_layered"
    else:
        from simulator.config import ChannelSpec, CodecSpec
        from simulator.link.layered import LayeredTransport
        from simulator.link.sweep import SweepPoint
        from simulator.link.transport import LinkSetup, Plan

        point = SweepPoint(0, CodecSpec(name="sg"), ChannelSpec(), K / (3 * H * W), args.snr)

        def transport() -> LayeredTransport:
            setup = LinkSetup(
                {"awgn": links[0].channel}, fec, "auto", "auto", "fallback", (H, W), fallback,
                torch.device("cpu"),
            )  # fmt: skip
            return LayeredTransport(setup, codec)

        def fresh() -> Callable[[], list]:
            """One delivery with a fresh cache of encoded streams (and of links)."""
            layered, plan = transport(), Plan(point, K, links)
            return lambda: layered.deliver(samples, plan)

        transport().plan(point)  # the BLER tables loaded
        planner = transport()
        result["plan"] = summary(walk(lambda: planner.plan(point)))
        result["function"] = "simulator/link/layered.py:LayeredTransport.deliver"
    torch.manual_seed(0)
    result["status"] = [d.status for d in fresh()()]
    deliver = fresh()
    torch.manual_seed(0)
    result["deliver"] = summary(walk(deliver))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
