"""Training the segmenter that judges mIoU: scenes held in memory, rare-class crops, augmentations,
function-preserving widening of a checkpoint, and the training loop
(``python -m simulator.metrics.segmentation.training.train``)."""
