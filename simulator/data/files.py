"""Shared part of the file-backed sources: a sorted list of image files with optional label maps."""

from __future__ import annotations

__all__ = ["ImageFiles"]

from pathlib import Path

from simulator.data.base import DataConfigError, DataSource


class ImageFiles(DataSource):
    """A source backed by ``files`` (sorted image paths) and, when labelled, one label file per image.

    :ivar files: Image paths, in sample order.
    :ivar label_files: Label-map path of each image, or `None` for an unlabelled source.
    """

    files: list[Path]
    label_files: list[Path] | None = None

    def attach_labels(self, label_files: list[Path], what: str) -> None:
        """Use ``label_files`` (one per image) as the labels; all must exist.

        :param what: How the error names a missing one (e.g. ``"image(s) lack a label map"``).
        :raises DataConfigError: Some label file is missing.
        """
        missing = [p for p in label_files if not p.is_file()]
        if missing:
            raise DataConfigError(
                f"source '{self.name}': {len(missing)} {what}, e.g. '{missing[0]}'"
            )
        self.label_files = label_files

    def __len__(self) -> int:
        return len(self.files)

    @property
    def has_labels(self) -> bool:
        return self.label_files is not None
