"""One imgaug augmenter as a gluon_augplug transform: seeded through imgaug's own generator."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from gluon_augplug.adapters import LibraryTransform

from . import catalog

# imgaug keeps its generator in the augmenter: seeding it and augmenting is one step, per process
_SEEDING = threading.RLock()
_COLUMNS = {"image": "images", "bounding_boxes": "bounding_boxes", "segmentation_maps": "segmentation_maps",
            "keypoints": "keypoints"}


class ImgaugTransform(LibraryTransform):
    """Base of the ``Iaa*`` transforms: each call reseeds the augmenter (imgaug's ``seed_``) with a seed drawn
    from the pipeline's generator, so augmenting boxes, masks and keypoints afterwards with the same seed
    repeats the image's draws, as imgaug's ``to_deterministic()`` does."""

    library = "imgaug"
    two_d_gray = False  # imgaug's images are (H, W, C), one channel included

    def setup(self) -> None:
        super().setup()
        self.random = _draws(self.wrapped)
        # an augmenter without children runs with a generator of its own per call: no shared state, no lock
        self._leaf = not any(len(children) for children in self.wrapped.get_children_lists())

    def _run_library(self, seed: int, **data: Any) -> Any:
        import imgaug.random as iarandom

        if self._leaf:
            # what imgaug's augment() does after seed_(seed), without its per-call batch conversions (a third of
            # the time on small images): _augment_batch_ with RNG(seed), the generator seed_ gives a leaf
            from imgaug.augmentables.batches import _BatchInAugmentation

            (key, value), = data.items()
            column = _COLUMNS[key]
            if column == "images":  # _augment_batch_ works in place (augment() copies first)
                value = value.copy()
            batch = _BatchInAugmentation(**{column: [value]})
            out = self.wrapped._augment_batch_(batch, random_state=iarandom.RNG(seed % 2**32), parents=[], hooks=None)
            return getattr(out, column)[0]
        with _SEEDING:
            # imgaug's own global generator too: augmenters such as MultiplyAndAddToBrightness make helper
            # augmenters during the call, seeded from it; it is put back as it was
            global_rng = iarandom.get_global_rng()
            saved = global_rng.state
            iarandom.seed(seed % 2**32)
            try:
                self.wrapped.seed_(seed % 2**32)
                return self.wrapped.augment(**data)
            finally:
                global_rng.set_state_(saved)

    def target_problem(self, kinds: tuple[str, ...]) -> str | None:
        cannot = catalog.CANNOT_MOVE.get(type(self.wrapped).__name__, ())
        unsupported = [k for k in kinds if k in cannot or (k == "polygons" and "keypoints" in cannot)]
        if unsupported:
            return f"{self.spec_name}: imgaug's {type(self.wrapped).__name__} cannot move {' or '.join(unsupported)}"
        return super().target_problem(kinds)

    def augment(self, img: np.ndarray, seed: int, targets: Any) -> tuple[np.ndarray, Any]:
        shape = img.shape if img.ndim == 3 else (*img.shape, 1)
        return self._run_library(seed, image=img), {"seed": seed, "shape": shape}

    def apply_boxes(self, boxes: np.ndarray, params: dict, in_hw: tuple[int, int],
                    out_hw: tuple[int, int]) -> np.ndarray:
        from imgaug.augmentables.bbs import BoundingBoxesOnImage

        drawn = params["drawn"]
        if not len(boxes):
            return boxes
        moved = self._run_library(drawn["seed"], bounding_boxes=BoundingBoxesOnImage.from_xyxy_array(
            boxes[:, :4].astype(np.float32), shape=drawn["shape"]))
        out = boxes.astype(np.float64, copy=True)
        out[:, :4] = moved.to_xyxy_array()
        return out

    def apply_keypoints(self, points: np.ndarray, params: dict, in_hw: tuple[int, int],
                        out_hw: tuple[int, int]) -> np.ndarray:
        from imgaug.augmentables.kps import KeypointsOnImage

        drawn = params["drawn"]
        if not len(points):
            return points
        moved = self._run_library(drawn["seed"], keypoints=KeypointsOnImage.from_xy_array(
            points[:, :2].astype(np.float32), shape=drawn["shape"]))
        out = points.astype(np.float64, copy=True)
        out[:, :2] = moved.to_xy_array()
        return out

    def apply_mask(self, mask: np.ndarray, params: dict, in_hw: tuple[int, int],
                   out_hw: tuple[int, int]) -> np.ndarray:
        from imgaug.augmentables.segmaps import SegmentationMapsOnImage

        drawn = params["drawn"]
        moved = self._run_library(drawn["seed"], segmentation_maps=SegmentationMapsOnImage(
            mask.astype(np.int32), shape=drawn["shape"]))
        if moved.arr.shape[:2] != tuple(out_hw):  # imgaug maps a map of another size proportionally (Jigsaw's pad)
            moved = moved.resize(tuple(out_hw))
        moved = moved.get_arr()
        if moved.ndim == 2 and mask.ndim == 3:
            moved = moved[:, :, None]
        return moved.astype(mask.dtype, copy=False)


def _draws(augmenter: Any) -> bool:
    """The augmenter holds a parameter that is not fixed (imgaug has no flag of its own)."""
    from imgaug import parameters as iap

    fixed = (iap.Deterministic, iap.DeterministicList)

    def varies(value: Any, depth: int = 0) -> bool:
        if isinstance(value, iap.Binomial) and isinstance(value.p, iap.Deterministic):
            return 0 < value.p.value < 1  # imgaug's p=1 (Invert, TotalDropout): always
        if isinstance(value, iap.StochasticParameter):
            return not isinstance(value, fixed)
        if isinstance(value, (list, tuple)) and depth < 3:
            return any(varies(v, depth + 1) for v in value)
        if isinstance(value, dict) and depth < 3:
            return any(varies(v, depth + 1) for v in value.values())
        if hasattr(value, "__dict__") and depth < 2 and type(value).__module__.startswith("imgaug"):
            return any(varies(v, depth + 1) for v in vars(value).values())
        return False

    unused = {k for k, when_none in catalog.UNUSED_WHEN_NONE.get(type(augmenter).__name__, {}).items()
              if getattr(augmenter, when_none, None) is None}
    return any(varies(v) for k, v in vars(augmenter).items()
               if k not in ("random_state", "_random_state") and k not in unused)
