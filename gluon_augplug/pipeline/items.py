"""Gluon's ``fn(img, label)``, said explicitly: what a dataset's label is, never guessed from its shape."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

LABEL_KINDS = ("class", "mask", "boxes", "pose")


class ItemTransform:
    """A :class:`~gluon_augplug.Pipeline` as a Gluon item transform, ``fn(img, label, *rest) -> (img, label, *rest)``,
    for ``dataset.transform(...)``; made by :meth:`Pipeline.for_dataset`.

    Parameters
    ----------
    pipeline : Pipeline
    label : {"class", "mask", "boxes", "pose"}
        What the dataset's label is: a class id (returned as it is), a label mask of the image's size (moved with
        nearest-neighbour sampling: GluonCV's segmentation sets, PIL masks included), boxes (N, 4+) with extra columns
        (GluonCV's ``VOCDetection``/``COCODetection``), or a pose label, a dict with ``"bbox"`` and ``"joints_3d"``
        (GluonCV's ``COCOKeyPoints``; build the pipeline with the dataset's ``flip_pairs``).

    Examples
    --------
    >>> from gluon_augplug import build_pipeline
    >>> import numpy as np
    >>> fn = build_pipeline("RandomFlipLeftRight(p=1.0)").for_dataset(label="boxes")
    >>> img, boxes = fn(np.zeros((10, 20, 3), np.uint8), np.array([[2.0, 1.0, 6.0, 5.0, 7.0]]))
    >>> boxes.tolist()
    [[14.0, 1.0, 18.0, 5.0, 7.0]]
    """

    def __init__(self, pipeline: Any, label: str):
        if label not in LABEL_KINDS:
            raise InputError(f"for_dataset(label={label!r}): the label is one of {', '.join(map(repr, LABEL_KINDS))}")
        self.pipeline = pipeline
        self.label = label

    def __call__(self, img: Any, label: Any, *rest: Any) -> tuple:
        pipe = self.pipeline
        if self.label == "class":
            return (pipe(img), label, *rest)
        if self.label == "pose":
            if not isinstance(label, dict):
                raise InputError(f"for_dataset(label='pose'): expected a dict label with 'bbox' and 'joints_3d', got "
                                 f"{type(label).__name__}")
            done = pipe.apply_pose(img, label)
            return (done.image, done.label, *rest)
        given = np.asarray(label) if type(label).__module__.split(".")[0] == "PIL" or isinstance(label, (list, tuple)) \
            else label
        if self.label == "mask":
            return (*pipe.apply(img, masks=given).as_tuple(), *rest)
        return (*pipe.apply(img, boxes=given).as_tuple(), *rest)

    def __repr__(self) -> str:
        return f"{self.pipeline!r}.for_dataset(label={self.label!r})"
