"""Training the segmenter that judges mIoU: scenes held in memory, rare-class crops, augmentations,
and the training loop (``python -m simulator.metrics.segmentation.training.train``)."""
