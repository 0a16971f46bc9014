"""A clip is a batch of frames sharing one draw: every kind of target an image takes, a clip's frames take too
(polygons and instance masks included), and each frame's targets are what replaying the clip's record on that
frame alone gives."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.testing import cat_image

SPEC = "RandomFlipLeftRight, RandomResizedCrop(96, scale=(0.3, 1.0)), RandomRotation(20)"


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    cat = cat_image()[:240, :320]
    return np.stack([np.roll(cat, 6 * t, axis=1) for t in range(3)])


def _targets(t: int):
    x0 = 60.0 + 6 * t
    boxes = np.array([[x0, 40.0, x0 + 120, 200.0, 1.0], [10.0, 10.0, 50.0, 60.0, 2.0]])
    polygons = [[np.array([[x0, 40.0], [x0 + 120, 40.0], [x0 + 60, 200.0]])], [np.array([[10.0, 10.0], [50, 10],
                                                                                         [50, 60], [10, 60]])]]
    masks = np.zeros((2, 240, 320), np.uint8)
    masks[0, 40:200, int(x0):int(x0) + 120] = 1
    masks[1, 10:60, 10:50] = 1
    return boxes, polygons, masks


def test_a_clips_frames_take_polygons_and_instance_masks_like_images(clip):
    pipe = build_pipeline(SPEC, seed=3, targets={"kinds": ["boxes", "masks", "polygons"],
                                                 "options": {"instance_masks": True}})
    given = [_targets(t) for t in range(len(clip))]
    done = pipe.apply_clip(clip, boxes=[g[0] for g in given], polygons=[g[1] for g in given],
                           masks=[g[2] for g in given])
    assert done.image.shape == (3, 96, 96, 3)
    assert len(done.boxes) == len(done.polygons) == len(done.masks) == 3
    for t in range(3):
        alone = pipe.replay(clip[t], done.record, boxes=given[t][0], polygons=given[t][1], masks=given[t][2])
        image, boxes, masks, polygons = alone
        np.testing.assert_array_equal(image, done.image[t])
        np.testing.assert_allclose(done.boxes[t], boxes)
        np.testing.assert_array_equal(done.masks[t], masks)
        assert len(done.polygons[t]) == len(polygons) == len(done.boxes[t])
        for ours, theirs in zip(done.polygons[t], polygons):
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a, b)


def test_apply_sends_a_clip_with_polygons_to_the_clip_path(clip):
    pipe = build_pipeline("RandomFlipLeftRight(p=1.0)", seed=0)
    outline = [[np.array([[10.0, 20.0], [30.0, 20.0], [20.0, 40.0]])]]
    done = pipe.apply(clip, polygons=[outline] * 3)
    w = clip.shape[2]
    for frame in done.polygons:
        np.testing.assert_allclose(frame[0][0][:, 0], w - outline[0][0][:, 0])
