"""R-CNN evaluation items: the image, its boxes and ``im_scale``, as GluonCV's ``FasterRCNNDefaultValTransform``
and ``MaskRCNNDefaultValTransform`` give them to the evaluation loops (which scale predictions back by it)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._optional import require_mxnet
from ..pipeline.build import build_pipeline
from ..pipeline.pipeline import Pipeline
from ..transforms.base import CHW


class WithImScale:
    """``fn(img, label) -> (img, boxes, im_scale)`` around a pipeline (default ``faster-rcnn-val``): the boxes move
    with the image and ``im_scale`` is the input's height over the output's, a one-value ``float32`` NDArray,
    as GluonCV's R-CNN validation transforms return it.

    Parameters
    ----------
    pipeline : Pipeline or spec, default "faster-rcnn-val"
        Anything :func:`~gluon_augplug.build_pipeline` takes; it must resize without cropping for the scale to
        mean what GluonCV's does.

    Examples
    --------
    >>> val = WithImScale()                                      # doctest: +SKIP
    >>> img, boxes, im_scale = voc.transform(val)[0]             # doctest: +SKIP
    """

    def __init__(self, pipeline: Any = "faster-rcnn-val"):
        self.pipeline = pipeline if isinstance(pipeline, Pipeline) else build_pipeline(pipeline, targets="boxes")
        self._chw = self.pipeline.output_layout() == CHW

    def __call__(self, img: Any, label: Any) -> tuple[Any, Any, Any]:
        mx = require_mxnet("WithImScale (GluonCV's R-CNN items)")
        done = self.pipeline.apply(img, boxes=label)
        height_in = img.shape[0] if hasattr(img, "shape") else np.asarray(img).shape[0]
        height_out = done.image.shape[1 if self._chw else 0]
        boxes = done.boxes.astype(np.float32) if isinstance(done.boxes, np.ndarray) else done.boxes
        return done.image, boxes, mx.nd.array([height_in / float(height_out)])
