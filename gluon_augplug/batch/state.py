"""A batch being augmented, with its pending per-sample geometry and colour.

Geometric steps accumulate one per-sample 3x3 map (output pixel -> input pixel), applied in
one resample (the maps are each transform's ``geometry()``, converted once by
:func:`~gluon_augplug.targets.geometry.index_inverse`); colour steps accumulate one per-sample 3x4 affine map on values in [0, 1],
applied in one pass. Two backends share this bookkeeping:

* :class:`DeviceState` keeps an NCHW float32 ``mx.nd.NDArray`` in [0, 1] on its device and uses
  ``GridGenerator`` + ``BilinearSampler`` and ``batch_dot``: the pixels never leave a GPU.
* :class:`NumpyState` keeps an NHWC numpy batch in the 0-255 range (uint8 as long as possible)
  and uses one OpenCV call per sample (``warpAffine``, ``transform``), far faster than MXNet's
  CPU operators; the result is converted to NCHW float32 once.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from .._lazy import mxnet as mx
from .._deprecation import warn_deprecated
from ..errors import InputError, SpecError
from ..targets.formats import TargetOptions
from ..targets.geometry import forward_from_index_inverse, index_inverse
from ..targets.state import TargetState
from ..transforms.drawing import draw_batch, draw_params, repeat_draws  # noqa: F401 (repeat_draws: its home before 0.4)
from ..transforms.functional import channel_means

GRAY = np.array([0.299, 0.587, 0.114])


def _to_normalized(size_hw: tuple[int, int], inverse: bool = False) -> np.ndarray:
    """Pixel -> MXNet's align-corners grid coordinates (-1 at the first pixel, 1 at the last), or back."""
    h, w = size_hw
    sx, sy = 2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)
    if inverse:  # written out: np.linalg.inv costs milliseconds with this machine's OpenBLAS
        return np.array([[1 / sx, 0, 1 / sx], [0, 1 / sy, 1 / sy], [0, 0, 1]])
    return np.array([[sx, 0, -1], [0, sy, -1], [0, 0, 1]])


_TABLES: dict = {}  # (channels, scales, offsets) -> the look-up tables of NumpyState._tables


def _row(columns: dict, i: int) -> dict:
    """Sample ``i``'s parameters out of columns (arrays of one value per sample; other values are shared)."""
    return {k: (v[i] if isinstance(v, np.ndarray) and v.ndim else v) for k, v in columns.items()}


def to_device(array: np.ndarray, ctx) -> Any:
    """A float32 numpy array as an NDArray on ``ctx`` (zero-copy hand-over of a fresh array on the CPU)."""
    fresh = np.array(array, dtype=np.float32, order="C")
    nd = mx.nd.from_numpy(fresh, zero_copy=True)
    return nd if nd.context == ctx else nd.as_in_context(ctx)


def _shifts_and_flips(maps: np.ndarray) -> bool:
    """True when every map is ``in = +-out + integer`` on each axis (no scaling, rotation or shear)."""
    linear = maps[:, :2, :2].reshape(-1, 4)
    if not ((np.abs(linear[:, 0]) == 1).all() and (np.abs(linear[:, 3]) == 1).all() and not linear[:, 1:3].any()):
        return False
    shifts = maps[:, :2, 2]
    whole = np.round(shifts)
    return bool((np.abs(shifts - whole) <= 1e-8 + 1e-5 * np.abs(whole)).all())  # np.allclose's test, 5x cheaper


def _crop_windows(maps: np.ndarray, out_hw: tuple[int, int], in_hw: tuple[int, int]) -> list:
    """For each resampling map (output index -> input index) that is a whole-pixel window of the input resized to
    ``out_hw`` and maybe mirrored, ``(x0, y0, w, h, flip_x, flip_y)``; None for any other map (a rotation, a shear,
    a window with fractional edges or reaching outside the input), which is warped instead."""
    windows: list = [None] * len(maps)
    if maps[:, 0, 1].any() or maps[:, 1, 0].any():
        return windows
    h, w = out_hw
    for i, m in enumerate(maps.tolist()):
        edges = []
        for scale, shift, size, limit in ((m[0][0], m[0][2], w, in_hw[1]), (m[1][1], m[1][2], h, in_hw[0])):
            flip = scale < 0
            if flip:  # read the window forwards, mirror the result
                shift, scale = shift + scale * (size - 1), -scale
            start, length = shift - 0.5 * scale + 0.5, scale * size  # x_in = start + (x_out + 0.5) * length / size - 0.5
            a, b = round(start), round(length)
            if abs(start - a) > 1e-6 or abs(length - b) > 1e-6 or a < 0 or b < 1 or a + b > limit:
                break
            edges.append((a, b, flip))
        else:
            (x0, cw, fx), (y0, ch, fy) = edges
            windows[i] = (x0, y0, cw, ch, fx, fy)
    return windows


class BatchState:
    """Bookkeeping common to both backends; subclasses apply the pending work to their pixels.

    While geometric steps are pending each sample has a size of its own (``sizes``: RandomExpand and
    RandomIoUCrop draw one per sample); the pixels are resampled once, when the samples share one
    size again (a Resize or a crop to a size ends such a run).
    """

    def __init__(self, n: int, channels: int, hw: tuple[int, int], rng: np.random.Generator, soft_labels=None):
        self.n = n
        self.channels = channels
        self.rng = rng
        self.soft_labels = soft_labels  # (N x classes) when a transform mixes samples
        self.in_hw = tuple(hw)
        self._hw: tuple[int, int] | None = (int(hw[0]), int(hw[1]))  # the samples' one size after the pending steps
        self._sizes: np.ndarray | None = None  # (n, 2): each sample's size, while they differ
        self.geometry: np.ndarray | None = None
        self.color: np.ndarray | None = None
        self.normalized = False
        self.samples: Any = None  # a list of TargetState  # one per sample when boxes, masks or keypoints ride along
        self._given: dict = {}  # kind -> the padded array given (for the shapes of the result)
        self._box_rows: list = []  # per sample: the rows of the given boxes that are boxes, not -1 padding
        self._instance = False  # the masks are (N, M, H, W), one per box row
        self._last_step = "the input"
        self.clip_length = 1  # > 1: the batch is B clips of this many frames, and each clip gets one draw

    @property
    def targets(self):
        """The soft labels (the name before 0.4; deprecated: :attr:`soft_labels`)."""
        warn_deprecated("BatchState.targets")
        return self.soft_labels

    @targets.setter
    def targets(self, value) -> None:
        warn_deprecated("BatchState.targets")
        self.soft_labels = value

    # -- targets: one TargetState per sample ------------------------------------------------
    def set_targets(self, boxes: np.ndarray | None = None, masks: np.ndarray | None = None,
                    keypoints: np.ndarray | None = None, options: TargetOptions | None = None) -> None:
        """Per-sample targets that every geometric step moves with the pixels: boxes (N, M, 4+) and keypoints
        (N, P, 2+) padded with -1 rows (GluonCV's ``Pad(pad_val=-1)``), label masks (N, H, W[, K]), or with
        ``options.instance_masks`` one mask per box row, (N, M, H, W) (zeros under the -1 rows)."""
        n, (h, w) = self.n, self.in_hw
        options = options or TargetOptions()
        instance = options.instance_masks and masks is not None
        if boxes is not None and (boxes.ndim != 3 or boxes.shape[0] != n or boxes.shape[2] < 4):
            raise InputError(f"batch boxes: expected ({n}, M, 4+) boxes padded with -1 rows, got shape {boxes.shape}")
        if masks is not None and instance and (boxes is None or masks.ndim != 4 or masks.shape[:2] != boxes.shape[:2]
                                               or tuple(masks.shape[2:]) != (h, w)):
            m = "M" if boxes is None else boxes.shape[1]
            raise InputError(f"batch instance masks: expected ({n}, {m}, {h}, {w}), one mask per box row (the boxes "
                             f"given too), got shape {masks.shape}")
        if masks is not None and not instance and (masks.ndim not in (3, 4) or masks.shape[0] != n
                                                   or tuple(masks.shape[1:3]) != (h, w)):
            raise InputError(f"batch masks: expected ({n}, {h}, {w}[, K]) label masks, got shape {masks.shape}")
        if keypoints is not None and (keypoints.ndim != 3 or keypoints.shape[0] != n or keypoints.shape[2] < 2):
            raise InputError(f"batch keypoints: expected ({n}, P, 2+) keypoints padded with -1 rows, got shape "
                             f"{keypoints.shape}")
        if options.keypoints_outside != "drop":
            raise InputError(f"keypoints_outside={options.keypoints_outside!r}: in a batch every point keeps its row, "
                             f"and one that leaves the image becomes a -1 row (GluonCV's padding); leave the default")
        self._given = {k: v for k, v in (("boxes", boxes), ("masks", masks), ("keypoints", keypoints)) if v is not None}
        self._instance = instance
        per_sample = replace(options, keypoints_outside="keep")  # the batch keeps every point's row
        self.samples = []
        self._box_rows = []
        for i in range(n):
            sample_boxes = None
            if boxes is not None:
                self._box_rows.append(np.nonzero(~np.all(boxes[i, :, :4] == -1, axis=1))[0])
                sample_boxes = boxes[i, self._box_rows[i]].astype(np.float64)
            sample_masks = None if masks is None else list(masks[i, self._box_rows[i]]) if instance else [masks[i]]
            self.samples.append(TargetState(
                (h, w), per_sample, sample_boxes, sample_masks,
                None if keypoints is None else keypoints[i].astype(np.float64), track_left=True))

    def moved_targets(self) -> dict:
        """The targets moved so far, padded as given: boxes that left the image (or were padding) and points
        that left it are -1 rows, in their rows of the input; an instance mask whose box left is zeros."""
        out: dict = {}
        if "boxes" in self._given:
            given = self._given["boxes"]
            boxes = np.full(given.shape, -1.0)
            for i, sample in enumerate(self.samples):
                moved, ids = sample.result_boxes_and_ids()
                boxes[i, self._box_rows[i][ids]] = moved
            out["boxes"] = boxes
        if "masks" in self._given:
            if self._instance:
                h, w = self.samples[0].hw
                masks = np.zeros(self._given["masks"].shape[:2] + (h, w), self._given["masks"].dtype)
                for i, sample in enumerate(self.samples):
                    kept = sample.result_masks()
                    if kept:
                        masks[i, self._box_rows[i][sample.result_boxes_and_ids()[1]]] = np.stack(kept)
                out["masks"] = masks
            else:
                for sample in self.samples:
                    sample.flush()
                out["masks"] = np.stack([sample.masks[0] for sample in self.samples])
        if "keypoints" in self._given:
            points = []
            for sample in self.samples:
                sample.flush()
                moved = sample.keypoints.copy()
                moved[sample.left] = -1
                points.append(moved)
            out["keypoints"] = np.stack(points)
        return out

    # -- draws ------------------------------------------------------------------------------
    def draw(self, transform: Any, shape: tuple[int, int, int]) -> Any:
        """``transform``'s parameters for every sample (``sample_batch``); for a batch of clips, one draw per clip
        given to each of its frames."""
        return draw_batch(transform, self.rng, self.n, shape, self.clip_length)

    # -- geometry ------------------------------------------------------------------------
    @property
    def sizes(self) -> np.ndarray:
        """Each sample's (h, w) after the pending steps, (n, 2)."""
        return self._sizes if self._sizes is not None else np.tile(np.asarray(self._hw, np.int64), (self.n, 1))

    @property
    def out_hw(self) -> tuple[int, int]:
        """The samples' one size after the pending steps; an error while they differ."""
        if self._hw is None:
            sizes = sorted({tuple(s) for s in self.sizes.tolist()})
            raise SpecError(f"the batch's samples have different sizes after {self._last_step} "
                            f"({', '.join(f'{h}x{w}' for h, w in sizes[:4])}{', ...' if len(sizes) > 4 else ''}): "
                            f"a batch has one size, so follow it with a step that sets the size (Resize, CenterCrop, "
                            f"RandomCrop, RandomResizedCrop) before any other kind of step")
        return self._hw

    @property
    def hw(self) -> tuple[int, int]:
        """Height and width the next step sees (after the pending ones)."""
        return self.out_hw

    def geometric_step(self, transform) -> None:
        """Run a transform that moves pixels by its ``geometry()`` alone on every sample: its maps, stacked,
        drive the pixels (one resample for a run of such steps) and each sample's targets (its
        TargetState, the per-sample engine). This is the batch path of every such transform, built-in or
        a plugin's: they write ``sample``/``geometry``/``output_hw``, never ``apply_batch``."""
        n, c = self.n, self.channels
        one: Any = self._hw  # the samples' one size, or None while they differ
        sizes = [one] * n if one is not None else [(int(h), int(w)) for h, w in self.sizes.tolist()]
        out_hws: Any
        if one is not None and not transform.needs_targets:
            in_hw = one
            drawn = self.draw(transform, (*in_hw, c)) if transform.random \
                else transform.sample(self.rng, (*in_hw, c))
            if isinstance(drawn, dict):  # one draw for all, or columns of n values (a vectorized draw)
                h, w = transform.output_hw(drawn, in_hw)
                out_hws = (int(h), int(w))  # one size for all
                maps = np.broadcast_to(transform.geometry(drawn, in_hw, out_hws), (n, 3, 3))
                params = [_row(drawn, i) for i in range(n)] if self.samples is not None else None
            else:
                params = list(drawn)
                out_hws = [tuple(int(v) for v in transform.output_hw(p, in_hw)) for p in params]
                maps = np.stack([transform.geometry(p, in_hw, o) for p, o in zip(params, out_hws)])
        else:  # sizes of their own, or a draw that sees each sample's boxes
            params, out_hws, maps_list = [], [], []
            for i, in_hw in enumerate(sizes):
                shape = (*in_hw, c)
                if i % self.clip_length:  # a clip's later frames: its first frame's draw
                    p = params[-1]
                else:
                    p = draw_params(transform, self.rng, shape, None,
                                    self.samples[i] if self.samples is not None else None)
                out_hw = tuple(int(v) for v in transform.output_hw(p, in_hw))
                params.append(p)
                out_hws.append(out_hw)
                maps_list.append(transform.geometry(p, in_hw, out_hw))
            maps = np.stack(maps_list)
        self._compose(index_inverse(maps), out_hws)
        self._last_step = transform.spec_name
        if self.samples is not None:
            assert params is not None  # drawn per sample whenever targets ride along
            per_sample = [out_hws] * n if isinstance(out_hws, tuple) else out_hws
            for sample, p, in_hw, out_hw, forward in zip(self.samples, params, sizes, per_sample, maps):
                sample.step(transform, p, in_hw, out_hw, forward)  # the map drawn above, not geometry() again

    def add_geometry(self, inverse: np.ndarray, out_hw: tuple[int, int] | None = None) -> None:
        """Append a step given as per-sample (N, 3, 3) maps from its output pixel indices to its input pixel
        indices (the resampler's convention; for an ``apply_batch`` of one's own)."""
        hw = (int(out_hw[0]), int(out_hw[1])) if out_hw is not None else self.out_hw
        self._compose(inverse, hw)
        if self.samples is not None:
            for sample, forward in zip(self.samples, forward_from_index_inverse(inverse)):
                sample.move(forward, hw)

    def _compose(self, inverse: np.ndarray, out_hws: Any) -> None:
        """Append a step's resampling maps; ``out_hws`` is its one output size (h, w) or a list of one per sample."""
        self.flush_color()
        self.geometry = inverse.copy() if self.geometry is None else self.geometry @ inverse
        if isinstance(out_hws, tuple):
            self._hw, self._sizes = out_hws, None
            return
        sizes = np.asarray(out_hws, np.int64).reshape(self.n, 2)
        if (sizes == sizes[0]).all():
            self._hw, self._sizes = (int(sizes[0, 0]), int(sizes[0, 1])), None
        else:
            self._hw, self._sizes = None, sizes

    # -- pixels, the same on both backends ------------------------------------------------------
    @property
    def images(self) -> np.ndarray:
        """The batch's pixels after every pending step, as a numpy NHWC array in the 0-255 range (uint8 while the
        batch is; float32 after a step that made it float). Setting it replaces them (same N and channels; a new
        size is taken as the batch's size). For an ``apply_batch`` of one's own: the same on NumPy and device batches
        (a device batch is copied to the host and back)."""
        if self.normalized:
            raise SpecError(f"a step after Normalize reads the batch's pixels ({self._last_step} normalized them): put "
                            f"Normalize last in the batch spec")
        self.flush()
        return self._get_images()

    @images.setter
    def images(self, value: np.ndarray) -> None:
        value = np.asarray(value)
        if value.ndim != 4 or value.shape[0] != self.n or value.shape[3] != self.channels:
            raise InputError(f"BatchState.images: expected ({self.n}, H, W, {self.channels}) pixels, got shape "
                             f"{value.shape}")
        self.flush()
        hw = (int(value.shape[1]), int(value.shape[2]))
        if self.samples is not None and hw != tuple(self.in_hw):
            raise InputError(f"BatchState.images: new pixels of {hw[0]}x{hw[1]} for a {self.in_hw[0]}x{self.in_hw[1]} "
                             f"batch whose targets ride along: a step that changes the size says how with "
                             f"add_geometry(maps, out_hw), so that the boxes, masks and keypoints move too")
        self._set_images(value)
        self.in_hw = self._hw = hw

    def apply_per_image(self, transform: Any, params: Any) -> None:
        """Run a pixel op's ``apply`` on each image of the batch with its row of ``params`` (a list of n dicts, or
        columns of n values): the batch path of every pixel op that writes no ``apply_batch``."""
        images = self.images
        rows = list(params) if isinstance(params, list) else [_row(params, i) for i in range(self.n)]
        out = [transform.apply(images[i], "HWC", **rows[i]) for i in range(self.n)]
        shapes = {np.shape(o) for o in out}
        if shapes != {images.shape[1:]}:
            raise SpecError(f"{transform.spec_name} is a pixel op (target_mode = 'pixel') but apply() returned "
                            f"{sorted(shapes)[0]} for an image of {images.shape[1:]}: a pixel op keeps the image's shape")
        self._set_images(np.stack(out))
        self._last_step = transform.spec_name

    def _get_images(self) -> np.ndarray:
        raise NotImplementedError

    def _set_images(self, images: np.ndarray) -> None:
        raise NotImplementedError

    def add_color(self, matrix: np.ndarray) -> None:
        """Append per-sample (N, 3, 4) affine colour maps (on values in [0, 1])."""
        if self.channels != 3:
            raise InputError(f"colour transforms need 3 channels, the batch has {self.channels}")
        if self.normalized:
            raise SpecError("a colour transform after Normalize: put Normalize last in the batch spec")
        self.flush_geometry()
        if self.color is None:
            self.color = np.tile(np.hstack([np.eye(3), np.zeros((3, 1))]), (self.n, 1, 1))
        square = np.concatenate([self.color, np.tile([[[0, 0, 0, 1.0]]], (self.n, 1, 1))], axis=1)
        self.color = matrix @ square

    def channel_means(self) -> np.ndarray:
        """Per-sample channel means (N, 3) in [0, 1] after the pending colour steps."""
        self.flush_geometry()
        means = self._raw_means()
        if self.color is None:
            return means
        return np.einsum("nij,nj->ni", self.color[:, :, :3], means) + self.color[:, :, 3]

    def flush_geometry(self) -> None:
        if self.geometry is None:
            return
        out_hw = self.out_hw
        if not (np.allclose(self.geometry, np.eye(3)) and out_hw == self.in_hw):
            self._resample(self.geometry, out_hw)
        self.in_hw = out_hw
        self.geometry = None

    def flush_color(self) -> None:
        if self.color is not None:
            self._recolor(self.color)
            self.color = None

    def flush(self) -> None:
        self.flush_geometry()
        self.flush_color()

    # -- per backend ---------------------------------------------------------------------
    def _raw_means(self) -> np.ndarray:
        raise NotImplementedError

    def _resample(self, maps: np.ndarray, out_hw: tuple[int, int]) -> None:
        raise NotImplementedError

    def _recolor(self, matrices: np.ndarray) -> None:
        raise NotImplementedError

    def fill_boxes(self, boxes: list[list], value, noise: bool = False) -> None:
        """Fill each sample's boxes ([x0, y0, w, h]) with ``value`` in [0, 1] (per channel), or with noise."""
        raise NotImplementedError

    def normalize(self, mean: np.ndarray, std: np.ndarray) -> None:
        raise NotImplementedError

    def mix(self, perm: np.ndarray, share: np.ndarray, boxes: list[list] | None = None) -> None:
        """Blend each sample with sample ``perm[i]`` (its own ``share``), or paste the partner's box."""
        raise NotImplementedError

    def mix_targets(self, perm: np.ndarray, share: np.ndarray) -> None:
        raise NotImplementedError

    def result(self):
        """The augmented batch: NCHW float32 (NDArray on the device, or numpy)."""
        raise NotImplementedError


class DeviceState(BatchState):
    """An ``mx.nd.NDArray`` batch, NCHW float32 in [0, 1], worked on where it lives."""

    def __init__(self, data, rng, soft_labels=None):
        if data.dtype == np.uint8:
            data = data.transpose((0, 3, 1, 2)).astype("float32") / 255.0
        elif data.dtype != np.float32:
            data = data.astype("float32")
        super().__init__(data.shape[0], data.shape[1], data.shape[2:], rng, soft_labels)
        self.data = data

    @property
    def ctx(self):
        return self.data.context

    def _raw_means(self):
        return self.data.mean(axis=(2, 3)).asnumpy().astype(np.float64)

    def _get_images(self):
        return np.ascontiguousarray(np.moveaxis(self.data.asnumpy(), 1, 3)) * np.float32(255)

    def _set_images(self, images):
        tensor = np.moveaxis(np.asarray(images, np.float32), 3, 1) / np.float32(255)
        self.data = to_device(np.clip(tensor, 0.0, 1.0), self.ctx)

    def _resample(self, maps, out_hw):
        theta = _to_normalized(self.in_hw) @ maps @ _to_normalized(out_hw, inverse=True)
        grid = mx.nd.GridGenerator(to_device(theta[:, :2].reshape(self.n, 6), self.ctx), transform_type="affine",
                                   target_shape=out_hw)
        self.data = mx.nd.BilinearSampler(self.data, grid)

    def _recolor(self, matrices):
        n, c, h, w = self.data.shape
        matrix = to_device(matrices, self.ctx)
        out = mx.nd.batch_dot(matrix.slice_axis(axis=2, begin=0, end=3), self.data.reshape((n, c, h * w)))
        out = mx.nd.broadcast_add(out, matrix.slice_axis(axis=2, begin=3, end=4))
        self.data = out.clip(0.0, 1.0).reshape((n, c, h, w))

    def _mask(self, boxes):
        n, _, h, w = self.data.shape
        xs = mx.nd.arange(w, ctx=self.ctx).reshape((1, 1, 1, w))
        ys = mx.nd.arange(h, ctx=self.ctx).reshape((1, 1, h, 1))
        mask = mx.nd.zeros((n, 1, h, w), ctx=self.ctx)
        for k in range(max((len(b) for b in boxes), default=0)):
            b = np.array([sample[k] if k < len(sample) else [0, 0, 0, 0] for sample in boxes], np.float32)
            x0, y0 = b[:, 0].reshape(n, 1, 1, 1), b[:, 1].reshape(n, 1, 1, 1)
            x1, y1 = x0 + b[:, 2].reshape(n, 1, 1, 1), y0 + b[:, 3].reshape(n, 1, 1, 1)
            inside = (mx.nd.broadcast_greater_equal(xs, to_device(x0, self.ctx))
                      * mx.nd.broadcast_lesser(xs, to_device(x1, self.ctx))
                      * mx.nd.broadcast_greater_equal(ys, to_device(y0, self.ctx))
                      * mx.nd.broadcast_lesser(ys, to_device(y1, self.ctx)))
            mask = mx.nd.maximum(mask, inside)
        return mask

    def fill_boxes(self, boxes, value, noise=False):
        self.flush()
        mask = self._mask(boxes)
        if noise:
            fill = to_device(self.rng.standard_normal(self.data.shape), self.ctx)
            self.data = self.data * (1 - mask) + mx.nd.broadcast_mul(mask, fill)
        else:
            fill = to_device(np.asarray(value, np.float32).reshape(1, -1, 1, 1), self.ctx)
            self.data = mx.nd.broadcast_add(mx.nd.broadcast_mul(self.data, 1 - mask), mx.nd.broadcast_mul(mask, fill))

    def normalize(self, mean, std):
        self.flush()
        self.normalized = True
        self.data = mx.nd.broadcast_div(mx.nd.broadcast_sub(self.data, to_device(mean.reshape(1, -1, 1, 1), self.ctx)),
                                        to_device(std.reshape(1, -1, 1, 1), self.ctx))

    def mix(self, perm, share, boxes=None):
        self.flush()
        partner = self.data.take(to_device(perm, self.ctx))
        if boxes is None:
            weight = to_device(share.reshape(-1, 1, 1, 1), self.ctx)
            self.data = mx.nd.broadcast_mul(self.data, weight) + mx.nd.broadcast_mul(partner, 1 - weight)
        else:
            mask = self._mask(boxes)
            self.data = self.data * (1 - mask) + mx.nd.broadcast_mul(mask, partner)

    def mix_targets(self, perm, share):
        ctx = self.soft_labels.context
        weight = to_device(share.reshape(-1, 1), ctx)
        partner = self.soft_labels.take(to_device(perm, ctx))
        self.soft_labels = mx.nd.broadcast_mul(self.soft_labels, weight) + mx.nd.broadcast_mul(partner, 1 - weight)

    def result(self):
        self.flush()
        return self.data


class NumpyState(BatchState):
    """A numpy batch kept NHWC in the 0-255 range (uint8 while possible), worked on with OpenCV per sample."""

    def __init__(self, data: np.ndarray, rng, soft_labels=None):
        if data.dtype == np.uint8:
            pixels = data
        else:  # NCHW float in [0, 1]
            pixels = np.ascontiguousarray(np.moveaxis(data.astype(np.float32, copy=False), 1, 3)) * np.float32(255)
        super().__init__(pixels.shape[0], pixels.shape[3], (pixels.shape[1], pixels.shape[2]), rng, soft_labels)
        self.pixels = pixels  # never written in place: every step makes a new array
        self.tensor: np.ndarray | None = None  # set once normalized: NCHW float32, final

    def _compose(self, inverse, out_hws):
        self._back_to_pixels()
        super()._compose(inverse, out_hws)

    def add_color(self, matrix):
        if not self.normalized:
            self._back_to_pixels()
        super().add_color(matrix)

    def _back_to_pixels(self):
        """After Cutout/Mixup made a float tensor, geometry works on it again as NHWC pixels."""
        if self.tensor is not None:
            self.pixels = np.ascontiguousarray(np.moveaxis(self.tensor, 1, 3)) * (1.0 if self.normalized else 255.0)
            self.tensor = None

    def _get_images(self):
        self._back_to_pixels()
        return np.ascontiguousarray(self.pixels)

    def _set_images(self, images):
        self.tensor = None
        self.pixels = images

    def _raw_means(self):
        self.pixels = np.ascontiguousarray(self.pixels)  # once, not per sample (a flip leaves an NCHW view)
        return np.stack([channel_means(image) for image in self.pixels]) / 255.0

    def _resample(self, maps, out_hw):
        h, w = out_hw
        if _shifts_and_flips(maps):
            self.pixels = self._slice(maps, out_hw)
            return
        out = np.empty((self.n, h, w, self.channels), self.pixels.dtype)
        windows = _crop_windows(maps, out_hw, self.pixels.shape[1:3])
        for i in range(self.n):
            if windows[i] is not None:  # a crop resized, maybe mirrored: what the per-sample path does, 2x faster
                x0, y0, cw, ch, flip_x, flip_y = windows[i]
                window = self.pixels[i, y0:y0 + ch, x0:x0 + cw]
                if self.channels in (3, 4) and not (flip_x or flip_y):  # straight into the batch: no copy
                    cv2.resize(window, (w, h), dst=out[i], interpolation=cv2.INTER_LINEAR)
                elif self.channels in (3, 4):
                    cv2.flip(cv2.resize(window, (w, h), interpolation=cv2.INTER_LINEAR), -1 if flip_x and flip_y
                             else 1 if flip_x else 0, dst=out[i])
                else:
                    resized = cv2.resize(window, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, self.channels)
                    out[i] = resized[::-1 if flip_y else 1, ::-1 if flip_x else 1]
                continue
            warped = cv2.warpAffine(np.ascontiguousarray(self.pixels[i]), maps[i, :2], (w, h),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            out[i] = warped.reshape(h, w, self.channels)
        self.pixels = out

    def _slice(self, maps, out_hw):
        """Integer shifts and flips (pad + crop + flip): one window copy per sample out of a zero-padded copy
        of the batch, no resampling. Small images (CIFAR) are copied into NCHW underneath (a transposed view
        is returned), so that the final conversion to the tensor needs no second transposition; large ones
        stay NHWC, as the per-sample OpenCV steps that may follow need them contiguous."""
        h, w = out_hw
        n, src_h, src_w, c = self.pixels.shape
        flip_y, flip_x = maps[:, 1, 1] < 0, maps[:, 0, 0] < 0
        ty, tx = np.rint(maps[:, 1, 2]).astype(np.int64), np.rint(maps[:, 0, 2]).astype(np.int64)
        # each window's first source row/column (read backwards when flipped); a window entirely off the
        # image reads zeros wherever it is, so clipping bounds the padding by the window's size
        y0 = np.clip(np.where(flip_y, ty - (h - 1), ty), -h, src_h)
        x0 = np.clip(np.where(flip_x, tx - (w - 1), tx), -w, src_w)
        top, left = max(0, -int(y0.min())), max(0, -int(x0.min()))
        bottom, right = max(0, int((y0 + h).max()) - src_h), max(0, int((x0 + w).max()) - src_w)
        size = (src_h + top + bottom, src_w + left + right)
        nchw = h * w <= 4096
        if nchw and not flip_y.any() and c <= 4:
            return self._gather_windows(y0 + top, x0 + left, flip_x, (top, left), size, out_hw)
        padded = np.zeros((n, c, *size) if nchw else (n, *size, c), self.pixels.dtype)
        if nchw:
            padded[:, :, top:top + src_h, left:left + src_w] = self.pixels.transpose(0, 3, 1, 2)
        else:
            padded[:, top:top + src_h, left:left + src_w] = self.pixels
        out = np.empty((n, c, h, w) if nchw else (n, h, w, c), self.pixels.dtype)
        ys, xs = (y0 + top).tolist(), (x0 + left).tolist()
        for i, (y, x, fy, fx) in enumerate(zip(ys, xs, flip_y.tolist(), flip_x.tolist())):
            if nchw:
                out[i] = padded[i, :, y:y + h, x:x + w][:, ::-1 if fy else 1, ::-1 if fx else 1]
            else:
                out[i] = padded[i, y:y + h, x:x + w][::-1 if fy else 1, ::-1 if fx else 1]
        return out.transpose(0, 2, 3, 1) if nchw else out

    def _gather_windows(self, ys, xs, flip_x, offset, size, out_hw):
        """``_slice`` for small images without vertical flips, with no loop over the samples: the batch on a
        zero canvas (and its mirror image when a sample is flipped), each sample's window picked by one
        fancy index of the canvases' window view (3x faster on CIFAR's 128). NHWC in memory."""
        n, src_h, src_w, c = self.pixels.shape
        (h, w), (top, left) = out_hw, offset
        flips = bool(flip_x.any())
        canvas = np.zeros((2 if flips else 1, n, *size, c), self.pixels.dtype)
        canvas[0, :, top:top + src_h, left:left + src_w] = self.pixels
        if flips:  # every image mirrored in one OpenCV pass: the batch's rows side by side are one tall image
            rows = (n * size[0], size[1], c)
            cv2.flip(canvas[0].reshape(rows), 1, dst=canvas[1].reshape(rows))
        # a flipped window of columns [x, x + w) is the mirror's columns [width - x - w, width - x), read forwards
        xs = np.where(flip_x, size[1] - xs - w, xs)
        k, n_, rows, cols, _ = canvas.shape  # every window's view: (mirror, n, y, x, c, h, w)
        sm, sn, sy, sx, sc = canvas.strides
        windows = np.lib.stride_tricks.as_strided(canvas, (k, n_, rows - h + 1, cols - w + 1, c, h, w),
                                                  (sm, sn, sy, sx, sc, sy, sx), writeable=False)
        out = windows[flip_x.astype(np.intp), np.arange(n), ys, xs]  # (n, c, h, w), laid out NHWC by numpy
        return np.ascontiguousarray(out.transpose(0, 2, 3, 1))  # a view: NHWC is its memory order

    def _recolor(self, matrices):
        scaled = matrices.copy()
        scaled[:, :, 3] *= 255.0  # the offsets were on [0, 1]
        pixels = np.ascontiguousarray(self.pixels)  # one copy of a transposed view, not one per sample
        out = np.empty(pixels.shape, pixels.dtype)
        for i in range(self.n):  # cv2.transform saturates uint8 results, as clipping to [0, 1] does
            out[i] = cv2.transform(pixels[i], scaled[i])
        if out.dtype != np.uint8:
            np.clip(out, 0, 255, out=out)
        self.pixels = out

    def _pixels_to_tensor(self, scale, offset=None) -> np.ndarray:
        """NHWC pixels to NCHW float32 ``pixels * scale - offset``: a contiguous transpose, in-place passes."""
        n, h, w, c = self.pixels.shape
        view = np.moveaxis(self.pixels, 3, 1)
        if self.pixels.dtype == np.uint8 and 1 < c <= 4 and h * w > 4096 and not view.flags.c_contiguous:
            # large images (ImageNet crops, clips' frames): each one split into its planes and looked up while it
            # is in cache, as Normalize.from_pixels does; a transposed copy of the whole batch costs as much again
            tables = self._tables(scale, offset, c)
            tensor = np.empty((n, c, h, w), np.float32)
            for i in range(n):
                for k, plane in enumerate(cv2.split(self.pixels[i])):
                    cv2.LUT(plane, tables[k], dst=tensor[i, k])
            return tensor
        if self.pixels.dtype == np.uint8 and 1 < c <= 4 and self.pixels.flags.c_contiguous:
            # NHWC in memory (CIFAR-size windows): the batch is one tall image whose planes OpenCV splits in one
            # pass, each plane then looked up into its channel of the tensor: no transposed copy of the batch
            tables = self._tables(scale, offset, c)
            tensor = np.empty((n, c, h, w), np.float32)
            for k, plane in enumerate(cv2.split(self.pixels.reshape(n * h, w, c))):
                cv2.LUT(plane.reshape(n, h * w), tables[k], dst=tensor[:, k].reshape(n, h * w))
            return tensor
        nchw = np.ascontiguousarray(view)  # 10x faster than math on the strided view
        tensor = np.empty(nchw.shape, np.float32)
        n, c, h, w = nchw.shape
        if nchw.dtype == np.uint8 and c <= 4:
            # uint8 -> float32 through one 256-entry table per channel: one OpenCV pass, 2.5x faster than
            # numpy's multiply and subtract; each channel's planes are rows of one strided 2-D view
            tables = self._tables(scale, offset, c)
            for k in range(c):
                src, dst = nchw[:, k].reshape(n, h * w), tensor[:, k].reshape(n, h * w)
                if not np.shares_memory(dst, tensor):  # pragma: no cover - reshape of these views never copies
                    break
                cv2.LUT(src, tables[k], dst=dst)
            else:
                return tensor
        np.multiply(nchw, scale, out=tensor, casting="unsafe")
        if offset is not None:
            np.subtract(tensor, offset, out=tensor)
        return tensor

    @staticmethod
    def _tables(scale, offset, c: int) -> list:
        """One 256-entry float32 table per channel: ``v * scale - offset`` for every uint8 value ``v`` (kept: a
        pipeline asks for the same ones every batch)."""
        scales = np.asarray(scale, np.float32).reshape(-1)
        offsets = np.asarray(0 if offset is None else offset, np.float32).reshape(-1)
        key = (c, scales.tobytes(), offsets.tobytes())
        tables = _TABLES.get(key)
        if tables is None:
            scales, offsets = np.broadcast_to(scales, (c,)), np.broadcast_to(offsets, (c,))
            ramp = np.arange(256, dtype=np.float32)
            tables = [(ramp * scales[k] - offsets[k]).astype(np.float32) for k in range(c)]
            if len(_TABLES) > 64:  # schedules make new ones: keep the newest few
                try:
                    _TABLES.pop(next(iter(_TABLES)), None)
                except (StopIteration, RuntimeError):  # another thread changed it meanwhile: trim next time
                    pass
            _TABLES[key] = tables
        return tables

    def _as_float(self):
        self.flush()
        if self.tensor is None:
            self.tensor = self._pixels_to_tensor(np.float32(1.0 if self.normalized else 1 / 255))
        return self.tensor

    def fill_boxes(self, boxes, value, noise=False):
        tensor = self._as_float().copy()
        fill = np.asarray(value, np.float32).reshape(-1, 1, 1)
        for i, sample in enumerate(boxes):
            for x0, y0, w, h in sample:
                region = tensor[i, :, y0 : y0 + h, x0 : x0 + w]
                region[...] = self.rng.standard_normal(region.shape) if noise else fill
        self.tensor = tensor

    def normalize(self, mean, std):
        self.flush()
        if self.tensor is None and not self.normalized:  # pixels straight to normalized NCHW, one conversion
            scale = (1.0 / (255.0 * std)).astype(np.float32).reshape(1, -1, 1, 1)
            self.tensor = self._pixels_to_tensor(scale, (mean / std).astype(np.float32).reshape(1, -1, 1, 1))
        else:
            self.tensor = (self._as_float() - mean.reshape(1, -1, 1, 1)) / std.reshape(1, -1, 1, 1)
        self.normalized = True

    def mix(self, perm, share, boxes=None):
        tensor = self._as_float()
        partner = tensor[perm]
        if boxes is None:
            w = share.astype(np.float32).reshape(-1, 1, 1, 1)
            self.tensor = tensor * w + partner * (1 - w)
        else:
            out = tensor.copy()
            for i, sample in enumerate(boxes):
                for x0, y0, w, h in sample:
                    out[i, :, y0 : y0 + h, x0 : x0 + w] = partner[i, :, y0 : y0 + h, x0 : x0 + w]
            self.tensor = out

    def mix_targets(self, perm, share):
        labels = self.soft_labels.asnumpy() if hasattr(self.soft_labels, "asnumpy") else np.asarray(self.soft_labels)
        w = share.reshape(-1, 1).astype(np.float32)
        self.soft_labels = labels * w + labels[perm] * (1 - w)

    def result(self):
        return np.ascontiguousarray(self._as_float(), dtype=np.float32)
