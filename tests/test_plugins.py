"""Plug-ins as the SPEC promises (plain-class channels, codecs by reference, one-line errors), the
notebook entry point ``simulator.simulate``, ``--list``/``--help``/``--version``, the progress output,
and the isolated decoder from a script without a ``__main__`` guard."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import simulator
from channels import ChannelConfigError, make_channel
from simulator.config import ConfigError, parse_config
from simulator.link.sweep import sweep_points
from simulator.output.progress import Progress
from simulator.run import main
from source_codecs import CodecConfigError, make_codec

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "seed": 2,
    "device": "cpu",
    "data": {"source": "synthetic", "num_images": 1, "height": 64, "width": 128},
    "codecs": [{"name": "examples.block_mean_codec:BlockMean", "params": {"bits": 4}}],
    "link": {
        "bandwidth_ratio": "1/12",
        "snr_db": [12],
        "mcs": {"modulation": "qpsk", "code_rate": 0.5},
        "fec": {"n": 1024, "iterations": 8},
    },
    "channel": {"model": "examples.phase_offset_channel:PhaseOffsetAWGN"},
    "metrics": ["psnr"],
    "output": {"dir": "unused", "plots": False},
}

BAD_PLUGINS = """
import numpy as np
import torch
from source_codecs import SourceCodec

class OneOutput:
    def __call__(self, x, no):
        return x

class Truncates:
    def __call__(self, x, no):
        return x[:, :3], torch.ones_like(x)

class NeedsLicence:
    def __init__(self, seats: int = 1):
        raise RuntimeError("no licence for %d seats" % seats)

class GreyDecoder(SourceCodec):
    def encode(self, image, max_bytes, *, labels=None):
        return b"x"
    def decode(self, data, height, width):
        return np.zeros((height, width), dtype=np.uint8)

class NotACodec:
    pass

def helper():
    pass
"""


@pytest.fixture
def bad_plugins(tmp_path, monkeypatch):
    """A module ``bad_plugins`` of misbehaving plug-ins, importable for this test."""
    (tmp_path / "bad_plugins.py").write_text(BAD_PLUGINS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "bad_plugins"
    sys.modules.pop("bad_plugins", None)


# --- channels: any callable class ----------------------------------------------------------------


def test_a_plain_class_is_a_channel():
    channel = make_channel("examples.phase_offset_channel:PhaseOffsetAWGN", {"phase_deg": 90})
    assert not isinstance(channel, torch.nn.Module)
    x = torch.ones(2, 4000, dtype=torch.complex64)
    y, h = channel(x, 1e-4)
    assert torch.allclose(h, torch.full_like(x, 1j), atol=1e-6)  # 90 degrees: h = j
    assert torch.allclose(y, 1j * x, atol=0.05)


@pytest.mark.parametrize(
    ("model", "params", "expected"),
    [
        (
            "OneOutput",
            {},
            "returned complex64 [2, 1024]; a channel returns (y, h) or (y, h, err_var)",
        ),
        ("Truncates", {}, "y is complex64 [2, 3], expected complex [2, 1024] like x"),
        ("NeedsLicence", {"seats": 3}, "failed: RuntimeError: no licence for 3 seats"),
        ("NeedsLicence", {"seat": 3}, "unknown parameter 'seat'"),
        ("NotACodec", {}, "NotACodec instances are not callable"),
        ("helper", {}, "'bad_plugins:helper' is a function, not a class"),
        ("Missing", {}, "module 'bad_plugins' has no attribute 'Missing'"),
    ],
)
def test_channel_plugin_mistakes_are_one_line(bad_plugins, model, params, expected):
    with pytest.raises(ChannelConfigError) as info:
        make_channel(f"{bad_plugins}:{model}", params)
    assert expected in str(info.value) and "\n" not in str(info.value)


# --- codecs by reference ----------------------------------------------------------------------


def test_codec_by_reference_fits_the_budget_and_decodes():
    codec = make_codec("examples.block_mean_codec:BlockMean", {"bits": 4})
    image = np.random.default_rng(0).integers(0, 256, (64, 128, 3), dtype=np.uint8)
    sizes = []
    for budget in (20_000, 3_000, 300):
        stream = codec.encode(image, budget)
        assert len(stream) <= budget
        assert codec.decode(stream, 64, 128).shape == (64, 128, 3)
        sizes.append(len(stream))
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < sizes[0]
    with pytest.raises(CodecConfigError, match="bits: expected an integer in 1..8, got 9"):
        make_codec("examples.block_mean_codec:BlockMean", {"bits": 9})


def test_every_config_problem_in_one_pass_with_suggestions(bad_plugins):
    with pytest.raises(ConfigError) as info:
        parse_config(
            {
                "seeed": 1,
                "link": {"bandwith_ratio": "1/12"},
                "codecs": [
                    {"name": "examples.block_mean_codec:BlockMean", "params": {"bitz": 3}},
                    {"name": f"{bad_plugins}:NotACodec"},
                    {"name": "no_such_module:Codec"},
                    {"name": "jpg"},
                ],
                "channel": {"model": "raleigh"},
                "metrics": ["lpip"],
            }
        )
    lines = info.value.problems
    expected = [
        "seeed: unknown key; did you mean 'seed'?",
        "link.bandwith_ratio: unknown key; did you mean 'bandwidth_ratio'?",
        "codecs[0].params: unknown parameter 'bitz'; examples.block_mean_codec:BlockMean accepts: "
        "bits; did you mean 'bits'?",
        "codecs[1].name: 'bad_plugins:NotACodec' is a class, not a codec",
        "codecs[2].name: cannot import 'no_such_module' for codec 'no_such_module:Codec'",
        "codecs[3].name: unknown codec 'jpg'",
        "channel.model: unknown model 'raleigh'",
        "metrics[0]: invalid value 'lpip'",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert len(lines) == len(expected), lines
    assert any(line.endswith("did you mean 'lpips'?") for line in lines)
    assert any(line.endswith("did you mean 'rayleigh'?") for line in lines)
    assert all("\n" not in line and "Traceback" not in line for line in lines)


def test_plugin_errors_known_at_build_time_are_config_errors_and_write_nothing(
    bad_plugins, tmp_path
):
    out = tmp_path / "never"
    config = {
        **TINY,
        "codecs": [{"name": f"{bad_plugins}:GreyDecoder"}, {"name": "jpeg"}],
        "channel": [
            {"model": f"{bad_plugins}:Truncates"},
            {"model": f"{bad_plugins}:NeedsLicence"},
        ],
        "output": {"dir": str(out), "plots": False},
    }
    with pytest.raises(ConfigError) as info:
        simulator.simulate(config, quiet=True)
    lines = info.value.problems
    assert (
        "codecs[0]: GreyDecoder: decode returned uint8 [64, 128], expected uint8 [64, 128, 3]"
        in lines
    ), lines
    assert any(line.startswith("channel[0]: 'bad_plugins:Truncates': y is") for line in lines)
    assert any(
        line.startswith("channel[1]: constructing 'bad_plugins:NeedsLicence' failed")
        for line in lines
    )
    assert not out.exists()  # validated before anything is written


# --- the notebook entry point -----------------------------------------------------------------


def test_simulate_returns_the_tables_and_the_folder(tmp_path):
    result = simulator.simulate(TINY, out=tmp_path / "run", quiet=True)
    assert isinstance(result, simulator.SimulationResult)
    assert result.out_dir == tmp_path / "run"
    written = pd.read_csv(result.out_dir / "summary.csv")
    assert list(result.summary.columns) == list(written.columns)
    assert result.summary["psnr"].to_numpy() == pytest.approx(written["psnr"].to_numpy(), rel=1e-5)
    assert len(result.per_image) == 1 and result.simulated == 1 and result.resumed == 0
    row = result.summary.iloc[0]
    assert row["codec"] == "examples.block_mean_codec:BlockMean(bits=4)"
    assert row["decode_failure_rate"] == 0 and row["psnr"] > 15 and 0 < row["bpp"] < 1
    again = simulator.simulate(
        result.out_dir / "config.yaml", out=result.out_dir, resume=True, quiet=True
    )
    assert again.simulated == 0 and again.resumed == 1
    assert again.summary.equals(result.summary)


# --- --list, --help, --version ----------------------------------------------------------------


def test_list_names_every_codec_channel_and_metric_with_parameters(capsys):
    from channels import available_channels
    from simulator.metrics import available_metrics
    from source_codecs import available_codecs

    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [("codec", n) for n in available_codecs()]
    names += [("channel", n) for n in available_channels()]
    names += [("metric", n) for n in available_metrics()]
    assert [tuple(line.split()[:2]) for line in lines] == names
    jpeg = next(line for line in lines if line.split()[:2] == ["codec", "jpeg"])
    assert "quality=75 (an integer in 1..95)" in jpeg
    assert "block_length=1" in next(line for line in lines if " rayleigh " in line)
    assert "lower is better" in next(line for line in lines if " fid " in line)


def _readme_command_line() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Command line", 1)[1].split("\n## ", 1)[0]


def test_help_says_what_the_readme_says(capsys, monkeypatch):
    section = " ".join(_readme_command_line().split())
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: python -m simulator.run CONFIG.yaml")
    for option in re.findall(r"^  (--?[a-z]+[^\n]*?)  +(\S[^\n]*)$", help_text, re.M):
        flag = option[0].split(",")[-1].strip()
        assert flag in section, flag
    for sentence in ("nothing is written", "SEMCOM_DEBUG=1", "import from the working folder"):
        assert sentence in help_text and sentence in section
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/semcom-sim"])
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"semcom-sim {simulator.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith("usage: semcom-sim CONFIG.yaml")


# --- progress -------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_names_the_point_on_a_terminal_and_prints_lines_elsewhere():
    config = parse_config({**TINY, "link": {**TINY["link"], "snr_db": [0, 12]}})
    first, second = sweep_points(config)
    row = {
        "mcs": "qpsk r=0.50",
        "bpp": 0.15,
        "psnr": 17.44,
        "n_images": 1,
        "decode_failure_rate": 0.0,
    }

    terminal = _Terminal()
    with Progress.for_stream(2, terminal) as bar:
        bar.started(first)
    assert "rho 1/12 | 0 dB" in terminal.getvalue()
    assert "examples.block_mean_codec:BlockMean(bits=4)" in terminal.getvalue()

    log = io.StringIO()
    with Progress.for_stream(2, log) as lines:
        lines.started(first)
        assert log.getvalue() == ""  # nothing until a point is finished
        lines.finished(first, row)
        lines.finished(second, {**row, "decode_failure_rate": 1.0})
    printed = log.getvalue().splitlines()
    assert len(printed) == 2
    assert printed[0].startswith("[1/2] examples.block_mean_codec:BlockMean(bits=4) | ")
    assert "rho 1/12 | 0 dB: mcs qpsk r=0.50, bpp 0.15, psnr 17.44, failed 0/1" in printed[0]
    assert "12 dB" in printed[1] and "failed 1/1" in printed[1]
    quiet = io.StringIO()
    with Progress.for_stream(2, quiet, quiet=True) as off:
        off.finished(first, row)
    assert quiet.getvalue() == ""


# --- end to end, as a user runs it -------------------------------------------------------------


def _python(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python SCRIPT ARGS`` in ``cwd`` with this tree importable (as an installed package is)."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_installed_command_imports_plugins_from_the_working_folder(tmp_path):
    """The README's plug-ins, copied into a user's folder, run by a ``semcom-sim`` script as pip
    writes it (its own folder, not the working one, is first on the import path)."""
    work, bin_dir = tmp_path / "work", tmp_path / "bin"
    work.mkdir()
    bin_dir.mkdir()
    shutil.copy(ROOT / "examples" / "block_mean_codec.py", work / "my_codec.py")
    shutil.copy(ROOT / "examples" / "phase_offset_channel.py", work / "my_channel.py")
    script = bin_dir / "semcom-sim"
    script.write_text("import sys\nfrom simulator.run import main\nsys.exit(main())\n")
    config = {
        **TINY,
        "codecs": [{"name": "my_codec:BlockMean", "params": {"bits": 4}}],
        "channel": {"model": "my_channel:PhaseOffsetAWGN", "params": {"phase_deg": 30}},
        "output": {"dir": "out", "plots": False},
    }
    (work / "exp.yaml").write_text(yaml.safe_dump(config))
    proc = _python(script, "exp.yaml", cwd=work)
    assert proc.returncode == 0, proc.stderr
    # stderr is not a terminal: one line per finished point (here one), no bar.
    points = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert len(points) == 1, proc.stderr
    assert points[0].startswith(
        "[1/1] my_codec:BlockMean(bits=4) | my_channel:PhaseOffsetAWGN(phase_deg=30) | rho 1/12 | 12 dB:"
    )
    row = pd.read_csv(work / "out" / "summary.csv").iloc[0]
    assert row["bler"] == 0 and row["decode_failure_rate"] == 0 and row["psnr"] > 15


def test_isolated_decoder_does_not_rerun_an_unguarded_script(tmp_path):
    script = tmp_path / "plain_script.py"
    script.write_text(
        textwrap.dedent(
            """
            print("script start", flush=True)
            import numpy as np
            from source_codecs import SafeDecoder, make_codec

            image = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
            stream = make_codec("jpeg").encode(image, 2000)
            decoder = SafeDecoder(start_timeout_s=600)
            clean = decoder.decode("jpeg", {}, stream, 32, 48)
            broken = decoder.decode("jpeg", {}, stream[: len(stream) // 3], 32, 48)
            print("decoded", clean.status, clean.image.shape, broken.status, decoder.workers_started)
            """
        )
    )
    proc = _python(script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("script start") == 1, proc.stdout
    assert "decoded ok (32, 48, 3)" in proc.stdout and proc.stdout.strip().endswith(" 1"), (
        proc.stdout
    )
    assert "Traceback" not in proc.stderr
