"""YOLOv3's detection mixup at the data set's level, seeded: GluonCV's ``MixupDetection`` with its partner and
weight drawn from (seed, index, epoch) instead of NumPy's global stream."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..errors import ParameterError
from ..pipeline.build import check_seed
from ..randomness import seed_key
from .augment import SharedEpoch, _Base  # type: ignore[attr-defined]

_MIXUP_STREAM = 1  # the third counter word: these draws never meet the pipeline's (word 0) for the same seed


class MixupDetection(SharedEpoch, _Base):  # type: ignore[misc,valid-type]
    """Blend each ``(img, boxes)`` item with a partner drawn from the rest of the data set, weight ``lambda`` drawn
    from Beta(``alpha``, ``beta``) and clipped to [0, 1], as GluonCV's ``MixupDetection(dataset, np.random.beta,
    1.5, 1.5)``: both images on the larger canvas (``img1 * lambda + img2 * (1 - lambda)``, truncated to uint8),
    the boxes of both stacked with a weight column (``lambda``, then ``1 - lambda``). With ``lambda >= 1`` (or
    mixup off) the item keeps its image and gets a weight column of ones.

    The partner and the weight come from (seed, index, epoch): the same epoch with any number of workers, and
    a stream of their own, apart from the augmentation's. Put the pipeline after it
    (``augment(MixupDetection(voc, seed=0), "yolo3-train", seed=0, targets="boxes")``): the weight column
    travels with its box. GluonCV's YOLOv3 script turns mixup off for the last epochs: :meth:`set_mixup`.

    Parameters
    ----------
    dataset : Dataset
        Items ``(img, boxes)``: an HWC image (NDArray or numpy) and an (N, 5+) box array.
    alpha, beta : float
        The Beta distribution of the weight (GluonCV's YOLOv3: 1.5, 1.5).
    seed, epoch : int
        The draws' seed and the initial epoch (:meth:`set_epoch`, shared with forked workers).
    """

    _SHARED = {"_epoch": "q", "_on": "b"}

    def __init__(self, dataset: Any, alpha: float = 1.5, beta: float = 1.5, seed: int = 0, epoch: int = 0):
        check_seed(seed, "MixupDetection: seed", InputError, optional=False)
        self._dataset = dataset
        self.seed = seed
        self._key = np.array(seed_key(seed), dtype=np.uint64)
        self._share(epoch=epoch, on=1)
        self.alpha, self.beta = _positive("alpha", alpha), _positive("beta", beta)

    def set_mixup(self, on: bool) -> None:
        """Turn mixup on or off (off: every item keeps its image, with a weight column of ones)."""
        self._on.value = 1 if on else 0

    def __len__(self) -> int:
        return len(self._dataset)

    def generator(self, index: int) -> np.random.Generator:
        """The generator of item ``index``'s partner and weight in the current epoch."""
        counter = np.array([index, self.epoch, _MIXUP_STREAM, 0], dtype=np.uint64)
        return np.random.Generator(np.random.Philox(key=self._key, counter=counter))

    def draw(self, index: int) -> tuple[float, int | None]:
        """Item ``index``'s weight and partner (None when it is not mixed) in the current epoch."""
        if not self._on.value or len(self) < 2:
            return 1.0, None
        rng = self.generator(index)
        weight = float(min(1.0, max(0.0, rng.beta(self.alpha, self.beta))))
        if weight >= 1:
            return 1.0, None
        partner = int(rng.integers(0, len(self) - 1))
        return weight, partner + (partner >= index)  # uniform over the other items

    def __getitem__(self, index: int) -> tuple[Any, np.ndarray]:
        n = len(self)
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)) or not -n <= index < n:
            raise InputError(f"MixupDetection: item {str(index)[:40]} is not an integer in [-{n}, {n})")
        index = int(index) % n
        img1, boxes1 = _item(self._dataset[index], index)
        weight, partner = self.draw(index)
        if partner is None:
            return img1, np.hstack([boxes1, np.ones((len(boxes1), 1))])
        img2, boxes2 = _item(self._dataset[partner], partner)
        a, b = _pixels(img1), _pixels(img2)
        if a.shape[2] != b.shape[2]:
            raise InputError(f"MixupDetection: items {index} and {partner} have {a.shape[2]} and {b.shape[2]} "
                             f"channels; mixup blends images of the same channels")
        canvas = np.zeros((max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1]), a.shape[2]), np.float32)
        canvas[: a.shape[0], : a.shape[1]] = a * np.float32(weight)
        canvas[: b.shape[0], : b.shape[1]] += b * np.float32(1 - weight)
        mixed = canvas.astype(np.uint8)  # truncated, as GluonCV's astype('uint8')
        boxes = np.vstack([np.hstack([boxes1, np.full((len(boxes1), 1), weight)]),
                           np.hstack([boxes2, np.full((len(boxes2), 1), 1 - weight)])])
        if hasattr(img1, "asnumpy"):
            import mxnet as mx

            return mx.nd.array(mixed, dtype="uint8", ctx=img1.context), boxes
        return mixed, boxes



def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        raise ParameterError("MixupDetection", name, value, "a number in (0, 1e6)")
    return float(value)


def _item(item: Any, index: int) -> tuple[Any, np.ndarray]:
    if not isinstance(item, tuple) or len(item) < 2:
        raise InputError(f"MixupDetection: item {index} is not an (img, boxes) pair")
    boxes = item[1].asnumpy() if hasattr(item[1], "asnumpy") else np.asarray(item[1])
    if boxes.ndim == 1 and boxes.size == 0:
        boxes = boxes.reshape(0, 5)
    if boxes.ndim != 2 or boxes.shape[1] < 4 or boxes.dtype.kind not in "fiu":
        raise InputError(f"MixupDetection: item {index}'s label is not an (N, 4+) box array (shape "
                         f"{tuple(boxes.shape)})")
    return item[0], boxes.astype(np.float64)


def _pixels(img: Any) -> np.ndarray:
    array = img.asnumpy() if hasattr(img, "asnumpy") else np.asarray(img)
    if array.ndim != 3:
        raise InputError(f"MixupDetection: expected HWC images, got shape {tuple(array.shape)}")
    return array.astype(np.float32)
