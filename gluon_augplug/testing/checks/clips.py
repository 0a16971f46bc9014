"""The harness's check of the clip path (see :mod:`gluon_augplug.testing.conformance`)."""
from __future__ import annotations

import warnings

import numpy as np

from ...contract import views as view_count
from ...errors import ReplayError

from .registry import SEEDS, Skip, check
from ..context import CheckContext


def sample_clip(img: np.ndarray, frames: int = 4) -> np.ndarray:
    """A clip of ``frames`` distinct frames: ``img`` shifted a few pixels further right in each."""
    return np.stack([np.roll(img, 3 * k, axis=1) for k in range(frames)])


@check("clips", per_sample=True, doc=(
    'a clip gets one draw for all its frames: a clip of equal frames comes out with equal frames, and each '
    'frame of a clip is what replaying the clip\'s record on that frame gives (draw in sample(), not in apply())'))
def check_clips(ctx: CheckContext) -> str | None:
    img = ctx.images.get("cat_small", next(iter(ctx.images.values())))
    views = view_count(ctx.transform())
    if views > 1:
        tw, th = ctx.transform().size
        img = np.ascontiguousarray(img[:max(th, img.shape[0])])
        if views == 3:  # three views along the long side of frames whose short side is the views' size
            img = np.ascontiguousarray(np.resize(img, (th, max(tw, 2 * th), img.shape[2])))
    frames = 4
    for seed in SEEDS[:4]:
        pipe = ctx.pipeline(seed)
        still = np.stack([img] * frames)
        with warnings.catch_warnings():  # a plain callable's warning that each frame calls it anew: tested here
            warnings.simplefilter("ignore")
            out = np.asarray(pipe(still))
        if len(out) != views * frames:
            return f"a clip of {frames} frames came out with {len(out)} (expected {views * frames})"
        groups = out.reshape((views, frames) + out.shape[1:]) if views == 1 or views == 3 else \
            out.reshape((frames, views) + out.shape[1:]).swapaxes(0, 1)
        for group in groups:
            if not all(np.array_equal(group[0], f) for f in group[1:]):
                return (f"a clip of {frames} equal frames came out with different frames (seed {seed}): each frame "
                        f"got its own draw; draw the parameters in sample(), apply them in apply()")
        if views > 1:
            continue
        moving = sample_clip(img, frames)
        out, record = pipe.apply_with_params(moving)
        for k in range(frames):
            try:
                again = np.asarray(pipe.replay(moving[k], record))
            except ReplayError:  # a plain callable without an rng keyword: nothing to replay, nothing drawn once
                break
            if again.shape != out[k].shape or not np.array_equal(again, out[k]):
                return (f"frame {k} of a clip differs from replaying the clip's record on that frame (seed {seed}): "
                        f"an apply_clip() of its own must give what apply() gives on each frame")
    if ctx.declared_random():
        box = ctx.boxes_for(img)
        boxes = None if box is None else [box, box]  # a clip's boxes: one array per frame
        seen = {np.asarray(ctx.pipeline(seed).apply_clip(sample_clip(img, 2), boxes=boxes).image).tobytes()
                for seed in SEEDS}
        if len(seen) < 2:
            raise Skip("seeds 0-7 gave the same clip (a draw that changes nothing on this clip)")
    return None
