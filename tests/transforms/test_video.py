"""Clips: one draw for all frames, per sample and in batches, and GluonCV's video recipes side by side with
GluonCV's own classes (gluoncv.data.transforms.video) on real frames (the cat, panned)."""
from __future__ import annotations

import random

import mxnet as mx
import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.constants import IMAGENET_MEAN, IMAGENET_STD
from gluon_augplug.errors import InputError, SpecError
from gluon_augplug.testing.checks.clips import sample_clip
from gluon_augplug.transforms.video import crop_sizes, fixed_offsets

video = pytest.importorskip("gluoncv.data.transforms.video")


@pytest.fixture(scope="module")
def frames(cat):
    """A real 8-frame clip of 340x256 frames: the cat resized to GluonCV's frame size, panned 4 pixels a frame."""
    import cv2

    base = cv2.resize(np.ascontiguousarray(cat), (372, 256))
    return np.stack([base[:, 4 * t:4 * t + 340] for t in range(8)])


def _gluoncv(transform, clip, seed):
    random.seed(seed)
    np.random.seed(seed)
    return np.stack(transform(list(clip)))


# -- one draw for every frame ------------------------------------------------------------------------
def test_a_clip_is_every_frame_replayed_with_one_draw(frames):
    pipe = build_pipeline("RandomResizedCrop(112), RandomFlipLeftRight, RandomColorJitter(0.4, 0.4, 0.4, 0.1), "
                          "RandomRotation(20), ToTensor, Normalize(0.5, 0.25)", seed=3)
    for _ in range(5):
        out, record = pipe.apply_with_params(frames)
        assert out.shape == (8, 3, 112, 112) and out.dtype == np.float32
        for k in range(8):
            np.testing.assert_array_equal(out[k], pipe.replay(frames[k], record))
        assert record["frames"] == 8
    still = np.stack([frames[0]] * 4)
    out = pipe(still)
    assert all(np.array_equal(out[0], f) for f in out[1:])
    # frame by frame the same pipeline draws anew: the clip path is what makes one draw
    single = [pipe(f) for f in still]
    assert not all(np.array_equal(single[0], f) for f in single[1:])


def test_clip_forms_in_and_out(frames):
    pipe = build_pipeline("RandomCrop(200), RandomFlipLeftRight", seed=0)
    as_list = pipe(list(frames), np.random.default_rng(1))
    as_array = pipe(frames, np.random.default_rng(1))
    as_nd = pipe(mx.nd.array(frames, dtype="uint8"), np.random.default_rng(1))
    assert isinstance(as_list, list) and len(as_list) == 8
    np.testing.assert_array_equal(np.stack(as_list), as_array)
    assert isinstance(as_nd, mx.nd.NDArray) and as_nd.shape == (8, 200, 200, 3)
    np.testing.assert_array_equal(as_nd.asnumpy(), as_array)
    before = frames.copy()
    pipe(frames)
    np.testing.assert_array_equal(frames, before)  # the input clip is never written


def test_clip_targets_per_frame_move_with_the_frames(frames):
    pipe = build_pipeline("RandomResizedCrop(128), RandomFlipLeftRight", seed=5)
    boxes = [np.array([[100.0 + 4 * t, 60, 220 + 4 * t, 200, 3]]) for t in range(8)]
    points = [np.array([[150.0 + 4 * t, 100]]) for t in range(8)]
    done = pipe.apply(frames, boxes=boxes, keypoints=points)
    for k in range(8):
        ref = pipe.replay(frames[k], done.record, boxes=boxes[k], keypoints=points[k])
        np.testing.assert_array_equal(ref[0], done.image[k])
        np.testing.assert_allclose(ref[1], done.boxes[k])
        np.testing.assert_allclose(ref[2], done.keypoints[k])
    with pytest.raises(InputError, match="one entry per frame"):
        pipe.apply(frames, boxes=boxes[:3])


def test_clip_errors_name_the_frame(frames):
    pipe = build_pipeline("RandomFlipLeftRight")
    with pytest.raises(InputError, match="frame 2"):
        pipe([frames[0], frames[1], frames[2][:100]])
    with pytest.raises(InputError, match="at least one frame"):
        pipe([])
    with pytest.raises(SpecError, match="runs on clips"):
        build_pipeline("TenCrop(224)")(frames[0])


def test_a_plain_callable_plugin_in_a_clip(frames):
    def takes_rng(img, rng):
        return np.clip(img.astype(np.int16) + int(rng.integers(-40, 40)), 0, 255).astype(np.uint8)

    out = build_pipeline([takes_rng], seed=1)(np.stack([frames[0]] * 3))
    assert np.array_equal(out[0], out[1]) and np.array_equal(out[0], out[2])

    def own_randomness(img):
        return img

    with pytest.warns(UserWarning, match="called anew on each frame"):
        build_pipeline([own_randomness])(frames[:2])


# -- batches of clips --------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout, shape", [("BCTHW", (3, 3, 4, 96, 96)), ("BTCHW", (3, 4, 3, 96, 96)),
                                           ("(BT)CHW", (12, 3, 96, 96))])
def test_batches_of_clips_draw_once_per_clip_in_gluoncv_layouts(frames, layout, shape):
    pipe = build_batch_pipeline("RandomResizedCrop(96), RandomFlipLeftRight, RandomBrightness(0.3), "
                                "Normalize(0.5, 0.25)", seed=2)
    still = np.stack([np.stack([frames[b]] * 4) for b in range(3)])  # 3 clips of 4 equal frames each
    out = pipe(still, clip_layout=layout)
    assert out.shape == shape and out.dtype == np.float32
    per_frame = out.reshape(3, 4, 3, 96, 96) if layout != "BCTHW" else out.transpose(0, 2, 1, 3, 4)
    for b in range(3):
        assert all(np.array_equal(per_frame[b, 0], f) for f in per_frame[b, 1:])
    assert not np.array_equal(per_frame[0, 0], per_frame[1, 0])
    nd = pipe(mx.nd.array(still, dtype="uint8"), clip_layout=layout)
    assert nd.shape == shape


def test_a_batch_of_one_clip_matches_the_per_sample_clip(frames):
    spec = "MultiScaleCrop(112), RandomFlipLeftRight"
    for seed in range(4):
        single = build_pipeline(spec)(frames[:4], np.random.default_rng(seed))
        batch = build_batch_pipeline(spec)(frames[None, :4], rng=np.random.default_rng(seed), clip_layout="BTCHW")
        warped = np.moveaxis(batch[0], 1, 3) * 255.0
        assert np.abs(warped - single).mean() < 1.0


def test_batch_clip_boxes_and_refusals(frames):
    pipe = build_batch_pipeline("RandomFlipLeftRight(p=1)")
    boxes = np.tile(np.array([10.0, 20, 50, 60]), (2, 4, 1, 1))
    _, moved = pipe(np.stack([frames[:4]] * 2), boxes=boxes)
    assert moved.shape == (2, 4, 1, 4)
    np.testing.assert_allclose(moved[:, :, 0], np.tile([290.0, 20, 330, 60], (2, 4, 1)))
    with pytest.raises(SpecError, match="do not mix"):
        build_batch_pipeline("Mixup")(np.stack([frames[:4]] * 2), np.zeros(2), classes=2)
    with pytest.raises(InputError, match="clip_layout"):
        pipe(np.stack([frames[:4]] * 2), clip_layout="NCHW")


# -- GluonCV's recipes, side by side ----------------------------------------------------------------------
def test_tsn_crop_grid_and_sizes_are_gluoncvs():
    ms = video.VideoMultiScaleCrop((224, 224), [1.0, 0.875, 0.75, 0.66])
    for h, w in ((256, 340), (240, 320), (331, 257)):
        assert crop_sizes((1.0, 0.875, 0.75, 0.66), 1, h, w) == ms.fillCropSize([1.0, 0.875, 0.75, 0.66], 1, h, w)
        for ch, cw in crop_sizes((1.0, 0.875, 0.75, 0.66), 1, h, w):
            for more in (True, False):
                assert fixed_offsets(more, h, w, ch, cw) == ms.fillFixOffset(more, h, w, ch, cw)


def _windows(clip_out, gluon_out):
    """Mean absolute difference, in grey levels, of our (T, C, H, W) clip and GluonCV's (T, C, H, W) list."""
    return float(np.abs(np.asarray(clip_out, np.float64) - gluon_out).mean())


@pytest.mark.parametrize("preset, gluoncv_transform", [
    ("video-val", lambda: video.VideoGroupValTransform(224, IMAGENET_MEAN, IMAGENET_STD)),
    ("video-val-v2", lambda: video.VideoGroupValTransformV2((224, 224), 256, IMAGENET_MEAN, IMAGENET_STD)),
    ("video-ten-crop", lambda: _compose(video.VideoTenCrop(224))),
    ("video-three-crop", lambda: _compose(video.ShortSideRescale(224), video.VideoThreeCrop(224))),
])
def test_deterministic_recipes_equal_gluoncvs(frames, preset, gluoncv_transform):
    ours = build_pipeline(preset)(frames)
    theirs = _gluoncv(gluoncv_transform(), frames, 0)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=2e-5)  # float32 against GluonCV's float64


def test_odd_margins_round_as_gluoncv(frames):
    odd = np.ascontiguousarray(frames[:2, :, :339])  # 339 - 224 = 115: an odd margin
    theirs = _gluoncv(video.VideoGroupValTransform(224, IMAGENET_MEAN, IMAGENET_STD), odd, 0)
    np.testing.assert_allclose(build_pipeline("video-val")(odd), theirs, atol=2e-5)
    ours_floor = build_pipeline(f"CenterCrop(224), ToTensor, Normalize({IMAGENET_MEAN}, {IMAGENET_STD})")(odd)
    assert not np.allclose(ours_floor, theirs, atol=1e-3)  # MXNet's floor would be one pixel off


def _compose(*steps):
    tail = [video.VideoToTensor(), video.VideoNormalize(IMAGENET_MEAN, IMAGENET_STD)]

    def run(clip):
        for step in list(steps) + tail:
            clip = step(clip)
        return clip

    return run


def test_tsn_train_is_gluoncvs_for_every_draw_it_can_make(frames):
    """Every (crop size, grid point, flip) GluonCV's VideoGroupTrainTransform can draw gives its pixels: we force
    each draw on GluonCV's side through Python's random and replay the same parameters on ours."""
    ours = build_pipeline("tsn-train")
    theirs = video.VideoGroupTrainTransform((224, 224), [1.0, 0.875, 0.75, 0.66], IMAGENET_MEAN, IMAGENET_STD)
    h, w = frames.shape[1:3]
    sizes = crop_sizes((1.0, 0.875, 0.75, 0.66), 1, h, w)
    for i, (ch, cw) in enumerate(sizes):
        for j, (y0, x0) in enumerate(fixed_offsets(True, h, w, ch, cw)[::4]):
            flip = (i + j) % 2 == 0
            choices = iter([(ch, cw), (y0, x0)])
            saved = random.choice, random.random
            random.choice, random.random = (lambda seq: next(choices)), (lambda: 0.0 if flip else 0.9)
            try:
                reference = np.stack(theirs(list(frames[:3])))
            finally:
                random.choice, random.random = saved
            record = {"name": "Compose", "params": {}, "children": [
                {"name": "MultiScaleCrop", "params": {"x0": x0, "y0": y0, "w": cw, "h": ch}},
                {"name": "RandomFlipLeftRight", "params": {"flip": flip}},
                {"name": "ToTensor", "params": {}}, {"name": "Normalize", "params": {}}]}
            np.testing.assert_allclose(ours.replay(frames[:3], record), reference, atol=2e-5)


def _crop_draws(pipe_draw, n=3000):
    return np.array([pipe_draw(seed) for seed in range(n)], np.float64)


def test_tsn_draws_follow_gluoncvs_distribution(frames):
    h, w = frames.shape[1:3]
    ours = build_pipeline("MultiScaleCrop(224)")
    theirs = video.VideoMultiScaleCrop((224, 224), [1.0, 0.875, 0.75, 0.66])
    sizes = crop_sizes((1.0, 0.875, 0.75, 0.66), 1, h, w)

    def our_draw(seed):
        p = ours.apply_with_params(frames[0], np.random.default_rng(seed))[1]["children"][0]["params"]
        return p["w"], p["h"], p["x0"], p["y0"]

    picked = []
    random.seed(0)
    saved = random.choice

    def spy(seq):
        value = saved(seq)
        picked.append(value)
        return value

    random.choice = spy
    try:
        for _ in range(3000):
            theirs([frames[0]])
    finally:
        random.choice = saved
    gluon = np.array([(s[1], s[0], o[1], o[0]) for s, o in zip(picked[::2], picked[1::2])], np.float64)
    mine = _crop_draws(our_draw)
    assert set(map(tuple, mine[:, :2].astype(int))) == set(map(tuple, gluon[:, :2].astype(int))) == \
        {(cw, ch) for ch, cw in sizes}
    np.testing.assert_allclose(mine.mean(axis=0), gluon.mean(axis=0), rtol=0.04)
    np.testing.assert_allclose(mine.std(axis=0), gluon.std(axis=0), rtol=0.08)


def test_slowfast_train_follows_gluoncvs_v3(frames):
    ours = build_pipeline("RandomShortSideScale(256, 320), RandomCrop(224)")
    shorts, offsets = [], []
    for seed in range(2000):
        rec = ours.apply_with_params(frames[0], np.random.default_rng(seed))[1]["children"]
        shorts.append(rec[0]["params"]["short"])
        offsets.append(rec[1]["params"]["x0"])
    np.random.seed(0)
    theirs = []
    for _ in range(2000):
        size = int(round(np.random.uniform(256, 320)))
        new_w = int(np.floor(340 / 256 * size))
        theirs.append((size, int(np.random.randint(0, new_w - 224))))
    theirs = np.array(theirs, np.float64)
    assert abs(np.mean(shorts) - theirs[:, 0].mean()) < 1.0 and abs(np.std(shorts) - theirs[:, 0].std()) < 1.0
    assert abs(np.mean(offsets) - theirs[:, 1].mean()) < 4.0
    # the pixels of one draw: GluonCV's resize then crop, with our draw forced on GluonCV's numpy random
    out, record = build_pipeline("slowfast-train").apply_with_params(frames[:2], np.random.default_rng(1))
    short, crop = record["children"][0]["params"]["short"], record["children"][1]["params"]
    flip = record["children"][2]["params"]["flip"]
    saved = np.random.uniform, np.random.randint, random.random
    np.random.uniform = lambda lo, hi: short
    answers = iter([crop["y0"], crop["x0"]])
    np.random.randint = lambda lo, hi: next(answers)
    random.random = lambda: 0.0 if flip else 0.9
    try:
        reference = np.stack(video.VideoGroupTrainTransformV3((224, 224), 256, 320, IMAGENET_MEAN, IMAGENET_STD)(
            list(frames[:2])))
    finally:
        np.random.uniform, np.random.randint, random.random = saved
    np.testing.assert_allclose(out, reference, atol=2e-5)


def test_v4_random_resized_crop_areas_follow_gluoncvs(frames):
    ours = build_pipeline("video-train-v4")
    areas = [np.prod([ours.apply_with_params(frames[0], np.random.default_rng(s))[1]["children"][0]["params"][k]
                      for k in ("w", "h")]) for s in range(1500)]
    gl = video.RandomResizedCrop((224, 224))
    random.seed(0)
    theirs = [np.prod(gl.get_params(frames[0], (0.08, 1.0), (3 / 4, 4 / 3))[2:]) for _ in range(1500)]
    assert abs(np.mean(areas) - np.mean(theirs)) / np.mean(theirs) < 0.05


def test_views_and_their_orders(frames):
    ten = build_pipeline("TenCrop(200)")(frames[:2])
    assert ten.shape == (20, 200, 200, 3)
    np.testing.assert_array_equal(ten[5], ten[0][:, ::-1])  # frame 0: centre, then its flipped copy 5 later
    np.testing.assert_array_equal(ten[10], frames[1][28:228, 70:270])  # frame 1's centre starts at 10
    three = build_pipeline("ThreeCrop(256)")(frames[:2])
    assert three.shape == (6, 256, 256, 3)
    np.testing.assert_array_equal(three[1], frames[1][:, :256])  # view 0 of frames 0, 1, then view 1...
    np.testing.assert_array_equal(three[2], frames[0][:, 84:])
    with pytest.raises(InputError, match="short side"):
        build_pipeline("ThreeCrop(200)")(frames[:2])


def test_the_clip_check_catches_a_transform_that_draws_in_apply():
    from gluon_augplug import Transform
    from gluon_augplug.plugins.registry import Registry, TransformInfo
    from gluon_augplug.testing.checks.clips import check_clips
    from gluon_augplug.testing.context import CheckContext
    from gluon_augplug.testing.samples import sample_images

    class Forgetful(Transform):
        """Brightens by a random amount drawn in apply (per frame!)."""
        random = True
        target_mode = "pixel"

        def apply(self, img, layout):
            return np.clip(img * np.random.uniform(0.5, 1.5), 0, 255).astype(img.dtype)

    class Faithful(Forgetful):
        def sample(self, rng, shape):
            return {"gain": float(rng.uniform(0.5, 1.5))}

        def apply(self, img, layout, gain=1.0):
            return np.clip(img * gain, 0, 255).astype(img.dtype)

    registry = Registry()
    for cls in (Forgetful, Faithful):
        registry.add_transform(TransformInfo(cls.__name__, cls, "mine"))
    images = sample_images()
    bad = check_clips(CheckContext(registry.get_transform("Forgetful"), registry, images))
    assert bad and "different frames" in bad
    assert check_clips(CheckContext(registry.get_transform("Faithful"), registry, images)) is None


def test_a_clip_costs_about_its_frames(frames):
    """The clip path adds no pipeline call per frame: a clip of the same frame takes what the frames take,
    measured as operations (no timing): every step's apply runs once per frame and sample once per clip."""
    calls = {"sample": 0, "apply": 0}
    from gluon_augplug import Transform

    class Counting(Transform):
        random = True
        target_mode = "pixel"

        def sample(self, rng, shape):
            calls["sample"] += 1
            return {}

        def apply(self, img, layout):
            calls["apply"] += 1
            return img.copy()

    build_pipeline([Counting()])(sample_clip(frames[0], 6))
    assert calls == {"sample": 1, "apply": 6}
