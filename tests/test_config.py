"""Configuration: validation into typed objects, one readable line per problem naming the key path."""

from __future__ import annotations

import pytest
import yaml

from channels.phy import MCS, FECConfig
from simulator.config import Config, ConfigError, SNRRange, dump_config, load_config, parse_config


def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    return info.value.problems


def test_default_link_yaml_is_valid():
    config = load_config("link.yaml")
    assert config.data.source == "synthetic"
    assert config.link.bandwidth_ratio == pytest.approx([1 / 48, 1 / 24])
    assert config.codecs[-1].name == "original"


def test_fractions_ranges_and_scalars():
    config = parse_config(
        {"link": {"bandwidth_ratio": "1/96", "snr_db": {"start": -5, "stop": 5, "step": 2.5}}}
    )
    assert config.link.bandwidth_ratio == [pytest.approx(1 / 96)]
    assert config.link.snr_db == [-5, -2.5, 0, 2.5, 5]
    assert SNRRange(start=0, stop=1, step=0.3).values() == [0, 0.3, 0.6, 0.9]


def test_unknown_keys_wrong_types_and_ranges_name_the_key():
    lines = problems(
        {"seeed": 1, "data": {"num_images": 0, "height": "tall"}, "link": {"bandwidth_ratio": [2]}}
    )
    assert "seeed: unknown key; did you mean 'seed'?" in lines
    assert any(line.startswith("data.num_images:") for line in lines)
    assert any(line.startswith("data.height:") for line in lines)
    assert any(line.startswith("link.bandwidth_ratio[0]:") for line in lines)
    assert all("\n" not in line for line in lines)


def test_unknown_names_list_the_allowed_values():
    lines = problems({"channel": {"model": "rayleight"}, "codecs": [{"name": "jpg"}]})
    assert any(
        line.startswith("channel.model: unknown model 'rayleight'") and "rayleigh" in line
        for line in lines
    )
    assert any(
        line.startswith("codecs[0].name: unknown codec 'jpg'") and "jpeg" in line for line in lines
    )
    mod = problems({"link": {"mcs": {"modulation": "8psk"}}})
    assert mod == [
        "link.mcs.modulation: invalid value '8psk'; choose from 'bpsk', 'qpsk', '16qam', '64qam' or "
        "'256qam'; did you mean 'qpsk'?"
    ]
    assert problems({"metrics": ["psnr", "bogus"]})[0].startswith(
        "metrics[1]: invalid value 'bogus'"
    )


def test_uncoded_needs_rate_one_and_folder_needs_root():
    assert any(
        "code_rate must be 1.0" in p
        for p in problems(
            {"link": {"fec": {"code": "none"}, "mcs": {"modulation": "qpsk", "code_rate": 0.5}}}
        )
    )
    assert problems({"data": {"source": "folder"}}) == ["data.root: required for source 'folder'"]
    assert problems({"link": {"mcs": {"modulation": "qpsk", "code_rate": 0.99}}})[0].startswith(
        "link.mcs.code_rate: 0.99 cannot be coded by 5G LDPC"
    )
    repeated = {"modulation": "bpsk", "code_rate": 0.21, "repetitions": 0}
    assert problems({"link": {"base_mcs": repeated}})[0].startswith("link.base_mcs.repetitions:")


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1,\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert "not valid YAML" in info.value.problems[0]
    with pytest.raises(ConfigError):
        load_config(tmp_path / "missing.yaml")


def test_channel_list_and_roundtrip():
    raw = {"channel": [{"model": "awgn"}, {"model": "rayleigh", "params": {"block_length": 8}}]}
    config = parse_config(raw)
    assert [c.display_name for c in config.channel] == ["awgn", "rayleigh(block_length=8)"]
    again = parse_config(yaml.safe_load(yaml.safe_dump(config.model_dump(mode="json"))))
    assert again == config
    assert isinstance(Config(), Config)


def test_link_mcs_and_fec_validate_into_the_phy_objects():
    raw = {"mcs": {"modulation": "bpsk", "code_rate": 0.21, "repetitions": 4}, "fec": {"n": 2048}}
    config = parse_config({"link": {**raw, "base_mcs": {"modulation": "qpsk"}}})
    assert config.link.mcs == MCS("bpsk", 0.21, 4)
    assert config.link.base_mcs == MCS("qpsk", 0.5)
    assert config.link.fec == FECConfig(n=2048)
    # Written back as the keys the configuration takes, and read back the same.
    link = yaml.safe_load(dump_config(config))["link"]
    assert link["mcs"] == {"modulation": "bpsk", "code_rate": 0.21, "repetitions": 4}
    assert link["fec"] == {"code": "ldpc5g", "n": 2048, "iterations": 20, "decoder": "auto"}
    assert Config.model_validate_json(config.model_dump_json()) == config
    assert parse_config({}).link.fec == FECConfig() and parse_config({}).link.mcs == "auto"
