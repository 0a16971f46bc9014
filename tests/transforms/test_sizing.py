"""Resizing one side within a range, padding up to a size, the crop that never upscales and PIL's blur radius,
and the segmentation presets built from them, side by side with GluonCV's ``SegmentationDataset`` on the cat:
equal where GluonCV's own draws are replayed, equal in distribution where both draw."""
from __future__ import annotations

import random

import numpy as np
import pytest
from gluoncv.data.segbase import SegmentationDataset
from mxnet.gluon.data.vision import transforms as gtransforms
from PIL import Image, ImageFilter

from gluon_augplug import build_pipeline
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.constants import IMAGENET_MEAN, IMAGENET_STD
from gluon_augplug.errors import InputError, ParameterError
from gluon_augplug.transforms import GaussianBlur, PadIfNeeded, RandomCrop, RandomResizeSide

STD255 = np.asarray(IMAGENET_STD)[:, None, None] * 255


def cat_mask(cat):
    """A label map on the cat: the quadrants 1-4, so what a crop keeps, and where, shows in the labels."""
    h, w = cat.shape[:2]
    mask = np.ones((h, w), np.uint8)
    mask[:, w // 2:] += 1
    mask[h // 2:] += 2
    return mask


def gluoncv_dataset(tmp_path, base_size=520, crop_size=480):
    norm = gtransforms.Compose([gtransforms.ToTensor(), gtransforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    return SegmentationDataset(str(tmp_path), "train", "train", norm, base_size=base_size, crop_size=crop_size)


def gluoncv_item(dataset, img, mask, train=True):
    """What ``SegmentationDataset.__getitem__`` gives for one (img, mask): its sync transform, then its transform."""
    sync = dataset._sync_transform if train else dataset._val_sync_transform
    out_img, out_mask = sync(Image.fromarray(img), Image.fromarray(mask))
    return dataset.transform(out_img), out_mask


def gluoncv_draws(seed, w, h, base_size=520, crop_size=480):
    """The Python ``random`` draws ``_sync_transform`` makes after ``random.seed(seed)``, in its order."""
    random.seed(seed)
    flip = random.random() < 0.5
    long_side = random.randint(base_size // 2, base_size * 2)
    ow, oh = (int(w * long_side / h + 0.5), long_side) if h > w else (long_side, int(h * long_side / w + 0.5))
    x1 = random.randint(0, max(ow, crop_size) - crop_size)
    y1 = random.randint(0, max(oh, crop_size) - crop_size)
    blur = random.random() < 0.5
    return flip, long_side, x1, y1, blur, (random.random() if blur else None)


def record_of(flip, long_side, x1, y1, blur, radius, crop_size=480):
    blurs = [{"name": "GaussianBlur", "params": {"sigma": radius}}] if blur else []
    return {"name": "Compose", "params": {}, "children": [
        {"name": "RandomFlipLeftRight", "params": {"flip": flip}},
        {"name": "RandomResizeSide", "params": {"size": long_side}},
        {"name": "PadIfNeeded", "params": {"left": 0, "top": 0}},
        {"name": "RandomCrop", "params": {"x0": x1, "y0": y1, "w": crop_size, "h": crop_size}},
        {"name": "RandomApply", "params": {"apply": blur}, "children": blurs},
        {"name": "ToTensor", "params": {}}, {"name": "Normalize", "params": {}}]}


def near_label_edges(mask, width=1):
    """Pixels within ``width`` of a change of label (4-neighbourhood)."""
    edge = np.zeros(mask.shape, bool)
    edge[1:] |= mask[1:] != mask[:-1]
    edge[:-1] |= mask[1:] != mask[:-1]
    edge[:, 1:] |= mask[:, 1:] != mask[:, :-1]
    edge[:, :-1] |= mask[:, 1:] != mask[:, :-1]
    for _ in range(width - 1):
        grown = edge.copy()
        grown[1:] |= edge[:-1]
        grown[:-1] |= edge[1:]
        grown[:, 1:] |= edge[:, :-1]
        grown[:, :-1] |= edge[:, 1:]
        edge = grown
    return edge


def assert_masks_agree_off_edges(ours, theirs, context=None):
    """Nearest-neighbour masks may differ by one row or column at a label edge, where a destination pixel's
    source centre falls on the boundary (PIL's NEAREST rounds in single floats, cv2's in fixed point);
    anywhere else they must be equal."""
    differ = ours != theirs
    off_edges = differ & ~near_label_edges(theirs, width=2)
    assert not off_edges.any(), (np.argwhere(off_edges)[:5], context)
    assert differ.mean() < 0.01, (differ.mean(), context)


@pytest.mark.parametrize("seed", range(6))
def test_seg_train_replays_gluoncv_sync_transform(cat, tmp_path, seed):
    mask = cat_mask(cat)
    random.seed(seed)
    theirs_img, theirs_mask = gluoncv_item(gluoncv_dataset(tmp_path), cat, mask)
    draws = gluoncv_draws(seed, cat.shape[1], cat.shape[0])
    ours_img, (ours_mask,) = build_pipeline("seg-train").replay(cat, record_of(*draws), masks=[mask])
    assert ours_img.shape == theirs_img.shape == (3, 480, 480) and ours_mask.shape == (480, 480)
    assert_masks_agree_off_edges(ours_mask, theirs_mask.asnumpy(), draws)
    assert np.abs((ours_img - theirs_img.asnumpy()) * STD255).mean() < 0.6, draws  # PIL's bilinear and blur


def test_seg_val_equals_gluoncv_val_sync_transform(cat, tmp_path):
    mask = cat_mask(cat)
    for image, labels in ((cat, mask), (cat[:, :350], mask[:, :350]), (cat[:300].copy(), mask[:300].copy())):
        theirs_img, theirs_mask = gluoncv_item(gluoncv_dataset(tmp_path), image, labels, train=False)
        ours_img, (ours_mask,) = build_pipeline("seg-val").apply(image, masks=[labels]).as_tuple()
        assert ours_img.shape == theirs_img.shape == (3, 480, 480)
        assert_masks_agree_off_edges(ours_mask, theirs_mask.asnumpy())
        assert np.abs((ours_img - theirs_img.asnumpy()) * STD255).mean() < 1.5  # cv2's against PIL's bilinear


def label_shares(mask):
    return np.bincount(np.asarray(mask).ravel().astype(np.int64), minlength=5)[:5] / mask.size


def test_seg_train_draws_as_gluoncv(cat, tmp_path):
    """What a crop keeps (the quadrant labels), how much is padding (label 0), and the pixels' statistics."""
    n, mask = 200, cat_mask(cat)
    dataset = gluoncv_dataset(tmp_path)
    random.seed(0)
    theirs = [gluoncv_item(dataset, cat, mask) for _ in range(n)]
    pipeline = build_pipeline("seg-train", seed=0)
    ours = [pipeline.apply(cat, masks=[mask]).as_tuple() for _ in range(n)]
    their_shares = np.array([label_shares(m.asnumpy()) for _, m in theirs])
    our_shares = np.array([label_shares(m[0]) for _, m in ours])
    assert 0.1 < their_shares[:, 0].mean() < 0.25  # GluonCV pads about a sixth of the pixels here
    assert np.abs(their_shares.mean(0) - our_shares.mean(0)).max() < 0.05, (their_shares.mean(0), our_shares.mean(0))
    assert abs((their_shares[:, 0] > 0).mean() - (our_shares[:, 0] > 0).mean()) < 0.12
    for stat in (np.mean, np.std):
        a = [stat(img.asnumpy()) for img, _ in theirs]
        b = [stat(img) for img, _ in ours]
        assert abs(np.mean(a) - np.mean(b)) < 0.06 and abs(np.std(a) - np.std(b)) < 0.06, stat


def test_random_resize_side_rounds_as_gluoncv_and_moves_targets():
    img = np.zeros((375, 500, 3), np.uint8)
    mask = np.zeros((375, 500), np.uint8)
    mask[100:200, 50:150] = 1
    boxes = np.array([[50, 100, 150, 200, 0]], np.float64)
    for side, size, want in (("long", 333, (250, 333)), ("short", 333, (333, 444)), ("long", 1040, (780, 1040))):
        out = build_pipeline([RandomResizeSide(size, side=side)]).apply(img, boxes=boxes, masks=[mask])
        assert out.image.shape[:2] == want
        sx, sy = want[1] / 500, want[0] / 375
        assert np.allclose(out.boxes[0, :4], [50 * sx, 100 * sy, 150 * sx, 200 * sy])
        assert abs(out.masks[0].sum() - 100 * sx * 100 * sy) < 2 * 100 * (sx + sy)
    square = build_pipeline([RandomResizeSide(100, side="long")])(np.zeros((64, 64, 3), np.uint8))
    assert square.shape[:2] == (100, 100)
    tall = build_pipeline([RandomResizeSide(100)])(np.zeros((400, 250, 3), np.uint8))
    assert tall.shape[:2] == (100, 63)  # int(250 * 100 / 400 + 0.5)
    rng = np.random.default_rng(0)
    drawn = {RandomResizeSide((3, 5)).sample(rng, (10, 10, 3))["size"] for _ in range(200)}
    assert drawn == {3, 4, 5}  # both ends included, as random.randint


def test_pad_if_needed_positions_fills_and_masks():
    img = np.full((20, 30, 3), 200, np.uint8)
    mask = np.full((20, 30), 5, np.uint8)
    boxes = np.array([[0, 0, 30, 20, 1]], np.float64)
    for position, (left, top) in (("top_left", (0, 0)), ("center", (5, 10)), ("bottom_right", (10, 20)),
                                  ("top_right", (10, 0)), ("bottom_left", (0, 20))):
        out = build_pipeline([PadIfNeeded((40, 40), position=position, fill=(1, 2, 3), mask_fill=255)]).apply(
            img, boxes=boxes, masks=[mask])
        assert out.image.shape == (40, 40, 3) and out.masks[0].shape == (40, 40)
        assert (out.image[top:top + 20, left:left + 30] == 200).all()
        assert (out.masks[0][top:top + 20, left:left + 30] == 5).all()
        assert (out.masks[0] == 255).sum() == 40 * 40 - 600 and (out.image == [1, 2, 3]).all(-1).sum() == 1000
        assert np.allclose(out.boxes[0, :4], [left, top, left + 30, top + 20])
    kept = build_pipeline([PadIfNeeded((25, 10))])(img)
    assert kept.shape == (20, 30, 3) and kept is not img  # larger sides kept, nothing padded
    wide = build_pipeline([PadIfNeeded(25, position="top_left")])(img)
    assert wide.shape == (25, 30, 3) and (wide[20:] == 0).all()
    lefts = {build_pipeline([PadIfNeeded(40, position="random")], seed=s).apply(img).record["children"][0]["params"]
             ["left"] for s in range(40)}
    assert lefts <= set(range(11)) and len(lefts) > 5


def test_pad_if_needed_runs_on_batches_with_its_mask_fill():
    images = np.stack([np.full((20, 30, 3), 9, np.uint8)] * 2)
    masks = np.stack([np.full((20, 30), 4, np.uint8), np.full((20, 30), 6, np.uint8)])
    batch = build_batch_pipeline("PadIfNeeded(32, position='random', mask_fill=255), RandomCrop(32, upscale=False)")
    out, moved = batch(images, rng=np.random.default_rng(1), masks=masks)
    assert out.shape == (2, 3, 32, 32)
    for i, label in enumerate((4, 6)):
        assert set(np.unique(moved[i]).tolist()) == {label, 255}
        assert (moved[i] == label).sum() == 600 and np.isclose(out[i].sum() * 255, 600 * 3 * 9, rtol=1e-4)


def test_crop_that_never_upscales_reaches_into_the_padding():
    img = np.full((20, 30, 3), 100, np.uint8)
    out = build_pipeline([RandomCrop(40, upscale=False, pad_value=7)], seed=0)(img)
    assert out.shape == (40, 40, 3) and (out == 100).all(-1).sum() == 600 and (out == 7).all(-1).sum() == 1000
    upscaled = build_pipeline([RandomCrop(40)], seed=0)(img)
    assert (upscaled == 100).all()  # the MXNet default: the window shrinks to fit and is resized up


def test_blur_with_pil_radius_meaning(cat):
    for radius in (0.3, 1.0, 2.5):
        theirs = np.asarray(Image.fromarray(cat).filter(ImageFilter.GaussianBlur(radius)), np.float64)
        ours = build_pipeline([GaussianBlur(0, sigma=radius)])(cat).astype(np.float64)
        assert np.abs(ours - theirs).mean() < 0.6, radius
    with pytest.raises(ParameterError, match="kernel_size.*0 \\(sized from sigma\\) or an odd integer"):
        GaussianBlur(4)


def test_bad_sizes_and_fills_are_named():
    with pytest.raises(ParameterError, match="sizes"):
        RandomResizeSide((0, 10))
    with pytest.raises(ParameterError, match="side"):
        RandomResizeSide(10, side="longest")
    with pytest.raises(ParameterError, match="position"):
        PadIfNeeded(10, position="middle")
    with pytest.raises(ParameterError, match="mask_fill"):
        PadIfNeeded(10, mask_fill=1.5)
    with pytest.raises(InputError, match="mask_fill=300 does not fit a mask of dtype uint8"):
        build_pipeline([PadIfNeeded(40, mask_fill=300)]).apply(np.zeros((20, 20, 3), np.uint8),
                                                               masks=[np.zeros((20, 20), np.uint8)])
    with pytest.raises(ParameterError, match=r"size=60000 is invalid; allowed: an integer in \[1, 32767\]"):
        PadIfNeeded(60000)
    with pytest.raises(InputError, match="PadIfNeeded: padding a 20x20 image to 30000x30000"):
        build_pipeline([PadIfNeeded(30000)])(np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(ParameterError, match="fill.*batch"):
        build_batch_pipeline("PadIfNeeded(32, fill=3)")


def test_resize_pad_crop_masks_equal_step_by_step_warps(cat):
    """The mask of seg-train's resize, pad and crop is warped once at the crop's size (the pending maps lost
    nothing of the image): equal to warping after each step, with the boxes too."""
    from gluon_augplug.targets.geometry import warp_boxes, warp_mask

    mask = cat_mask(cat)
    boxes = np.array([[35, 88, 470, 318, 0]], np.float64)
    pipe = build_pipeline([RandomResizeSide((100, 700)), PadIfNeeded(480, position="random"),
                           RandomCrop(480, upscale=False)], seed=4)
    for _ in range(8):
        out = pipe.apply(cat, masks=[mask], boxes=boxes)
        step_mask, step_boxes, hw = mask, boxes, cat.shape[:2]
        for step, record in zip(pipe.transforms, out.record["children"]):
            out_hw = step.output_hw(record["params"], hw) if hasattr(step, "output_hw") else None
            if out_hw is None:
                out_hw = (record["params"]["h"], record["params"]["w"])
            matrix = step.geometry(record["params"], hw, out_hw)
            step_mask, step_boxes, hw = warp_mask(step_mask, matrix, out_hw), warp_boxes(step_boxes, matrix), out_hw
            step_boxes[:, 0:4:2] = step_boxes[:, 0:4:2].clip(0, hw[1])
            step_boxes[:, 1:4:2] = step_boxes[:, 1:4:2].clip(0, hw[0])
        np.testing.assert_array_equal(out.masks[0], step_mask)
        np.testing.assert_allclose(out.boxes, step_boxes)
