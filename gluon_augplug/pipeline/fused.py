"""Decoding fused with a pipeline's first crop or resize.

A pipeline given an :class:`~gluon_augplug.io.decode.EncodedImage` JPEG reads the image's size from
its header, lets its first step draw its parameters on that full size (the same draw, from the same
generator, as for the decoded image), and asks that step which window it reads and how large its
output is (:meth:`Transform.decode_window`). When the window keeps at least the output's pixels at
1/2, 1/4 or 1/8 scale, libjpeg-turbo decodes at that scale in the DCT domain (cheaper: less inverse
DCT, colour conversion and memory) and the window is resampled from the reduced image in one warp.

What stays exact: the draws, the record (parameters in full-size pixels) and the targets (boxes,
masks and keypoints move by the step's own geometry on the full size). What differs: pixels, by
the difference between DCT-domain scaling and a bilinear resize (a smoother, less aliased picture);
:data:`TOLERANCE` bounds it and the tests hold it. At scale 1 the result is the unfused one exactly.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ..contract import hook
from ..io.decode import SCALES, EncodedImage
from ..errors import ReplayError
from ..transforms.base import HWC, DecodeWindow, Record, Transform
from ..transforms.functional import resolve_interpolation

# the largest mean absolute difference (0-255 levels) from full decode + the same step on photographs.
# Measured on the cat (500x375): 0 at scale 1 (always for ImageNet's 224 crops of such images), 1.6 for
# 112-pixel crops, 3.8 for a resize to 64, 6-8 for 32-pixel crops, where bilinear resampling of the full
# image aliases (DCT-domain scaling averages each block: the fused picture is the smoother one)
TOLERANCE = 10.0


def decode_scale(window: DecodeWindow | None) -> int:
    """The largest of 1, 2, 4, 8 at which the window still holds at least the output's pixels."""
    if window is None:
        return 1
    out_h, out_w = window.out_hw
    need = max(out_w / max(window.w, 1e-9), out_h / max(window.h, 1e-9))  # output pixels per input pixel
    return max(k for k in SCALES if k * need <= 1.0 or k == 1)


def fusable(step: Transform) -> bool:
    """A step whose draw the fused path may make itself: it declares its window, runs through
    :meth:`Transform.run` (a class that overrides ``run`` may draw differently) and keeps HWC."""
    cls = type(step)
    return (cls.decode_window is not Transform.decode_window and cls.run is Transform.run
            and not hook(step, "needs_targets") and step.output_layout(HWC) == HWC)


def resample(small: np.ndarray, window: DecodeWindow, scale: int) -> np.ndarray:
    """The window (in full-size pixels) of an image decoded at ``1/scale``, resized to the output size."""
    out_h, out_w = window.out_hw
    # output pixel centre -> reduced-image index: reduced pixel j covers full pixels [j * scale, (j + 1) * scale)
    sx, sy = window.w / (scale * out_w), window.h / (scale * out_h)
    inverse = np.array([[sx, 0.0, 0.5 * sx + window.x0 / scale - 0.5],
                        [0.0, sy, 0.5 * sy + window.y0 / scale - 0.5]])
    code = resolve_interpolation(int(window.interpolation), (window.w, window.h), (out_w, out_h))
    flags = cv2.INTER_LINEAR if code == cv2.INTER_AREA else code
    out = cv2.warpAffine(small, inverse, (out_w, out_h), flags=flags | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REPLICATE)
    return out[:, :, None] if out.ndim == 2 else out


def run_encoded(root: Any, encoded: EncodedImage, rng: np.random.Generator, replay: Record | None,
                state: Any) -> tuple[np.ndarray, Record, tuple[int, int]]:
    """Run the pipeline's root Compose on ``encoded``; returns the output, the record and the full size."""
    first = root.transforms[0] if root.transforms else None
    if first is None or encoded.format != "JPEG" or not fusable(first):
        img = encoded.decode()
        out, record = _run_root(root, img, rng, replay, state)
        return out, record, (img.shape[0], img.shape[1])
    children = _children(root, replay)
    hw = encoded.size()
    params = first._replayed_params(children[0]) if children is not None else first.sample(rng, (*hw, 3))
    window = first.decode_window(params, hw)
    scale = decode_scale(window)
    if scale == 1:
        img = encoded.decode()
        step_replay = {"name": first.spec_name, "params": params}
        out, first_record = first.run(img, rng, HWC, step_replay) if state is None else \
            first.run(img, rng, HWC, step_replay, targets=state)
    else:
        out = resample(encoded.decode(scale), window, scale)
        if state is not None:
            state.step(first, params, hw, out.shape[:2])
        first_record = {"name": first.spec_name, "params": params, "in_hw": list(hw), "out_hw": list(out.shape[:2])}
    rest = children[1:] if children is not None else None
    out, records = root._run_sequence(root.transforms[1:], out, rng, first.output_layout(HWC), rest, state, False)
    return out, {"name": root.spec_name, "params": {}, "children": [first_record] + records}, hw


def _children(root: Any, replay: Record | None) -> list | None:
    _, children = root._replay_parts(replay)
    if children is not None and len(children) != len(root.transforms):
        raise ReplayError(f"recorded Compose has {len(children)} steps, this one {len(root.transforms)}")
    return children


def _run_root(root: Any, img: np.ndarray, rng: np.random.Generator, replay: Record | None, state: Any) -> tuple:
    return root.run(img, rng, HWC, replay) if state is None else root.run(img, rng, HWC, replay, targets=state)
