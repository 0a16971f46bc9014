"""Images in and out of a transform: NDArray or numpy, their checks and layouts."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError, InputTypeError

HWC = "HWC"
CHW = "CHW"


def is_ndarray(obj: Any) -> bool:
    """True for an ``mxnet.nd.NDArray`` (checked without importing MXNet)."""
    return type(obj).__module__.startswith("mxnet") and hasattr(obj, "asnumpy")


def to_numpy(img: Any) -> np.ndarray:
    if isinstance(img, np.ndarray):
        return img
    if is_ndarray(img):
        return img.asnumpy()
    raise InputTypeError(
        f"expected an image as mxnet.nd.NDArray or numpy.ndarray, got {type(img).__module__}.{type(img).__name__}"
    )


def like_input(out: np.ndarray, original: Any) -> Any:
    """Return ``out`` in the type of ``original`` (NDArray on the same context, or numpy)."""
    if is_ndarray(original):
        from .._mxnet import nd_from_numpy

        if out.base is not None or not out.flags.c_contiguous:  # zero-copy needs an array of its own
            out = np.ascontiguousarray(out) if out.base is None else out.copy()
        result = nd_from_numpy(out)  # zero-copy hand-over: `out` is ours alone
        ctx = original.context
        if not (ctx.device_typeid == 1 and ctx.device_id == 0):
            result = result.as_in_context(ctx)
        # an mxnet.numpy array (code run under npx.set_np(), as D2L's) gets one back, without a copy
        return result.as_np_ndarray() if type(original).__module__.startswith("mxnet.numpy") else result
    return out


def check_image(img: np.ndarray, layout: str = HWC, where: str = "pipeline") -> None:
    """Raise a clear error unless ``img`` is a non-empty 3-D image in ``layout`` with 1, 3 or 4 channels,
    of uint8, float32 or float64 pixels, all finite.

    Raises
    ------
    InputError
        The shape is wrong or empty, or a float image holds NaN or infinity.
    InputTypeError
        The pixel type is not uint8, float32 or float64 (float16: convert it to float32 first).
    """
    if img.ndim != 3:
        raise InputError(f"{where}: expected one {layout} image with 3 dimensions, got shape {tuple(img.shape)}"
                         + (" (a batch? per-sample transforms take one image)" if img.ndim == 4 else ""))
    channels = img.shape[2] if layout == HWC else img.shape[0]
    if channels not in (1, 3, 4):
        raise InputError(f"{where}: expected an {layout} image with 1, 3 or 4 channels, got shape {tuple(img.shape)}")
    height, width = (img.shape[0], img.shape[1]) if layout == HWC else (img.shape[1], img.shape[2])
    if height < 1 or width < 1:
        raise InputError(f"{where}: the image is empty ({height}x{width} pixels, shape {tuple(img.shape)})")
    if img.dtype not in _PIXEL_TYPES:
        hint = " (convert it with .astype('float32'))" if img.dtype.kind == "f" else ""
        raise InputTypeError(f"{where}: expected uint8, float32 or float64 pixels, got {img.dtype}{hint}")
    # a sum is far cheaper than isfinite over every pixel, and is finite exactly when the pixels are
    # (or so large that they are out of any image's range: then the precise check below names them)
    if img.dtype.kind == "f" and not np.isfinite(img.sum(dtype=np.float64)) and not np.isfinite(img).all():
        raise InputError(f"{where}: the float image holds NaN or infinite pixels "
                         f"({int((~np.isfinite(img)).sum())} of {img.size} values)")


_PIXEL_TYPES = (np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))


def hwc_shape(img: np.ndarray, layout: str) -> tuple[int, int, int]:
    if layout == CHW:
        c, h, w = img.shape
        return h, w, c
    return img.shape  # type: ignore[return-value]


def guess_layout(img: np.ndarray) -> str:
    """Layout of an image handed to a transform called outside a pipeline."""
    if img.dtype.kind == "f" and img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[2] not in (1, 3):
        return CHW
    return HWC
