"""How a transform moves pixels: its geometry (the one source for targets and batches), its targets and the
window a fused decode needs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..targets.modes import TargetMode, default_method, overrides, target_mode, undeclared


class DecodeWindow(NamedTuple):
    """What a crop or resize step reads of its input and makes of it (:meth:`Transform.decode_window`):
    the window ``(x0, y0, w, h)`` in input pixels, the output size ``out_hw`` and the interpolation."""

    x0: float
    y0: float
    w: float
    h: float
    out_hw: tuple[int, int]
    interpolation: int


class Moving:
    """The geometry half of :class:`~gluon_augplug.Transform` (a mixin: read it as part of that class)."""

    if TYPE_CHECKING:  # given by Transform
        @property
        def spec_name(self) -> str: ...

    @default_method
    def geometry(self, params: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
        """The 3x3 map that moved each point (x, y) of the input to the output, for ``params``.

        Coordinates are pixel edges: the input spans ``[0, W] x [0, H]`` (``in_hw`` = (H, W)), and a
        horizontal flip is ``x -> W - x``. It is the single source of the step's geometry: the default
        :meth:`apply_boxes`, :meth:`apply_mask` and :meth:`apply_keypoints` use it, and so does the batch
        path (the maps of the samples stacked, with :meth:`output_hw`: no :meth:`apply_batch` to write).
        :func:`gluon_augplug.targets.from_index_matrix` converts an OpenCV matrix. A geometric transform
        that is not affine overrides the three ``apply_*`` methods instead (and runs per sample only).
        """
        raise NotImplementedError

    @default_method
    def output_hw(self, params: dict, in_hw: tuple[int, int]) -> tuple[int, int]:
        """The output's (H, W) for ``params`` on an ``in_hw`` image, known before the pixels are made (the
        batch path needs it). Default: the input's size; a step that changes the size implements it."""
        return tuple(in_hw)  # type: ignore[return-value]

    @default_method
    def apply_boxes(self, boxes: np.ndarray, params: dict, in_hw: tuple[int, int],
                    out_hw: tuple[int, int]) -> np.ndarray:
        """Boxes (N, 4+) in pixel xyxy moved as the image was; extra columns kept. A row of NaN drops
        that box. Default: the enclosing box of the corners moved by :meth:`geometry`."""
        from ..targets.geometry import warp_boxes

        return warp_boxes(boxes, self.geometry(params, in_hw, out_hw))

    @default_method
    def apply_keypoints(self, points: np.ndarray, params: dict, in_hw: tuple[int, int],
                        out_hw: tuple[int, int]) -> np.ndarray:
        """Keypoints (N, 2+) x, y moved as the image was; extra columns kept. Default: :meth:`geometry`."""
        from ..targets.geometry import warp_points

        return warp_points(points, self.geometry(params, in_hw, out_hw))

    @default_method
    def apply_mask(self, mask: np.ndarray, params: dict, in_hw: tuple[int, int],
                   out_hw: tuple[int, int]) -> np.ndarray:
        """A label mask (H, W) or (H, W, K) moved as the image was, by nearest-neighbour sampling
        (class ids are never blended; outside the input: 0). Default: :meth:`geometry`."""
        from ..targets.geometry import warp_mask

        return warp_mask(mask, self.geometry(params, in_hw, out_hw), out_hw)

    def decode_window(self, params: dict, in_hw: tuple[int, int]) -> DecodeWindow | None:
        """For a step that crops a window and resizes it (or resizes the whole image): the window it reads
        and the output size, for ``params`` drawn on an image of ``in_hw``. A pipeline whose first step
        says so decodes a JPEG at 1/2, 1/4 or 1/8 scale when the window still has at least the output's
        pixels (a draw on the full size, the decode at the reduced one). Default None: every pixel is needed."""
        return None

    #: The label given to mask pixels that the step brings in from outside its input (a pad, a canvas); 0 unless
    #: the transform says otherwise (PadIfNeeded's ``mask_fill``, the ignore label). Read for geometry()-only steps.
    mask_fill: Any = 0

    #: Optional: a method ``keep_boxes(boxes, params, in_hw) -> bool array``, which boxes (pixel xyxy, before this
    #: step) survive it (RandomIoUCrop's centre rule). Defined, it lets a geometry()-only step drop boxes and still be
    #: composed with its neighbours (and run on batches); the same can be done by returning NaN rows from apply_boxes.
    keep_boxes: Any = None

    def target_problem(self, kinds: tuple[str, ...]) -> str | None:
        """Why this transform cannot move ``kinds`` of targets ("boxes", "masks", "keypoints", "polygons"), or None.

        Polygons move vertex by vertex, as keypoints do; override this to refuse them where a step moves points
        but would tear an outline (a tile shuffle) or remove its vertices (a dropout that drops covered points)."""
        mode = target_mode(self)
        if mode is TargetMode.PIXEL:
            return None
        if mode is not TargetMode.GEOMETRIC:
            return undeclared(self)
        if overrides(self, "geometry"):
            return None
        missing = [k for k in kinds if not overrides(self, _TARGET_METHODS[k])]
        if missing:
            return (f"{self.spec_name} is geometric but cannot move {', '.join(missing)}: it implements neither "
                    f"geometry() nor {', '.join(_TARGET_METHODS[k] + '()' for k in missing)}")
        return None


_TARGET_METHODS = {"boxes": "apply_boxes", "masks": "apply_mask", "keypoints": "apply_keypoints",
                   "polygons": "apply_keypoints"}
