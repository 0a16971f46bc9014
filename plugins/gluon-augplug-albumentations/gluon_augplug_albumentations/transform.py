"""One albumentations 1.x transform as a gluon_augplug transform: seeded, with its own target support."""
from __future__ import annotations

import random
from typing import Any

import numpy as np

from albumentations.core.transforms_interface import BasicTransform

from gluon_augplug.adapters import LibraryTransform
from gluon_augplug.randomness import global_random_state

from . import catalog

_CV2_MASK_DTYPES = (np.uint8, np.uint16, np.int16, np.float32)


class AlbumentationsTransform(LibraryTransform):
    """Base of the ``Albu*`` transforms: albumentations draws from Python's global generator, so every
    call runs under :func:`~gluon_augplug.randomness.global_random_state` seeded
    from the pipeline's generator. Boxes, masks and keypoints go through the transform's own
    ``apply_to_bbox``/``apply_to_mask``/``apply_to_keypoint`` with the parameters it drew for the image."""

    library = "albumentations"

    def augment(self, img: np.ndarray, seed: int, targets: Any) -> tuple[np.ndarray, Any]:
        # albumentations 1.3 draws from Python's random only (its numpy draws use RandomState objects seeded
        # from random.randint), so numpy's global generator is left alone: 90 us a call saved
        with global_random_state(seed, numpy=False):
            return self._draw_and_apply(img, targets)

    def _draw_and_apply(self, img: np.ndarray, targets: Any) -> tuple[np.ndarray, Any]:
        """albumentations' own order of draws (BasicTransform.__call__), keeping what it drew."""
        t = self.wrapped
        if not (random.random() < t.p or t.always_apply):
            return img, None
        params = t.get_params()
        if t.targets_as_params:
            params.update(t.get_params_dependent_on_targets(
                {key: self._target_input(key, img, targets) for key in t.targets_as_params}))
        inputs = {"image": img}
        if self._updates_from_mask:  # it may draw from the mask there (CropNonEmptyMaskIfExists)
            inputs["mask"] = self._target_input("mask", img, targets)
        params = t.update_params(params, **inputs)
        dependencies = t.target_dependence.get("image")
        if dependencies:
            params = dict(params, **{key: self._target_input(key, img, targets) for key in dependencies})
        return t.apply(img, **params), params

    def setup(self) -> None:
        super().setup()
        t, cls = self.wrapped, type(self.wrapped)
        self._updates_from_mask = cls.update_params is not BasicTransform.update_params
        name = cls.__name__
        # random when it may be skipped or draws its parameters (albumentations has no flag of its own)
        if name in catalog.NOT_RANDOM:
            self.random = False
        elif name in catalog.RANDOM_WHEN_CHOICES:
            choices = getattr(t, catalog.RANDOM_WHEN_CHOICES[name])
            self.random = isinstance(choices, (list, tuple)) and len(set(choices)) > 1 or (t.p < 1 and not t.always_apply)
        else:
            draws = (cls.get_params is not BasicTransform.get_params
                     or cls.get_params_dependent_on_targets is not BasicTransform.get_params_dependent_on_targets)
            self.random = bool(draws or (t.p < 1 and not t.always_apply))

    @staticmethod
    def _target_input(key: str, img: np.ndarray, targets: Any) -> Any:
        """What albumentations' sampling asks for: the image, or the image's current targets in its formats."""
        if key == "image":
            return img
        h, w = img.shape[:2]
        if key == "bboxes":
            boxes = targets.view() if targets is not None else np.zeros((0, 4))
            return [tuple(b) for b in (np.clip(boxes[:, :4] / (w, h, w, h), 0.0, 1.0)).tolist()]
        if key in ("mask", "masks"):
            masks = targets.masks if targets is not None and targets.masks else [np.zeros((h, w), np.uint8)]
            masks = [m.astype(np.uint8) if m.dtype == bool else m for m in masks]
            return masks[0] if key == "mask" else masks
        if key == "keypoints":
            points = targets.keypoints if targets is not None and targets.keypoints is not None else np.zeros((0, 2))
            return [(x - 0.5, y - 0.5, 0.0, 1.0) for x, y in points[:, :2].tolist()]
        raise KeyError(f"albumentations asks for {key!r}, which gluon_augplug pipelines do not carry")

    # -- targets: albumentations' own functions, with the parameters drawn for the image ------------
    def target_problem(self, kinds: tuple[str, ...]) -> str | None:
        from albumentations.core.transforms_interface import DualTransform

        if self.targets != "geometric":
            return super().target_problem(kinds)
        cls = type(self.wrapped)
        asked = {"keypoints" if k == "polygons" else k for k in kinds}  # polygons move as keypoints
        missing = [kind for kind, one, many in (("boxes", "apply_to_bbox", "apply_to_bboxes"),
                                                ("keypoints", "apply_to_keypoint", "apply_to_keypoints"))
                   if kind in asked and getattr(cls, one) is getattr(DualTransform, one)
                   and getattr(cls, many) is getattr(DualTransform, many)]
        if missing:
            return f"{self.spec_name}: albumentations' {cls.__name__} cannot move {' or '.join(missing)}"
        if "polygons" in kinds and cls.__name__ in catalog.CANNOT_MOVE_POLYGONS:
            return (f"{self.spec_name} cannot move polygons: "
                    f"{catalog.CANNOT_MOVE_POLYGONS[cls.__name__]}")
        return None

    def apply_boxes(self, boxes: np.ndarray, params: dict, in_hw: tuple[int, int],
                    out_hw: tuple[int, int]) -> np.ndarray:
        drawn = params.get("drawn")
        if drawn is None or not len(boxes):
            return boxes
        (h, w), (oh, ow) = in_hw, out_hw
        given = boxes[:, :4] / (w, h, w, h)
        if type(self.wrapped).__name__ in catalog.BOXES_BY_MASK:  # boxes painted into a mask: inside the image only
            given = np.clip(given, 0.0, 1.0)
        moved = self.wrapped.apply_to_bboxes([tuple(b) for b in given.tolist()], **drawn)
        out = boxes.astype(np.float64, copy=True)
        out[:, :4] = np.asarray([b[:4] for b in moved], np.float64).reshape(-1, 4) * (ow, oh, ow, oh)
        return out

    def apply_keypoints(self, points: np.ndarray, params: dict, in_hw: tuple[int, int],
                        out_hw: tuple[int, int]) -> np.ndarray:
        drawn = params.get("drawn")
        if drawn is None or not len(points):
            return points
        # albumentations counts from pixel centres (a flip maps x to W - 1 - x), gluon_augplug from pixel edges
        given = [(x - 0.5, y - 0.5, 0.0, 1.0) for x, y in points[:, :2].tolist()]
        moved = None
        if type(self.wrapped).__name__ not in catalog.KEYPOINTS_AS_A_SET:
            moved = self.wrapped.apply_to_keypoints(given, **drawn)
        if moved is None or len(moved) != len(given):  # it removed some (CoarseDropout's holes): find which, one by one
            moved = [(list(self.wrapped.apply_to_keypoints([k], **drawn)) or [(np.nan, np.nan)])[0] for k in given]
        out = points.astype(np.float64, copy=True)
        out[:, :2] = np.asarray([k[:2] for k in moved], np.float64).reshape(-1, 2) + 0.5
        return out

    def apply_mask(self, mask: np.ndarray, params: dict, in_hw: tuple[int, int],
                   out_hw: tuple[int, int]) -> np.ndarray:
        drawn = params.get("drawn")
        if drawn is None:
            return mask
        work = mask
        if mask.dtype not in _CV2_MASK_DTYPES:  # OpenCV warps none of int32, int64 or bool
            small = mask.size == 0 or (mask.min() >= 0 and mask.max() < 2**16)
            work = mask.astype(np.uint16 if small else np.float32)
        if "interpolation" in drawn:  # some 1.3 transforms (CropAndPad) resample masks with the image's setting
            drawn = {**drawn, "interpolation": 0}
        out = self.wrapped.apply_to_mask(work, **drawn)
        if out.ndim == 2 and mask.ndim == 3:
            out = out[:, :, None]
        return out.astype(mask.dtype, copy=False)
