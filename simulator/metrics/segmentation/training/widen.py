"""Function-preserving widening of a trained :class:`Segmenter` ("net2net"), so that a run can go on
from its checkpoint in a larger network instead of starting afresh.

Two changes are supported, alone or together:

* a wider full-resolution path (``full_width`` grows, e.g. 16 -> 32): every trained tensor is
  copied into the leading slice of its wider counterpart; the new channels keep the fresh network's
  random initialisation (so they differ from each other and can learn), except that the weights
  from a new channel into an old one, and into the classifier, are zero. New batch-norm channels
  start at the identity statistics (running mean 0, variance 1, gamma 1, beta 0).
* more context blocks at stride 16 (``context_dilations`` extended at the end): an appended residual
  :class:`SeparableBlock` has its last batch norm's gamma (and beta) at 0, so its branch is 0 and it
  returns ``relu(0 + x) = x``, exact because its input is the output of a ReLU.

The widened network computes the same logits as the original (up to float rounding) in eval mode,
and in training mode too, since no old channel sees a new one. The first backward pass gives
gradient to the zeroed weights (new channel -> old channel or class) and to the appended blocks'
gammas; from the second step on, once those have moved, the new channels' own weights get it too.
"""

from __future__ import annotations

__all__ = ["widen", "widening_changes"]

import torch
from torch import nn

from simulator.metrics.segmentation.model import Segmenter, SegmenterConfig


def widening_changes(old: SegmenterConfig, new: SegmenterConfig) -> list[str]:
    """What :func:`widen` would change to turn architecture ``old`` into ``new``.

    :param old: The trained network's architecture.
    :param new: The wider one.
    :return: One phrase per change, e.g. ``["full_width 16 -> 32"]``; empty when they are equal.
    :raises ValueError: ``new`` is not a function-preserving widening of ``old`` (narrowing,
        other ``widths`` / ``decoder_width`` / ``num_classes``, dilations changed or removed rather
        than appended, or a full-resolution path added where there was none).
    """
    for name in ("num_classes", "widths", "decoder_width"):
        if getattr(old, name) != getattr(new, name):
            raise ValueError(f"cannot widen {name} {getattr(old, name)} -> {getattr(new, name)}: "
                             "only full_width and appended context_dilations can grow")  # fmt: skip
    changes = []
    if new.full_width != old.full_width:
        if old.full_width == 0 or new.full_width < old.full_width:
            raise ValueError(f"cannot widen full_width {old.full_width} -> {new.full_width}: "
                             "it can only grow from a network that has a full-resolution path")  # fmt: skip
        changes.append(f"full_width {old.full_width} -> {new.full_width}")
    n = len(old.context_dilations)
    if new.context_dilations != old.context_dilations:
        if new.context_dilations[:n] != old.context_dilations or len(new.context_dilations) <= n:
            raise ValueError(f"cannot change context_dilations {old.context_dilations} -> "
                             f"{new.context_dilations}: blocks can only be appended")  # fmt: skip
        changes.append(f"context_dilations {old.context_dilations} -> {new.context_dilations}")
    return changes


def _copy_conv(old: nn.Conv2d, new: nn.Conv2d) -> None:
    """``old`` into the leading [out, in] slice of ``new``; new inputs to old outputs zeroed."""
    out, cin = old.weight.shape[:2]
    new.weight[:out, :cin] = old.weight
    new.weight[:out, cin:] = 0  # empty for depthwise convolutions (one input per group)
    if old.bias is not None:
        new.bias[:out] = old.bias


def _copy_batchnorm(old: nn.BatchNorm2d, new: nn.BatchNorm2d) -> None:
    """``old``'s affine parameters and running statistics into ``new``'s leading channels."""
    c = old.num_features
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(new, name)[:c] = getattr(old, name)
    new.num_batches_tracked.copy_(old.num_batches_tracked)


@torch.no_grad()
def widen(model: Segmenter, config: SegmenterConfig) -> Segmenter:
    """A :class:`Segmenter` of architecture ``config`` that computes what ``model`` computes.

    :param model: A trained network with its batch norms (not folded by
        :func:`~simulator.metrics.segmentation.model.fuse_batchnorm`); left unchanged.
    :param config: The wider architecture; see :func:`widening_changes` for what may differ.
    :return: A new network on ``model``'s device, in ``model``'s train / eval mode, whose logits
        [B, num_classes, H, W] equal ``model``'s in eval mode (up to float rounding).
    :raises ValueError: ``config`` is no widening of ``model.config``, or ``model`` is not a
        plain :class:`Segmenter` (e.g. its batch norms are folded).
    """
    widening_changes(model.config, config)
    if not any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        raise ValueError("cannot widen a network whose batch norms are folded (fuse_batchnorm)")
    wide = Segmenter(config).to(model.mean.device)
    old_modules = dict(model.named_modules())
    appended = wide.stride16[1 + len(model.config.context_dilations) :]
    fresh = set(appended.modules())  # new blocks: they keep their initialisation
    for name, new in wide.named_modules():
        if new in fresh or not list(new.parameters(recurse=False)):
            continue
        old = old_modules.get(name)
        if type(old) is not type(new):
            raise ValueError(f"cannot widen {name}: {type(old).__name__} in the trained network, "
                             f"{type(new).__name__} in the wide one")  # fmt: skip
        if isinstance(new, nn.Conv2d):
            _copy_conv(old, new)
        elif isinstance(new, nn.BatchNorm2d):
            _copy_batchnorm(old, new)
        else:
            raise ValueError(f"cannot widen {name}: {type(new).__name__} is not supported")
    for block in appended:  # the residual branch is 0: y = relu(0 + x) = x for x >= 0
        block.pointwise[1].weight.zero_()
        block.pointwise[1].bias.zero_()
    return wide.train(model.training)
