"""Which training scene, and where in it to crop: rare classes drawn as often as common ones.

Uniform crops of street scenes are mostly road, building and sky; a rider, a train or a bicycle is
in a few percent of them, which is why those classes lag in IoU however the loss is weighted. With
probability ``rare_prob`` a :class:`CropSampler` instead picks one of the rare classes (uniformly,
or in proportion to ``class_weights`` where a class lags behind the others), a scene that contains
it, and a pixel of that class to centre the crop on.
"""

from __future__ import annotations

__all__ = ["CropSampler"]

import numpy as np


class CropSampler:
    """Draws (scene index, crop centre) pairs for the segmenter's training batches.

    :param labels: uint8 trainIds [N, H, W] of the scenes held in memory (255 = ignore).
    :param num_classes: Number of classes.
    :param rare_prob: Probability that a draw is centred on a rare class; 0 draws uniformly.
    :param rare_fraction: A class is rare when its pixel frequency is below this fraction of the
        median frequency of the classes present.
    :param class_weights: Relative draw weight of rare classes by trainId (default 1 each); a
        class named here is drawn as rare even if it is not, provided it occurs.
    """

    def __init__(
        self,
        labels: np.ndarray,
        num_classes: int,
        rare_prob: float = 0.5,
        rare_fraction: float = 0.5,
        class_weights: dict[int, float] | None = None,
    ) -> None:
        if not 0.0 <= rare_prob <= 1.0:
            raise ValueError(f"rare_prob must be in [0, 1], got {rare_prob}")
        class_weights = class_weights or {}
        if any(w <= 0 for w in class_weights.values()):
            raise ValueError(f"class draw weights must be positive, got {class_weights}")
        self.labels = labels
        self.rare_prob = rare_prob
        counts = np.stack(
            [np.bincount(lab.ravel(), minlength=256)[:num_classes] for lab in labels]
        )  # [N, num_classes] pixels per scene and class
        total = counts.sum(axis=0).astype(np.float64)
        present = total > 0
        median = np.median(total[present]) if present.any() else 0.0
        rare = present & (total < rare_fraction * median)
        rare[[c for c in class_weights if 0 <= c < num_classes and present[c]]] = True
        self.rare_classes = np.flatnonzero(rare)
        draw = np.array([class_weights.get(int(c), 1.0) for c in self.rare_classes])
        self.class_probs = draw / draw.sum() if len(draw) else draw
        self.scenes_with = {int(c): np.flatnonzero(counts[:, c] > 0) for c in self.rare_classes}

    def draw(self, rng: np.random.Generator) -> tuple[int, tuple[int, int] | None]:
        """One scene index and, for a rare-class draw, the (row, column) to centre the crop on."""
        if len(self.rare_classes) == 0 or rng.random() >= self.rare_prob:
            return int(rng.integers(0, len(self.labels))), None
        cls = int(rng.choice(self.rare_classes, p=self.class_probs))
        index = int(rng.choice(self.scenes_with[cls]))
        pixels = np.flatnonzero(self.labels[index].ravel() == cls)
        row, col = divmod(int(rng.choice(pixels)), self.labels.shape[2])
        return index, (row, col)
