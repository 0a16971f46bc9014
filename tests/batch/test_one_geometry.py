"""One geometry for samples and batches: every geometric step's ``geometry()`` drives per-sample targets, batch
pixels and batch targets, and one engine (TargetState) moves the targets of both."""
from __future__ import annotations

import numpy as np
import pytest

import gluon_augplug
from gluon_augplug import TargetMode, build_pipeline
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.errors import AugplugError, SpecError
from gluon_augplug.targets.geometry import forward_from_index_inverse, index_inverse
from tests.optional import BACKENDS, mx

# each geometric built-in, with a size-setting step after those whose output size is the sample's own
GEOMETRIC = [
    "RandomFlipLeftRight", "RandomFlipTopBottom", "RandomCrop((40, 36), pad=4)", "RandomCrop(80)",
    "RandomResizedCrop((48, 40), scale=(0.3, 1))", "RandomAffine(20, translate=(0.1, 0.1), scale=(0.8, 1.2), shear=5)",
    "RandomRotation(30)", "Resize((40, 30))", "Resize(28, keep_ratio=True)", "CenterCrop((30, 40))",
    "RandomInterpolationResize((48, 40), interpolations=[1])", "RandomExpand(max_ratio=2, p=1), Resize((64, 48))",
    "RandomIoUCrop, Resize((64, 48))", "ResizeShortWithin(short=(40, 60), max_size=90), Resize((64, 48))",
    "RandomResizeSide((60, 150)), Resize((64, 48))", "RandomResizeSide((60, 150), side='short'), Resize((64, 48))",
    "PadIfNeeded((150, 110), position='random')", "PadIfNeeded(140, position='top_left'), RandomCrop(110, upscale=False)",
]


@pytest.fixture(scope="module")
def scene(cat):
    """The cat at 96x128, its face's box and a keypoint, and a mask of the box."""
    import cv2

    img = cv2.resize(np.asarray(cat), (128, 96), interpolation=cv2.INTER_AREA)
    boxes = np.array([[30.0, 12.0, 80.0, 60.0, 3.0], [100.0, 70.0, 124.0, 92.0, 5.0]])
    points = np.array([[55.0, 36.0, 1.0], [110.0, 80.0, 1.0]])
    mask = np.zeros((96, 128), np.uint8)
    mask[12:60, 30:80] = 3
    return img, boxes, points, mask


@pytest.mark.parametrize("spec", GEOMETRIC)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_of_one_is_the_per_sample_step(spec, backend, scene):
    """With the same generator, a batch of one draws what the per-sample pipeline draws: its targets are equal
    to the per-sample ones (the same engine), its pixels equal up to the resampler (OpenCV's resize and crop
    against one bilinear warp)."""
    img, boxes, points, mask = scene
    for seed in range(6):
        single = build_pipeline(spec).apply(img, np.random.default_rng(seed), boxes=boxes, keypoints=points,
                                            masks=mask)
        batch = build_batch_pipeline(spec)
        data = img[None] if backend == "numpy" else mx.nd.array(img[None], dtype="uint8")
        out, moved, masks, moved_points = batch(data, rng=np.random.default_rng(seed), boxes=boxes[None],
                                                masks=mask[None], keypoints=points[None])
        if backend == "ndarray":
            out, moved, masks, moved_points = (a.asnumpy() for a in (out, moved, masks, moved_points))
        expected = np.asarray(single.image, np.float64)
        got = np.moveaxis(out[0], 0, 2) * 255
        assert got.shape == expected.shape, (seed, got.shape, expected.shape)
        # one resample against OpenCV's own (measured <= 0.31 levels); a chain the batch resamples once where the
        # per-sample path resamples twice differs more (measured 3.1)
        limit = 4.0 if "," in spec else 0.5
        assert np.abs(got - expected).mean() < limit, (seed, np.abs(got - expected).mean())
        kept = moved[0][~np.all(moved[0] == -1, axis=1)]
        np.testing.assert_allclose(kept, single.boxes, atol=1e-4, err_msg=f"seed {seed}")
        np.testing.assert_array_equal(masks[0], single.masks)
        for row in moved_points[0]:
            inside = [np.allclose(row, p, atol=1e-4) for p in single.keypoints]
            assert any(inside) or (row == -1).all(), (seed, row, single.keypoints)


def test_the_ssd_chain_runs_on_batches_with_sizes_of_each_samples_own(scene):
    """RandomExpand and RandomIoUCrop give every sample a size of its own; the Resize after them brings the
    batch back to one size, and each sample's boxes are those of the per-sample chain under its draws."""
    img, boxes, _, _ = scene
    spec = "RandomExpand(max_ratio=3, p=1), RandomIoUCrop, Resize((96, 96)), RandomFlipLeftRight"
    data = np.stack([img] * 6)
    padded = np.concatenate([np.stack([boxes] * 6), np.full((6, 2, 5), -1.0)], axis=1)
    out, moved = build_batch_pipeline(spec, seed=0)(data, boxes=padded)
    assert out.shape == (6, 3, 96, 96) and moved.shape == padded.shape
    assert (moved[:, 2:] == -1).all()  # padding stays padding
    assert len({tuple(np.round(m[0, :4], 3)) for m in moved}) > 3  # each sample has its own expansion and crop
    with pytest.raises(SpecError, match=r"different sizes after RandomExpand .*follow it with a step that sets the size"):
        build_batch_pipeline("RandomExpand(max_ratio=3, p=1), RandomBrightness(0.2)", seed=0)(data)


def test_a_dropped_box_is_a_minus_one_row_in_its_own_row():
    """One rule for dropped rows: the engine removes the box; only the batch boundary writes -1, in the row the
    box had, so the rows after it keep their places."""
    data = np.zeros((1, 40, 40, 3), np.uint8)
    boxes = np.array([[[0, 0, 4, 4, 1], [20, 20, 36, 36, 2], [-1, -1, -1, -1, -1]]], float)
    pipe = build_batch_pipeline("CenterCrop(24)")  # the window (8, 8)-(32, 32) loses the first box
    _, moved = pipe(data, boxes=boxes)
    assert (moved[0, 0] == -1).all() and (moved[0, 2] == -1).all()
    np.testing.assert_allclose(moved[0, 1], [12, 12, 24, 24, 2])


class Transpose(gluon_augplug.Transform):
    """A third-party geometric step written as the plugin contract says: apply(), geometry(), output_hw()."""

    target_mode = TargetMode.GEOMETRIC

    def apply(self, img, layout):
        return np.ascontiguousarray(img.transpose(1, 0, 2))

    def geometry(self, params, in_hw, out_hw):
        return np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])

    def output_hw(self, params, in_hw):
        return in_hw[1], in_hw[0]


class TranposePlugin:
    @gluon_augplug.hookimpl
    def augplug_register_transforms(self, register):
        register("Transpose", Transpose)


def test_a_plugins_geometric_step_gets_the_batch_path_without_apply_batch(augplug_register, scene):
    img, boxes, _, _ = scene
    augplug_register(TranposePlugin(), "transposer")
    info = gluon_augplug.get_registry().get_transform("Transpose")
    assert info.kind == "sample+batch"
    out, moved = build_batch_pipeline("Transpose")(img[None], boxes=boxes[None])
    np.testing.assert_allclose(np.moveaxis(out[0], 0, 2) * 255, img.transpose(1, 0, 2), atol=1e-3)
    np.testing.assert_allclose(moved[0], boxes[:, [1, 0, 3, 2, 4]])
    from gluon_augplug.testing import check_plugin

    check_plugin(TranposePlugin())  # the harness's batch check covers it, output_hw included


class ForgetfulResize(Transpose):
    """A step that changes the size but does not say so in output_hw()."""

    def apply(self, img, layout):
        return np.ascontiguousarray(img[::2, ::2])

    def geometry(self, params, in_hw, out_hw):
        return np.diag([0.5, 0.5, 1.0])

    output_hw = gluon_augplug.Transform.output_hw


class ForgetfulPlugin:
    @gluon_augplug.hookimpl
    def augplug_register_transforms(self, register):
        register("Halve", ForgetfulResize)


def test_the_harness_catches_an_output_hw_that_is_not_the_size_made():
    from gluon_augplug.testing import check_plugin

    report = check_plugin(ForgetfulPlugin(), raise_on_failure=False)
    [finding] = [f for f in report.findings if f.check == "batch"]
    assert finding.status == "fail" and "output_hw() says" in finding.message


def test_one_converter_between_edges_and_indices():
    """index_inverse and forward_from_index_inverse are each other's inverse, and a flip's index map is
    x_in = (W - 1) - x_out: the convention OpenCV's WARP_INVERSE_MAP and MXNet's grid use."""
    from gluon_augplug.targets.geometry import flip_matrix

    inverse = index_inverse(flip_matrix((10, 20), True))
    np.testing.assert_allclose(inverse, [[-1, 0, 19], [0, 1, 0], [0, 0, 1]], atol=1e-12)
    maps = np.random.default_rng(0).normal(size=(5, 3, 3))
    maps[:, 2] = [0, 0, 1]
    np.testing.assert_allclose(forward_from_index_inverse(index_inverse(maps)), maps, atol=1e-9)


class FlipAndDarken(gluon_augplug.Transform):
    """Geometric, but its apply() also changes values: geometry() alone cannot be its batch path."""

    target_mode = TargetMode.GEOMETRIC

    def apply(self, img, layout):
        return (img[:, ::-1] // 2).astype(img.dtype)

    def geometry(self, params, in_hw, out_hw):
        return np.array([[-1.0, 0.0, in_hw[1]], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


class HonestFlipAndDarken(FlipAndDarken):
    pixels_follow_geometry = False


class DarkenPlugin:
    @gluon_augplug.hookimpl
    def augplug_register_transforms(self, register):
        register("FlipAndDarken", FlipAndDarken)
        register("HonestFlipAndDarken", HonestFlipAndDarken)


def test_the_harness_catches_a_geometric_step_whose_pixels_do_more_than_its_geometry():
    from gluon_augplug.testing import check_plugin

    report = check_plugin(DarkenPlugin(), raise_on_failure=False)
    found = {(f.subject, f.check): f for f in report.findings}
    assert found["FlipAndDarken", "batch"].status == "fail"
    assert "set pixels_follow_geometry = False" in found["FlipAndDarken", "batch"].message
    assert found["HonestFlipAndDarken", "batch"].status == "skip"  # per sample only, as it says
    assert found["HonestFlipAndDarken", "targets"].status == "pass"


@pytest.mark.parametrize("policy", ["RandAugment", "TrivialAugmentWide", "AutoAugment"])
def test_policies_that_mix_colour_and_geometry_are_per_sample_only(policy):
    assert not gluon_augplug.get_registry().get_transform(policy).batch
    with pytest.raises(AugplugError, match=f"{policy} has no batch path: it runs per sample only"):
        build_batch_pipeline(policy)
