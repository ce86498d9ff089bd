"""The run's paper figures, confidence intervals and report.html, end to end through the CLI; the
report opened in headless Chromium."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_cli import cli  # the CLI on a config dict, in a subprocess

from simulator.config import ConfigError, parse_config
from simulator.link.transport import Delivery, Plan
from simulator.output.results import ci95

TINY = {
    "seed": 5,
    "device": "cpu",
    "data": {"source": "synthetic", "num_images": 3, "height": 64, "width": 128},
    "codecs": [{"name": "jpeg2000"}, {"name": "original"}],
    "link": {
        "bandwidth_ratio": ["1/12", "1/6"],
        "snr_db": [-4, 12],
        "mcs": {"modulation": "qpsk", "code_rate": 0.5},
        "fec": {"n": 1024, "iterations": 8},
    },
    "channel": {"model": "awgn"},
    "metrics": ["psnr", "ms_ssim"],
    "output": {"dir": "unused", "formats": ["png", "svg"], "gallery_images": 1},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    proc = cli(TINY, out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_one_figure_per_view_in_every_requested_format(run):
    names = sorted(p.name for p in (run / "plots").iterdir())
    panels = ["metrics_vs_rho", "metrics_vs_snr"]
    # The SPEC's layout besides: each metric against SNR per ratio, the metrics against the ratio
    # per SNR.
    rows = ["bler", "bpp", "decode_failure_rate", "ms_ssim", "psnr"]
    singles = [f"{m}_vs_snr_rho_{r}" for m in rows for r in ("1-12", "1-6")]
    singles += ["metrics_vs_rho_snr_12dB", "metrics_vs_rho_snr_m4dB"]
    stems = panels + singles
    assert names == sorted(f"{stem}.{fmt}" for stem in stems for fmt in ("png", "svg"))
    assert (run / "plots" / "metrics_vs_snr.svg").read_text().lstrip().startswith("<?xml")
    # The report shows the two multi-panel figures, not the single-panel copies.
    page = (run / "report.html").read_text()
    assert sorted(re.findall(r'<figure><img src="data:[^"]+" alt="([^"]+)"', page)) == panels


def test_summary_ci_columns_are_t_intervals_of_the_per_image_values(run):
    summary = pd.read_csv(run / "summary.csv", keep_default_na=False, na_values=[""])
    per_image = pd.read_csv(run / "per_image.csv")
    assert "lpips_alex" not in summary and "lpips_alex" not in per_image  # nobody asked for it
    assert "lpips_alex_ci95" not in summary
    assert sorted(set(summary["rho_label"])) == ["1/12", "1/6"]
    keys = ["codec", "snr_db", "bandwidth_ratio"]
    checked = 0
    for key, images in per_image.groupby(keys):
        row = summary.set_index(keys).loc[key]
        for metric in ("psnr", "ms_ssim"):
            values = images[metric].to_numpy()
            expected = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(3)
            assert row[f"{metric}_ci95"] == pytest.approx(expected, rel=1e-4, abs=1e-9)
            checked += 1
    assert checked == 16
    # A point where the images differ has a band; the reference's 100 dB PSNR has none.
    assert (summary.loc[summary["codec"] == "jpeg2000", "psnr_ci95"] > 0).all()
    assert (summary.loc[summary["codec"] == "original", "psnr_ci95"] == 0).all()


def test_ci95_definition():
    # mean 2, s = 1, n = 3: t(0.975, 2) / sqrt(3)
    assert ci95([1.0, 2.0, 3.0]) == pytest.approx(4.302652729749464 / math.sqrt(3), rel=1e-9)
    assert ci95([1.0, None, 2.0, 3.0, math.nan]) == ci95([1.0, 2.0, 3.0])  # not computed: left out
    assert math.isnan(ci95([5.0])) and math.isnan(ci95([]))


def _sources(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', page)


def test_report_is_self_contained_with_a_gallery_and_failures(run):
    page = (run / "report.html").read_text()
    sources = _sources(page)
    assert sources and all(s.startswith(("data:", "#")) for s in sources), [
        s[:40] for s in sources if not s.startswith(("data:", "#"))
    ]
    assert "<script" not in page and "http://" not in page and "https://" not in page
    images = re.findall(r'<img src="data:image/(png|svg\+xml);base64,', page)
    # 2 figures + per ratio (2), per codec (2), 1 image: the original and 2 SNRs (-4 and 12 dB)
    assert len(images) == 2 + 2 * 2 * 1 * 3
    stored = sorted(p.name for p in (run / "points" / "gallery").iterdir())
    assert len(stored) == 2 * 2 * 2 * 1  # codecs x ratios x gallery SNRs x images, nothing else
    assert "jpeg2000" in page and "MCS qpsk r=0.50" in page and "PSNR" in page
    # QPSK r=1/2 at -4 dB loses every frame: the gallery says so and shows the fallback.
    assert "lost (CRC failed): the receiver shows the fallback" in page
    assert "psnr_ci95" not in page and " ± " in page  # the interval shown beside its mean
    assert "bandwidth_ratio:" in page  # the resolved configuration


def test_resume_rebuilds_the_same_report_from_stored_thumbnails(run, tmp_path):
    out = tmp_path / run.name  # the same folder name: the page's title names it
    shutil.copytree(run, out)
    first = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    proc = cli(TINY, out, "--resume")
    assert proc.returncode == 0, proc.stderr
    # The same page but for the folder the configuration names: nothing recomputed, every thumbnail found
    assert (out / "report.html").read_bytes() == first.replace(str(run).encode(), str(out).encode())
    assert "no thumbnail stored" not in first.decode()


CHECK = """<script>
window.__problems = [];
window.addEventListener("error", e => window.__problems.push(
  "error: " + (e.message || (e.target && e.target.tagName))), true);
document.addEventListener("securitypolicyviolation", e => window.__problems.push(
  "csp: " + e.violatedDirective + " " + e.blockedURI));
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const out = document.createElement("pre");
  out.id = "semcom-check";
  out.textContent = JSON.stringify({
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 40)),
    problems: window.__problems,
  });
  document.body.appendChild(out);
});
</script>"""


@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="chromium is not installed (.ci/run installs it)"
)
def test_report_renders_in_headless_chromium(run, tmp_path):
    page = (run / "report.html").read_text()
    # The check needs a script: allow inline scripts in the copy only, nothing else.
    probe = page.replace(
        "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1
    )
    probe = probe.replace("<head>", "<head>" + CHECK, 1)
    assert probe != page
    path = tmp_path / "probe.html"
    path.write_text(probe)
    proc = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="semcom-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"the page's check did not run: rc {proc.returncode}\n{proc.stderr[-2000:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["images"] == 2 + 2 * 2 * 1 * 3
    assert result["broken"] == [] and result["problems"] == [], result
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console


def test_output_config_is_validated():
    with pytest.raises(ConfigError) as info:
        parse_config({"output": {"formats": ["png", "jpg"], "gallery_images": -1}})
    lines = info.value.problems
    assert any(line.startswith("output.formats[1]:") and "'jpg'" in line for line in lines), lines
    assert any(line.startswith("output.gallery_images:") for line in lines), lines
    with pytest.raises(ConfigError, match=r"output.formats: .*listed twice"):
        parse_config({"output": {"formats": ["svg", "svg"]}})
    assert parse_config({"output": {"formats": "pdf"}}).output.formats == ["pdf"]


def test_bad_format_exits_2_before_anything_runs(tmp_path):
    proc = cli({**TINY, "output": {"formats": ["gif"]}}, tmp_path / "bad")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("output.formats[0]: invalid value 'gif'"), proc.stderr


def _two_codec_summary(snrs=(0.0, 10.0, 20.0)) -> pd.DataFrame:
    """Codecs a and b (identical curves) and the reference, two ratios, ``snrs``."""
    rows = []
    for codec in ("a", "b", "original"):
        for ratio in (1 / 48, 1 / 24):
            for snr in snrs:
                same = {"psnr": 20.0 + snr, "bpp": 0.1, "bler": 0.0 if snr else 0.3}
                ref = {"psnr": 100.0, "bpp": 24.0, "bler": math.nan}
                rows.append(
                    {
                        "codec": codec,
                        "channel": "awgn",
                        "snr_db": snr,
                        "bandwidth_ratio": ratio,
                        "psnr_ci95": 0.5,
                        **(ref if codec == "original" else same),
                    }
                )
    return pd.DataFrame(rows)


def test_figures_keep_curves_apart_and_read_like_a_paper():
    from simulator.output.plots import summary_figures

    figures = dict(summary_figures(_two_codec_summary()))
    assert sorted(figures) == ["metrics_vs_rho", "metrics_vs_snr"]
    fig = figures["metrics_vs_snr"]
    axes = np.array(fig.axes).reshape(3, 2)  # psnr, bpp, bler rows; two ratios
    psnr, bpp, bler = axes[:, 0]
    a, b = psnr.get_lines()  # identical curves, and no 100 dB reference line
    assert (a.get_marker(), a.get_linestyle()) != (b.get_marker(), b.get_linestyle())
    assert len(psnr.collections) == 2  # a confidence band per codec
    assert len(bpp.get_lines()) == 2  # the 24 bpp reference would flatten the panel
    assert bler.get_yscale() == "log"
    rho = np.array(figures["metrics_vs_rho"].axes).reshape(3, -1)
    assert rho[-1, 0].get_xscale() == "log"
    assert [t.get_text() for t in rho[-1, 0].get_xticklabels()] == ["1/48", "1/24"]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b", "original"]
    assert legend.get_lines()[2].get_linestyle() == "--"
    import matplotlib.pyplot as plt

    for f in figures.values():
        plt.close(f)


def test_per_metric_files_follow_the_spec_layout_and_the_report_shows_only_panels():
    import matplotlib.pyplot as plt

    from simulator.output.plots import panel_stems, per_metric_figures

    summary = _two_codec_summary(snrs=(-2.5, 0.0, 10.0))
    figures = dict(per_metric_figures(summary))
    by_snr = [f"{m}_vs_snr_rho_{r}" for m in ("psnr", "bpp", "bler") for r in ("1-48", "1-24")]
    by_rho = ["metrics_vs_rho_snr_m2p5dB", "metrics_vs_rho_snr_0dB", "metrics_vs_rho_snr_10dB"]
    assert list(figures) == by_snr + by_rho  # -2.5 dB and 2.5 dB cannot collide
    psnr = figures["psnr_vs_snr_rho_1-24"]
    [ax] = psnr.axes
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[-2.5, 0.0, 10.0]] * 2
    assert len(figures["metrics_vs_rho_snr_0dB"].axes) == 3  # psnr, bpp, bler against the ratio
    assert panel_stems(summary) == {"metrics_vs_snr", "metrics_vs_rho"}
    for fig in figures.values():
        plt.close(fig)


def test_confidence_bands_stay_inside_the_metrics_range():
    from simulator.output.plots import summary_figures

    rows = [
        {
            "codec": codec,
            "channel": "awgn",
            "snr_db": snr,
            "bandwidth_ratio": 1 / 24,
            "ms_ssim": 0.98 if codec == "a" else 0.6,
            "ms_ssim_ci95": 0.05,  # 0.98 + 0.05 would claim an MS-SSIM above 1
            "lpips": 0.02 if codec == "a" else 0.4,
            "lpips_ci95": 0.05,  # 0.02 - 0.05 would claim an LPIPS below 0
        }
        for codec in ("a", "b")
        for snr in (0.0, 10.0)
    ]
    [(_, fig)] = summary_figures(pd.DataFrame(rows))
    ms_ssim, lpips = fig.axes
    for ax, (lowest, highest) in ((ms_ssim, (0.0, 1.0)), (lpips, (0.0, math.inf))):
        bands = [c.get_paths()[0].vertices[:, 1] for c in ax.collections]
        assert len(bands) == 2
        assert all(band.min() >= lowest and band.max() <= highest for band in bands)
    unclipped = [c.get_paths()[0].vertices[:, 1] for c in ms_ssim.collections][1]
    assert unclipped.min() == pytest.approx(0.55) and unclipped.max() == pytest.approx(0.65)
    assert [c.get_paths()[0].vertices[:, 1].max() for c in ms_ssim.collections][0] == 1.0
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_mcs_column_leaves_out_an_enhancement_layer_nobody_sent():
    links = tuple(
        SimpleNamespace(mcs=SimpleNamespace(name=n)) for n in ("bpsk r=0.33", "16qam r=0.5")
    )
    plan = Plan(point=None, num_symbols=100, links=links)
    image = np.zeros((2, 2, 3), np.uint8)
    base_only = Delivery(image, 10, 0, 80, 0, 1, "ok", (1, 0))
    both = Delivery(image, 20, 0, 160, 0, 2, "ok", (1, 1))
    assert plan.mcs_sent([base_only, base_only]) == "bpsk r=0.33"
    assert plan.mcs_sent([base_only, both]) == "bpsk r=0.33+16qam r=0.5"
    nothing = Delivery.no_fit(image)
    assert plan.mcs_sent([nothing]) == "bpsk r=0.33"  # the point's MCS, even when nothing fitted
