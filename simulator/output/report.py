"""``report.html``: one self-contained page per run, written into the output folder at the end of every
run (after ``--resume`` too).

The page holds the resolved configuration, the summary table (each per-image-mean metric with its
95 % confidence interval), the figures, and a gallery: for every channel, bandwidth ratio and codec, at
the lowest, a middle and the highest SNR (:func:`~simulator.output.gallery.gallery_snrs`), what the receiver
showed for the first ``output.gallery_images`` images beside the originals, captioned with bpp, MCS,
PSNR, LPIPS and what happened to the image (a lost frame shows the fallback the receiver showed).

Everything is inline: images are ``data:`` URIs, the style sheet is in the page, there is no script,
and a Content-Security-Policy forbids the page from loading anything that is not a ``data:`` image. The
gallery is built from the thumbnails stored with each finished point (``points/gallery/``), so a
resumed run reports the points an earlier process simulated.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.config import Config, dump_config
from simulator.link.sweep import SweepPoint, sweep_points
from simulator.output.gallery import gallery_snrs, thumbnail_png
from simulator.output.results import CI_METRICS, ResultStore, atomic_write, ratio_label

__all__ = ["REPORT_NAME", "write_report"]

REPORT_NAME = "report.html"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STATUS_TEXT = {
    "ok": "",
    "decoded_with_errors": "decoded from a stream with errors",
    "partial": "partial: layers lost, the surviving ones decoded",
    "crc_fail": "lost (CRC failed): the receiver shows the fallback",
    "decode_error": "decoder failed: the receiver shows the fallback",
    "no_fit": "nothing sent (budget too small): the receiver shows the fallback",
}
FAILED = ("crc_fail", "decode_error", "no_fit")
TABLE_HEADINGS = {
    "snr_db": "SNR [dB]",
    "num_symbols": "K",
    "payload_bytes": "payload [B]",
    "decode_failure_rate": "decode fail",
    "fit_failure_rate": "no fit",
    "n_images": "n",
}
"""Short column headings of the report's table (the CSV's name is each heading's tooltip)."""

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1240px; padding: 0 16px 40px;
       color: #222; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #ccc; } h3 { font-size: 15px; margin: 18px 0 6px; }
nav a { margin-right: 14px; } .note { color: #555; font-size: 13px; }
pre { background: #f6f6f6; padding: 8px 10px; font-size: 12px; max-height: 420px; overflow: auto; }
.scroll { overflow-x: auto; }
table.summary { border-collapse: collapse; font-size: 12px; white-space: nowrap; }
table.summary th, table.summary td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
table.summary th { background: #eee; position: sticky; top: 0; }
table.summary td.text { text-align: left; }
tr.failing td { background: #fde8e8; }
figure { margin: 12px 0; }
figure img { max-width: min(100%, 900px); height: auto; border: 1px solid #eee; }
figcaption { font-size: 13px; color: #444; }
table.gallery { border-collapse: collapse; table-layout: fixed; width: 100%; }
table.gallery th, table.gallery td { border: 1px solid #ddd; padding: 4px; vertical-align: top;
                                     font-size: 12px; }
table.gallery th { background: #eee; } table.gallery th.codec { width: 96px; text-align: left;
                                                                 word-break: break-word; }
table.gallery img { width: 100%; height: auto; display: block; }
.cap { color: #333; } .fail { color: #b00020; font-weight: 600; } .missing { color: #777; }
"""


def _uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _num(value: Any, digits: int = 4) -> str:
    """A table cell: 4 significant digits; empty for NaN (not computed)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}g}"
    return str(value)


def _summary_table(summary: pd.DataFrame) -> str:
    """The summary as an HTML table: mean ± 95 % CI in one cell, empty columns left out, rows with
    failures shaded."""
    frame = summary.drop(columns=["bandwidth_ratio"]).rename(columns={"rho_label": "rho"})
    if frame["channel"].nunique() == 1:
        frame = frame.drop(columns=["channel"])
    hidden = [f"{m}_ci95" for m in CI_METRICS] + ["miou_reference"]  # in cells / in the note
    shown = [c for c in frame.columns if c not in hidden and frame[c].notna().any()]
    head = "".join(
        f'<th title="{html.escape(c)}">{html.escape(TABLE_HEADINGS.get(c, c))}</th>' for c in shown
    )
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in shown:
            value = row[column]
            text = _num(value)
            ci = row.get(f"{column}_ci95")
            if text and ci is not None and not pd.isna(ci):
                text = f"{text} ± {_num(ci, 2)}"
            cls = ' class="text"' if isinstance(value, str) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        failing = any(row.get(c, 0) > 0 for c in ("decode_failure_rate", "fit_failure_rate"))
        body.append(f"<tr{' class=failing' if failing else ''}>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table class="summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figures(paths: Sequence[Path], summary: pd.DataFrame) -> str:
    """The figures as inline images: each figure's PNG file, else its SVG file; drawn here in memory
    when the run wrote neither (``output.formats: [pdf]``)."""
    by_stem: dict[str, Path] = {}
    for path in paths:
        if path.suffix in (".png", ".svg") and (path.stem not in by_stem or path.suffix == ".png"):
            by_stem[path.stem] = path
    images = []
    for stem, path in by_stem.items():
        mime = "image/png" if path.suffix == ".png" else "image/svg+xml"
        images.append((stem, _uri(path.read_bytes(), mime)))
    if not by_stem and paths:
        images = _figures_in_memory(summary)
    if not images:
        return '<p class="note">No figures (<code>output.plots: false</code>).</p>'
    out = []
    for stem, uri in images:
        out.append(
            f'<figure><img src="{uri}" alt="{html.escape(stem)}">'
            f"<figcaption>{html.escape(stem)}. Shaded: 95 % confidence interval over the images of "
            "each point (PSNR, MS-SSIM, LPIPS). Dashed black: the uncompressed reference (not drawn "
            "for PSNR, capped at 100 dB, and bpp, 24).</figcaption></figure>"
        )
    return "\n".join(out)


def _figures_in_memory(summary: pd.DataFrame) -> list[tuple[str, str]]:
    import io

    import matplotlib.pyplot as plt

    from simulator.output.plots import PNG_DPI, summary_figures

    images = []
    for stem, fig in summary_figures(summary):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=PNG_DPI)
        plt.close(fig)
        images.append((stem, _uri(buffer.getvalue(), "image/png")))
    return images


def _caption(mcs: str, row: dict[str, Any]) -> str:
    """One image's caption: the point's MCS, the image's bpp, BLER, PSNR, LPIPS and what happened."""
    parts = [f"MCS {html.escape(mcs)}"] if mcs else []
    if row.get("bpp") is not None:
        parts.append(f"{row['bpp']:.3g} bpp")
    if row.get("bler") is not None:
        parts.append(f"BLER {row['bler']:.2g}")
    if row.get("psnr") is not None:
        parts.append(f"PSNR {row['psnr']:.2f} dB")
    if row.get("lpips") is not None:
        parts.append(f"LPIPS {row['lpips']:.3f}")
    text = " · ".join(parts)
    status = row.get("status", "ok")
    if status in FAILED:
        text += f'<br><span class="fail">{html.escape(STATUS_TEXT[status])}</span>'
    elif STATUS_TEXT.get(status):
        text += f"<br>{html.escape(STATUS_TEXT[status])}"
    return text


def _shot(uri: str | None, caption: str) -> str:
    if uri is None:
        return f'<td class="missing">no thumbnail stored for this point<br>{caption}</td>'
    return f'<td><img src="{uri}" alt=""><div class="cap">{caption}</div></td>'


def _received(store: ResultStore, point: SweepPoint, position: int) -> str:
    """The cell of image ``position`` at ``point``: what the receiver showed, and its caption."""
    record = store.read_point(point.index, point.key)
    if record is None or position >= len(record["per_image"]):
        return '<td class="missing">not simulated</td>'
    summary, row = record["summary"], record["per_image"][position]
    mcs = summary.get("mcs") or ""
    if not mcs:
        mcs = "none (error-free)" if summary.get("bpp") is not None else "analog"
    path = store.thumbnail(point.index, point.key, position)
    uri = _uri(path.read_bytes(), "image/png") if path.exists() else None
    return _shot(uri, _caption(mcs, row))


def _gallery(config: Config, store: ResultStore, references: Sequence[Any]) -> str:
    """Per channel and bandwidth ratio a table: for each codec and each of the first images a row,
    the original beside what the receiver showed at each gallery SNR."""
    count = min(config.output.gallery_images, len(references))
    if count == 0:
        return '<p class="note">No gallery (<code>output.gallery_images: 0</code>).</p>'
    originals = [
        _shot(_uri(thumbnail_png(sample.image), "image/png"), html.escape(sample.image_id))
        for sample in references[:count]
    ]
    snrs = gallery_snrs(config.link.snr_db)
    points = {
        (p.codec.display_name, p.channel.display_name, p.bandwidth_ratio, p.snr_db): p
        for p in sweep_points(config)
    }
    out = [
        f'<p class="note">The first {count} image(s) beside the original, at the lowest, a middle and '
        "the highest SNR. Captions: the point's MCS, the image's bpp, BLER, PSNR and LPIPS. A lost "
        "image shows what the receiver showed: the fallback (the data source's mean colour) or, for "
        "a layered codec, what its surviving layers gave.</p>"
    ]
    heads = "".join(f"<th>SNR {s:g} dB</th>" for s in snrs)
    for channel in config.channel:
        for ratio in config.link.bandwidth_ratio:
            out.append(f"<h3>{html.escape(channel.display_name)}, ρ = {ratio_label(ratio)}</h3>")
            rows = []
            for codec in config.codecs:
                name = codec.display_name
                for position in range(count):
                    cells = "".join(
                        _received(store, points[(name, channel.display_name, ratio, s)], position)
                        for s in snrs
                    )
                    label = (
                        f'<th class="codec" rowspan="{count}">{html.escape(name)}</th>'
                        if position == 0
                        else ""
                    )
                    rows.append(f"<tr>{label}{originals[position]}{cells}</tr>")
            out.append(
                '<table class="gallery"><thead><tr><th class="codec">codec</th><th>original</th>'
                f"{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
    return "\n".join(out)


def write_report(config: Config, figures: Sequence[Path], references: Sequence[Any]) -> Path:
    """Write ``report.html`` into ``config.output.dir`` from the run's files; returns its path.

    :param config: the run's resolved configuration.
    :param figures: the multi-panel figure files the run wrote (those of
        :func:`~simulator.output.plots.panel_stems`; empty when ``output.plots`` is false).
    :param references: the run's :class:`~simulator.data.Sample` s (the originals of the gallery).
    """
    out = Path(config.output.dir)
    store = ResultStore(out)
    summary, _ = store.tables()
    title = f"semcom-sim report: {out.name}"
    sections = [
        ("summary", "Summary", _summary_note(summary) + _summary_table(summary)),
        ("figures", "Figures", _figures(figures, summary)),
        ("gallery", "Gallery", _gallery(config, store, references)),
        ("config", "Configuration", f"<pre>{html.escape(dump_config(config))}</pre>"),
    ]
    nav = "".join(f'<a href="#{key}">{name}</a>' for key, name, _ in sections)
    body = "\n".join(f'<h2 id="{key}">{name}</h2>\n{text}' for key, name, text in sections)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style></head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<nav>{nav}</nav>\n{body}\n</body></html>\n"
    )
    path = out / REPORT_NAME
    atomic_write(path, page)
    return path


def _summary_note(summary: pd.DataFrame) -> str:
    points = len(summary)
    images = int(summary["n_images"].max()) if points else 0
    return (
        f'<p class="note">{points} points, {images} images each. PSNR, MS-SSIM and LPIPS are means '
        "over the images of the point ± the half-width of their 95 % Student-t confidence interval; "
        "mIoU (one confusion matrix over the point's images), FID and KID are dataset-level values "
        f"of the point, without an interval.{_miou_reference_note(summary)} Shaded rows had "
        "failures (decode or fit). Empty: not computed.</p>"
    )


def _miou_reference_note(summary: pd.DataFrame) -> str:
    """What the run's mIoU was measured against (``miou_reference``), as a sentence; empty without
    mIoU."""
    references = set(summary.get("miou_reference", pd.Series(dtype=object)).dropna())
    if "segmenter" in references:
        return (
            " The data source has no labels: mIoU is measured against the segmenter's prediction "
            "on each original image (the original reads 1)."
        )
    return " mIoU is measured against the ground-truth labels." if references else ""
