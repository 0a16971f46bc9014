"""Clips through a per-sample pipeline: (T, H, W, C) arrays, NDArrays or lists of frames, one draw for all."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, InputTypeError
from ..transforms.arrays import HWC, check_image, is_ndarray, like_input, to_numpy

MAX_FRAMES = 100_000  # in one clip (views included)


def is_clip(obj: Any) -> bool:
    """True for what a per-sample pipeline takes as a clip: a list or tuple of frames, or a 4-D array
    (one image is 3-D; batches go to batch pipelines)."""
    if isinstance(obj, (list, tuple)):
        return True
    ndim = getattr(obj, "ndim", None)
    return ndim == 4 and (isinstance(obj, np.ndarray) or is_ndarray(obj))


def to_clip(obj: Any) -> np.ndarray:
    """A clip as one (T, H, W, C) numpy array, every frame checked as an image and of one shape."""
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise InputError("clip: a clip needs at least one frame, got an empty list")
        if len(obj) > MAX_FRAMES:
            raise InputError(f"clip: at most {MAX_FRAMES} frames, got {len(obj)}")
        frames: list[np.ndarray] = []
        for i, frame in enumerate(obj):
            try:
                arr = to_numpy(frame)
            except InputTypeError:
                raise InputTypeError(f"clip: frame {i} is a {type(frame).__module__}.{type(frame).__name__}, "
                                     f"expected an HWC image as mxnet.nd.NDArray or numpy.ndarray") from None
            check_image(arr, HWC, f"clip frame {i}")
            if frames and arr.shape != frames[0].shape or frames and arr.dtype != frames[0].dtype:
                raise InputError(f"clip: frame {i} is {arr.shape} {arr.dtype}, frame 0 {frames[0].shape} "
                                 f"{frames[0].dtype}: a clip's frames share one shape and type")
            frames.append(arr)
        return np.stack(frames)
    clip = to_numpy(obj)
    if clip.shape[0] < 1:
        raise InputError(f"clip: a clip needs at least one frame, got shape {tuple(clip.shape)}")
    if clip.shape[0] > MAX_FRAMES:
        raise InputError(f"clip: at most {MAX_FRAMES} frames, got {clip.shape[0]}")
    check_image(clip[0], HWC, "clip frame 0")  # the frames share shape and type: the first one speaks for all
    if clip.dtype.kind == "f" and not np.isfinite(clip.sum(dtype=np.float64)) and not np.isfinite(clip).all():
        raise InputError(f"clip: the float clip holds NaN or infinite pixels ({int((~np.isfinite(clip)).sum())} of "
                         f"{clip.size} values)")
    return clip


def like_clip(out: np.ndarray, original: Any) -> Any:
    """The augmented clip in the caller's form: a list of frames for a list (each frame numpy or NDArray as
    the first one given), else one array of the given type."""
    if isinstance(original, (list, tuple)):
        first = original[0]
        return [like_input(np.ascontiguousarray(frame), first) for frame in out]
    return like_input(out, original)


def per_frame(targets: Any, frames: int, kind: str) -> list | None:
    """A clip's targets of one kind, one entry per frame: a list or tuple of T, or an array whose first axis
    is the frames."""
    if targets is None:
        return None
    if isinstance(targets, (list, tuple)) or hasattr(targets, "shape"):
        items = list(targets) if isinstance(targets, (list, tuple)) else [targets[i] for i in range(len(targets))]
        if len(items) == frames:
            return items
        raise InputError(f"clip {kind}: expected one entry per frame ({frames}), got {len(items)}")
    raise InputError(f"clip {kind}: expected a list with one entry per frame, got {type(targets).__name__}")
