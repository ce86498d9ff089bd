"""Mean intersection-over-union of semantic segmentations: a confusion-matrix accumulator."""

from __future__ import annotations

__all__ = ["ConfusionMatrix", "confusion_matrix", "per_image_miou"]

import math

import numpy as np
import torch


def confusion_matrix(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int = 19, ignore_index: int = 255
) -> torch.Tensor:
    """Per-image confusion matrices of label maps.

    :param pred: Predicted class ids, int64 [B, H, W] (argmax of the logits).
    :param target: Ground-truth class ids, integer [B, H, W]; pixels equal to ``ignore_index`` are
        not counted, whatever was predicted there.
    :param num_classes: Number of classes ``C``; ids are 0..C-1.
    :param ignore_index: Label of unlabelled pixels.
    :return: int64 [B, C, C] counts, row = target class, column = predicted class, on ``pred``'s device.
    :raises ValueError: on a shape mismatch or a class id outside 0..C-1 (other than ``ignore_index``).
    """
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(
            f"confusion_matrix: expected pred and target [B, H, W] of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    target = target.to(device=pred.device, dtype=torch.int64)
    pred = pred.to(torch.int64)
    valid = target != ignore_index
    for name, ids in (("target", target[valid]), ("pred", pred)):
        if ids.numel() and (ids.min() < 0 or ids.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} holds class ids outside 0..{num_classes - 1}"
            )
    batch = pred.shape[0]
    image = torch.arange(batch, device=pred.device).view(batch, 1, 1).expand_as(pred)
    index = (image * num_classes + target) * num_classes + pred
    counts = torch.bincount(index[valid], minlength=batch * num_classes * num_classes)
    return counts.view(batch, num_classes, num_classes)


def _iou(matrix: torch.Tensor) -> torch.Tensor:
    """IoU per class of [..., C, C] confusion matrices -> float64 [..., C], NaN where absent."""
    matrix = matrix.double()
    hits = matrix.diagonal(dim1=-2, dim2=-1)
    union = matrix.sum(-1) + matrix.sum(-2) - hits
    return torch.where(union > 0, hits / union.clamp(min=1), torch.full_like(hits, math.nan))


def per_image_miou(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int = 19, ignore_index: int = 255
) -> torch.Tensor:
    """mIoU of each image on its own (same convention as :meth:`ConfusionMatrix.miou`).

    :param pred: Predicted class ids, int64 [B, H, W].
    :param target: Ground-truth class ids, integer [B, H, W] (``ignore_index`` = unlabelled).
    :param num_classes: Number of classes.
    :param ignore_index: Label of unlabelled pixels.
    :return: float64 [B] in [0, 1]; NaN for an image with no labelled pixel.
    """
    return _iou(confusion_matrix(pred, target, num_classes, ignore_index)).nanmean(-1)


class ConfusionMatrix:
    """Accumulates a segmentation confusion matrix over batches; reports IoU per class and mIoU.

    The mean IoU is taken over the classes *present*: those that occur in the (non-ignored) target or
    in the prediction of the accumulated pixels. A class absent from both has no defined IoU (0/0) and
    is left out; a class that is predicted but never present in the target has IoU 0 and counts
    (a hallucinated class is an error). Accumulating first and averaging once (dataset mIoU, as in the
    Cityscapes benchmark) differs from averaging per-image mIoUs (:func:`per_image_miou`).

    :param num_classes: Number of classes ``C`` (19 Cityscapes trainIds by default).
    :param ignore_index: Label of unlabelled target pixels (255 in Cityscapes).

    Example:
        >>> cm = ConfusionMatrix(num_classes=3)
        >>> cm.update(torch.tensor([[[0, 1, 1]]]), torch.tensor([[[0, 1, 2]]]))
        >>> cm.miou()  # IoUs 1, 1/2, 0
        0.5
    """

    def __init__(self, num_classes: int = 19, ignore_index: int = 255) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
        """int64 [C, C] counts on the CPU, row = target class, column = predicted class."""

    @classmethod
    def from_matrix(
        cls, matrix: np.ndarray | torch.Tensor, ignore_index: int = 255
    ) -> ConfusionMatrix:
        """Wrap an existing [C, C] count matrix (row = target, column = prediction)."""
        counts = torch.as_tensor(np.asarray(matrix), dtype=torch.int64)
        if counts.dim() != 2 or counts.shape[0] != counts.shape[1]:
            raise ValueError(
                f"ConfusionMatrix.from_matrix: expected a square matrix, got {tuple(counts.shape)}"
            )
        cm = cls(counts.shape[0], ignore_index)
        cm.matrix = counts.clone()
        return cm

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch: ``pred`` int64 [B, H, W] class ids, ``target`` integer [B, H, W] labels."""
        batch = confusion_matrix(pred, target, self.num_classes, self.ignore_index)
        self.matrix += batch.sum(0).cpu()

    def per_class_iou(self) -> torch.Tensor:
        """IoU of each class, float64 [C]; NaN for a class absent from both target and prediction."""
        return _iou(self.matrix)

    def miou(self) -> float:
        """Mean IoU over the present classes (see the class docstring); NaN before any pixel."""
        return float(self.per_class_iou().nanmean())
