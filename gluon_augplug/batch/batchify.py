"""Batch augmentation inside DataLoader worker processes: a batchify function."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._optional import require_mxnet
from .base import BatchPipeline


class AugmentBatchify:
    """``DataLoader(dataset, batchify_fn=AugmentBatchify(pipeline, classes=10))``: stack the raw
    uint8 images of a batch and augment them in numpy, in the worker.

    MXNet pickles the batchify function for every batch it hands a worker, so each call draws
    fresh entropy for its batch; for reproducible batch augmentation, run the pipeline on the
    device in the training loop instead (``augplug train --batch-aug``), where it is seeded
    from (seed, epoch, batch).
    """

    def __init__(self, pipeline: BatchPipeline, classes: int | None = None):
        self.pipeline = pipeline
        self.classes = classes

    def __call__(self, samples: Sequence[Any]):
        mx = require_mxnet("AugmentBatchify (NDArray batches)")
        images = np.stack([np.asarray(s[0]) for s in samples])
        labels = np.asarray([s[1] for s in samples])
        data, targets = self.pipeline(images, labels, classes=self.classes, rng=np.random.default_rng())
        return mx.nd.array(data), mx.nd.array(targets)
