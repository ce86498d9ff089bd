"""keep_freed_memory: large buffers freed and allocated again are reused, not faulted in afresh;
child processes inherit the setting; a user's own allocator settings win."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")

# Runs a 3x3 convolution over a 32 MiB feature map six times after one warm-up, holding each
# output until the next is made, as a network's layers do, and prints whether keep_freed_memory()
# applied (when asked to call it), the minor page faults of the six calls and the
# MALLOC_MMAP_MAX_ that a child process would see.
_PROBE = """
import os, resource, sys
import torch
if sys.argv[1] == "keep":
    from source_codecs.allocator import keep_freed_memory
    print(keep_freed_memory())
else:
    print(None)
torch.set_num_threads(1)
x, conv = torch.rand(1, 16, 512, 1024), torch.nn.Conv2d(16, 16, 3, padding=1)
with torch.no_grad():
    y = torch.relu(conv(x)) + 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(6):
        y = torch.relu(conv(x)) + 1
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(os.environ.get("MALLOC_MMAP_MAX_"))
"""
PAGES = 6 * (32 << 20) // 4096  # one 32 MiB output a call, in 4 KiB pages


def _probe(mode: str, **env: str) -> tuple[str, int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1]), out[2]


def test_freed_buffers_are_reused_instead_of_faulted_in_again() -> None:
    applied, plain_faults, _ = _probe("plain")
    # Measured (session 18): 245,798 faults plain (each call faults its buffers in afresh), 32,769
    # kept (the heap grows twice, for the output held across calls and the next one, then reuses).
    assert applied == "None" and plain_faults > 2 * PAGES
    applied, kept_faults, child_sees = _probe("keep")
    assert applied == "True" and kept_faults < PAGES
    assert child_sees == "0"  # what a worker process started afterwards inherits


@pytest.mark.parametrize(
    "setting", [{"MALLOC_MMAP_MAX_": "65536"}, {"GLIBC_TUNABLES": "glibc.malloc.perturb=0"}]
)
def test_a_users_own_allocator_settings_are_left_alone(setting: dict[str, str]) -> None:
    applied, faults, child_sees = _probe("keep", **setting)
    assert applied == "False" and faults > 2 * PAGES
    assert child_sees == setting.get("MALLOC_MMAP_MAX_", "None")
