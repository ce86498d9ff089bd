"""What a running sweep shows: a bar on a terminal, one line per finished point elsewhere.

On a terminal the bar names the point being worked on (codec, channel, rho, SNR). Where the stream is
not a terminal (nohup, CI, a batch job, a notebook's stderr) a bar would print nothing readable for
minutes, so each finished point is one line instead::

    [ 3/16] jpeg2000 | awgn | rho 1/48 | 4 dB: mcs qpsk-0.5, bpp 0.412, psnr 23.1, failed 0/8 (12.3 s)
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal, TextIO

from simulator.link.sweep import SweepPoint
from simulator.output.plots import ratio_label

__all__ = ["Progress", "point_label"]

_HEADLINE = ("psnr", "ms_ssim", "lpips", "miou", "fid", "kid")


def point_label(point: SweepPoint) -> str:
    """``jpeg2000 | awgn | rho 1/48 | 4 dB``: the point's codec, channel, bandwidth ratio and SNR."""
    return (
        f"{point.codec.display_name} | {point.channel.display_name} | "
        f"rho {ratio_label(point.bandwidth_ratio)} | {point.snr_db:g} dB"
    )


def _result(summary: dict[str, Any]) -> str:
    """The finished point's MCS, bpp, headline metrics and failures, for one line."""
    parts = [f"mcs {summary['mcs']}"] if summary.get("mcs") else []
    values = [("bpp", summary.get("bpp"))] + [(m, summary.get(m)) for m in _HEADLINE]
    parts += [f"{k} {v:.4g}" for k, v in values if isinstance(v, float | int) and math.isfinite(v)]
    n = int(summary.get("n_images") or 0)
    failed = round(float(summary.get("decode_failure_rate") or 0.0) * n)
    parts.append(f"failed {failed}/{n}")
    return ", ".join(parts)


class Progress:
    """Progress of ``total`` points on ``stream``.

    :param total: points to run (resumed ones not counted).
    :param stream: where to write (the CLI: stderr).
    :param mode: ``bar`` (a tqdm bar naming the current point), ``lines`` (a line per finished
        point) or ``off``; :meth:`for_stream` picks ``bar`` on a terminal, ``lines`` elsewhere.
    """

    def __init__(
        self, total: int, stream: TextIO, mode: Literal["bar", "lines", "off"] = "lines"
    ) -> None:
        self.total, self.stream, self.mode = total, stream, mode
        self.done = 0
        self._start = time.perf_counter()
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="points", unit="pt", file=stream)

    @classmethod
    def for_stream(cls, total: int, stream: TextIO, quiet: bool = False) -> Progress:
        """``off`` when ``quiet``, else a bar where ``stream`` is a terminal and lines elsewhere."""
        if quiet:
            return cls(total, stream, "off")
        tty = getattr(stream, "isatty", lambda: False)()
        return cls(total, stream, "bar" if tty else "lines")

    def started(self, point: SweepPoint) -> None:
        """``point`` is being worked on (the bar shows it)."""
        if self._bar is not None:
            self._bar.set_postfix_str(point_label(point), refresh=True)

    def finished(self, point: SweepPoint, summary: dict[str, Any]) -> None:
        """``point`` is done; ``summary`` is its summary.csv row."""
        self.done += 1
        if self._bar is not None:
            self._bar.update()
        elif self.mode == "lines":
            width = len(str(self.total))
            elapsed = time.perf_counter() - self._start
            print(
                f"[{self.done:>{width}}/{self.total}] {point_label(point)}: {_result(summary)} "
                f"({elapsed:.1f} s)",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        """End the bar, if any."""
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
