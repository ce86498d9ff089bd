"""The ``weights`` parameter of ``deepjscc``: the file it names is the model that runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from simulator.data import make_source
from source_codecs import CodecConfigError, make_codec
from source_codecs.deepjscc.model import DeepJSCC, DeepJSCCConfig, shipped_weights

pytestmark = pytest.mark.usefixtures("one_thread")

H, W, K = 32, 64, 128
IMAGES = np.stack(
    [s.image for s in make_source("synthetic", root=None, num_images=1, height=H, width=W, seed=0)]
)


def _symbols(params: dict | None) -> torch.Tensor:
    return make_codec("deepjscc", params).encode_symbols(IMAGES, K, snr_db=5.0)


def test_shipped_file_named_is_the_default() -> None:
    assert torch.equal(_symbols({"weights": str(shipped_weights())}), _symbols(None))


def test_another_file_is_the_model_that_runs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    other = DeepJSCC(DeepJSCCConfig(width=8)).eval()
    path = tmp_path / "candidate.pt"
    other.export(path)
    with torch.no_grad():
        image = torch.from_numpy(IMAGES).permute(0, 3, 1, 2).float() / 255
        expected = DeepJSCC.load(path).encode(image, K, torch.tensor([5.0]))
    got = _symbols({"weights": str(path)})
    assert torch.allclose(got, expected.to(torch.complex64))
    assert not torch.allclose(got, _symbols(None), atol=1e-2)


def test_weights_must_be_a_path_string() -> None:
    with pytest.raises(CodecConfigError, match="weights: expected a string"):
        make_codec("deepjscc", {"weights": 3})
