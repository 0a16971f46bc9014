"""A batch being augmented, with its pending per-sample geometry and colour.

Geometric steps accumulate one per-sample 3x3 map (output pixel -> input pixel), applied in
one resample; colour steps accumulate one per-sample 3x4 affine map on values in [0, 1],
applied in one pass. Two backends share this bookkeeping:

* :class:`DeviceState` keeps an NCHW float32 ``mx.nd.NDArray`` in [0, 1] on its device and uses
  ``GridGenerator`` + ``BilinearSampler`` and ``batch_dot``: the pixels never leave a GPU.
* :class:`NumpyState` keeps an NHWC numpy batch in the 0-255 range (uint8 as long as possible)
  and uses one OpenCV call per sample (``warpAffine``, ``transform``), far faster than MXNet's
  CPU operators; the result is converted to NCHW float32 once.
"""
from __future__ import annotations

import cv2
import numpy as np

from .._lazy import mxnet as mx
from ..errors import InputError, SpecError
from ..targets.geometry import invert_affine
from ..transforms.functional import channel_means

GRAY = np.array([0.299, 0.587, 0.114])


def _to_normalized(size_hw: tuple[int, int], inverse: bool = False) -> np.ndarray:
    """Pixel -> MXNet's align-corners grid coordinates (-1 at the first pixel, 1 at the last), or back."""
    h, w = size_hw
    sx, sy = 2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)
    if inverse:  # written out: np.linalg.inv costs milliseconds with this machine's OpenBLAS
        return np.array([[1 / sx, 0, 1 / sx], [0, 1 / sy, 1 / sy], [0, 0, 1]])
    return np.array([[sx, 0, -1], [0, sy, -1], [0, 0, 1]])


_EDGES_FROM_INDEX = np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1.0]])
_INDEX_FROM_EDGES = np.array([[1.0, 0, -0.5], [0, 1.0, -0.5], [0, 0, 1.0]])


def to_device(array: np.ndarray, ctx) -> "mx.nd.NDArray":
    """A float32 numpy array as an NDArray on ``ctx`` (zero-copy hand-over of a fresh array on the CPU)."""
    fresh = np.array(array, dtype=np.float32, order="C")
    nd = mx.nd.from_numpy(fresh, zero_copy=True)
    return nd if nd.context == ctx else nd.as_in_context(ctx)


def _shifts_and_flips(maps: np.ndarray) -> bool:
    """True when every map is ``in = +-out + integer`` on each axis (no scaling, rotation or shear)."""
    linear = maps[:, :2, :2]
    return bool(np.all(np.abs(linear[:, [0, 1], [0, 1]]) == 1) and np.all(linear[:, [0, 1], [1, 0]] == 0)
                and np.allclose(maps[:, :2, 2], np.round(maps[:, :2, 2])))


class BatchState:
    """Bookkeeping common to both backends; subclasses apply the pending work to their pixels."""

    def __init__(self, n: int, channels: int, hw: tuple[int, int], rng: np.random.Generator, targets=None):
        self.n = n
        self.channels = channels
        self.rng = rng
        self.targets = targets  # soft labels (N x classes) when a transform mixes samples
        self.in_hw = tuple(hw)
        self.out_hw = tuple(hw)
        self.geometry: np.ndarray | None = None
        self.color: np.ndarray | None = None
        self.normalized = False
        self.boxes: np.ndarray | None = None  # (N, M, 4+) pixel xyxy, GluonCV's -1 rows for padding
        self.masks: np.ndarray | None = None  # (N, H, W) or (N, H, W, K) label masks
        self.keypoints: np.ndarray | None = None  # (N, P, 2+) x, y, -1 rows for padding or points that left

    def set_boxes(self, boxes: np.ndarray) -> None:
        """Padded per-sample boxes that every geometric step moves with the pixels."""
        if boxes.ndim != 3 or boxes.shape[0] != self.n or boxes.shape[2] < 4:
            raise InputError(f"batch boxes: expected ({self.n}, M, 4+) boxes padded with -1 rows, got shape "
                             f"{boxes.shape}")
        self.boxes = boxes.astype(np.float64)

    def set_masks(self, masks: np.ndarray) -> None:
        """Per-sample label masks of the batch's size that every geometric step moves (nearest neighbour)."""
        if masks.ndim not in (3, 4) or masks.shape[0] != self.n or tuple(masks.shape[1:3]) != self.in_hw:
            raise InputError(f"batch masks: expected ({self.n}, {self.in_hw[0]}, {self.in_hw[1]}[, K]) label masks, "
                             f"got shape {masks.shape}")
        self.masks = masks

    def set_keypoints(self, keypoints: np.ndarray) -> None:
        """Padded per-sample keypoints (x, y, extra columns; -1 rows for padding) moved with the pixels."""
        if keypoints.ndim != 3 or keypoints.shape[0] != self.n or keypoints.shape[2] < 2:
            raise InputError(f"batch keypoints: expected ({self.n}, P, 2+) keypoints padded with -1 rows, got shape "
                             f"{keypoints.shape}")
        self.keypoints = keypoints.astype(np.float64)

    def _move_targets(self, inverse: np.ndarray, out_hw: tuple[int, int]) -> None:
        """Move every target by one step given as maps from output to input pixel indices."""
        forward = invert_affine(_EDGES_FROM_INDEX @ inverse @ _INDEX_FROM_EDGES)  # on pixel edges, input -> output
        if self.boxes is not None:
            self._move_boxes(forward, out_hw)
        if self.masks is not None:
            from ..targets.geometry import warp_mask

            self.masks = np.stack([warp_mask(m, f, out_hw) for m, f in zip(self.masks, forward)])
        if self.keypoints is not None:
            h, w = out_hw
            points = self.keypoints
            valid = ~np.all(points[:, :, :2] == -1, axis=2)
            x = forward[:, 0, 0, None] * points[:, :, 0] + forward[:, 0, 1, None] * points[:, :, 1] + forward[:, 0, 2, None]
            y = forward[:, 1, 0, None] * points[:, :, 0] + forward[:, 1, 1, None] * points[:, :, 1] + forward[:, 1, 2, None]
            moved = points.copy()
            moved[:, :, 0], moved[:, :, 1] = x, y
            valid &= (x >= 0) & (x < w) & (y >= 0) & (y < h)  # a point that left the image becomes a -1 row
            moved[~valid] = -1
            self.keypoints = moved

    def _move_boxes(self, forward: np.ndarray, out_hw: tuple[int, int]) -> None:
        """Move the boxes by one step's forward maps (pixel edges); clip to the output, and turn boxes
        that left it into -1 rows."""
        valid = ~np.all(self.boxes[:, :, :4] == -1, axis=2)
        x0, y0, x1, y1 = (self.boxes[:, :, i] for i in range(4))
        xs = np.stack([x0, x1, x0, x1], axis=2)
        ys = np.stack([y0, y0, y1, y1], axis=2)
        mx_ = forward[:, 0, 0, None, None] * xs + forward[:, 0, 1, None, None] * ys + forward[:, 0, 2, None, None]
        my_ = forward[:, 1, 0, None, None] * xs + forward[:, 1, 1, None, None] * ys + forward[:, 1, 2, None, None]
        h, w = out_hw
        moved = self.boxes.copy()
        moved[:, :, 0], moved[:, :, 2] = np.clip(mx_.min(axis=2), 0, w), np.clip(mx_.max(axis=2), 0, w)
        moved[:, :, 1], moved[:, :, 3] = np.clip(my_.min(axis=2), 0, h), np.clip(my_.max(axis=2), 0, h)
        valid &= (moved[:, :, 2] > moved[:, :, 0]) & (moved[:, :, 3] > moved[:, :, 1])
        moved[~valid] = -1
        self.boxes = moved

    @property
    def hw(self) -> tuple[int, int]:
        """Height and width the next geometric step sees (after the pending ones)."""
        return self.out_hw

    def add_geometry(self, inverse: np.ndarray, out_hw: tuple[int, int] | None = None) -> None:
        """Append a step given as per-sample (N, 3, 3) maps from its output pixels to its input pixels."""
        self.flush_color()
        if self.geometry is None:
            self.geometry = np.tile(np.eye(3), (self.n, 1, 1))
        self.geometry = self.geometry @ inverse
        if self.boxes is not None or self.masks is not None or self.keypoints is not None:
            self._move_targets(inverse, tuple(out_hw) if out_hw is not None else self.out_hw)
        if out_hw is not None:
            self.out_hw = tuple(out_hw)

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
        if not (np.allclose(self.geometry, np.eye(3)) and self.out_hw == self.in_hw):
            self._resample(self.geometry, self.out_hw)
        self.in_hw = self.out_hw
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

    def __init__(self, data, rng, targets=None):
        if data.dtype == np.uint8:
            data = data.transpose((0, 3, 1, 2)).astype("float32") / 255.0
        elif data.dtype != np.float32:
            data = data.astype("float32")
        super().__init__(data.shape[0], data.shape[1], data.shape[2:], rng, targets)
        self.data = data

    @property
    def ctx(self):
        return self.data.context

    def _raw_means(self):
        return self.data.mean(axis=(2, 3)).asnumpy().astype(np.float64)

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
        ctx = self.targets.context
        weight = to_device(share.reshape(-1, 1), ctx)
        partner = self.targets.take(to_device(perm, ctx))
        self.targets = mx.nd.broadcast_mul(self.targets, weight) + mx.nd.broadcast_mul(partner, 1 - weight)

    def result(self):
        self.flush()
        return self.data


class NumpyState(BatchState):
    """A numpy batch kept NHWC in the 0-255 range (uint8 while possible), worked on with OpenCV per sample."""

    def __init__(self, data: np.ndarray, rng, targets=None):
        if data.dtype == np.uint8:
            pixels = data
        else:  # NCHW float in [0, 1]
            pixels = np.ascontiguousarray(np.moveaxis(data.astype(np.float32, copy=False), 1, 3)) * np.float32(255)
        super().__init__(pixels.shape[0], pixels.shape[3], pixels.shape[1:3], rng, targets)
        self.pixels = pixels  # never written in place: every step makes a new array
        self.tensor: np.ndarray | None = None  # set once normalized: NCHW float32, final

    def add_geometry(self, inverse, out_hw=None):
        self._back_to_pixels()
        super().add_geometry(inverse, out_hw)

    def add_color(self, matrix):
        if not self.normalized:
            self._back_to_pixels()
        super().add_color(matrix)

    def _back_to_pixels(self):
        """After Cutout/Mixup made a float tensor, geometry works on it again as NHWC pixels."""
        if self.tensor is not None:
            self.pixels = np.ascontiguousarray(np.moveaxis(self.tensor, 1, 3)) * (1.0 if self.normalized else 255.0)
            self.tensor = None

    def _raw_means(self):
        self.pixels = np.ascontiguousarray(self.pixels)  # once, not per sample (a flip leaves an NCHW view)
        return np.stack([channel_means(image) for image in self.pixels]) / 255.0

    def _resample(self, maps, out_hw):
        h, w = out_hw
        if _shifts_and_flips(maps):
            self.pixels = self._slice(maps, out_hw)
            return
        out = np.empty((self.n, h, w, self.channels), self.pixels.dtype)
        for i in range(self.n):
            warped = cv2.warpAffine(np.ascontiguousarray(self.pixels[i]), maps[i, :2], (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
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
        nchw = np.ascontiguousarray(np.moveaxis(self.pixels, 3, 1))  # 10x faster than math on the strided view
        tensor = np.empty(nchw.shape, np.float32)
        n, c, h, w = nchw.shape
        if nchw.dtype == np.uint8 and c <= 4:
            # uint8 -> float32 through one 256-entry table per channel: one OpenCV pass, 2.5x faster than
            # numpy's multiply and subtract; each channel's planes are rows of one strided 2-D view
            scales = np.broadcast_to(np.asarray(scale, np.float32).reshape(-1), (c,))
            offsets = np.broadcast_to(np.asarray(0 if offset is None else offset, np.float32).reshape(-1), (c,))
            ramp = np.arange(256, dtype=np.float32)
            for k in range(c):
                src, dst = nchw[:, k].reshape(n, h * w), tensor[:, k].reshape(n, h * w)
                if not np.shares_memory(dst, tensor):  # pragma: no cover - reshape of these views never copies
                    break
                cv2.LUT(src, (ramp * scales[k] - offsets[k]).astype(np.float32), dst=dst)
            else:
                return tensor
        np.multiply(nchw, scale, out=tensor, casting="unsafe")
        if offset is not None:
            np.subtract(tensor, offset, out=tensor)
        return tensor

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
        targets = self.targets.asnumpy() if hasattr(self.targets, "asnumpy") else np.asarray(self.targets)
        w = share.reshape(-1, 1).astype(np.float32)
        self.targets = targets * w + targets[perm] * (1 - w)

    def result(self):
        return np.ascontiguousarray(self._as_float(), dtype=np.float32)
