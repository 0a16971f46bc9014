"""VOCSegmentation: GluonCV's items from a drawn VOC segmentation folder, the seg presets on them, and clear
errors for broken folders and label maps."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gluon_augplug import augment, build_pipeline
from gluon_augplug.data import VOCSegmentation, read_label_png
from gluon_augplug.io.formats import DataFormatError

ROOT = Path(__file__).resolve().parents[2]


def draw_voc_segmentation(root, n=3):
    """examples/train_segmentation.py's drawn folder (a square of class 1 and a disc of class 2, each with VOC's
    2-pixel void border) in GluonCV's layout, under root/VOC2012."""
    spec = importlib.util.spec_from_file_location("train_segmentation", ROOT / "examples" / "train_segmentation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.draw_voc_segmentation(str(root / "VOC2012"), n, seed=1)
    return root


@pytest.mark.pinned
def test_items_are_gluoncv_testval_items_with_void_kept(tmp_path):
    from gluoncv.data import VOCSegmentation as GluonCVSegmentation

    root = draw_voc_segmentation(tmp_path)
    ours = VOCSegmentation(str(root), split="trainval")
    theirs = GluonCVSegmentation(str(root), split="train", mode="testval")  # GluonCV's train reads trainval.txt
    assert len(ours) == len(theirs) == 3 and ours.classes == tuple(VOCSegmentation.classes)
    for k in range(3):
        img, mask = ours[k]
        their_img, their_mask = theirs[k]
        np.testing.assert_array_equal(img.asnumpy(), their_img.asnumpy().astype(np.uint8))
        assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1, 2, 255}
        expected = their_mask.asnumpy()
        np.testing.assert_array_equal(np.where(mask == 255, -1, mask.astype(np.int32)), expected)


@pytest.mark.pinned
def test_seg_presets_run_on_its_items_by_dataset_transform_and_augment(tmp_path):
    root = draw_voc_segmentation(tmp_path)
    train = VOCSegmentation(str(root), split="train", as_ndarray=False)
    img, mask = train.transform(build_pipeline("RandomFlipLeftRight, RandomResizeSide((60, 240)), "
                                               "PadIfNeeded(96, position='top_left', mask_fill=255), "
                                               "RandomCrop(96, upscale=False)", seed=0))[0]
    assert img.shape == (96, 96, 3) and mask.shape == (96, 96)
    assert set(np.unique(mask)) <= {0, 1, 2, 255}
    seeded = augment(train, "seg-train", seed=3, targets="masks")
    first = [seeded[i] for i in range(len(seeded))]
    again = [seeded[i] for i in range(len(seeded))]
    for (a, am), (b, bm) in zip(first, again):
        assert a.shape == (3, 480, 480) and am.shape == (480, 480)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(am, bm)
    val_img, val_mask = VOCSegmentation(str(root), split="val").transform(build_pipeline("seg-val"))[0]
    assert val_img.shape == (3, 480, 480) and val_mask.shape == (480, 480)


@pytest.mark.pinned
def test_broken_folders_and_label_maps_are_named(tmp_path):
    root = draw_voc_segmentation(tmp_path)
    voc = root / "VOC2012"
    with pytest.raises(FileNotFoundError, match=r"test.txt' does not exist \(lists there: train, trainval, val\)"):
        VOCSegmentation(str(root), split="test")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        VOCSegmentation(str(tmp_path / "nowhere"))
    (voc / "ImageSets" / "Segmentation" / "extra.txt").write_text("drawn_000\nmissing\n")
    with pytest.raises(FileNotFoundError, match=r"lists 'missing' but .*missing.jpg' does not exist"):
        VOCSegmentation(str(root), split="extra")
    Image.new("RGB", (160, 120), (128, 0, 0)).save(voc / "SegmentationClass" / "drawn_001.png")
    with pytest.raises(DataFormatError, match=r"drawn_001.png: a label map in mode 'RGB'"):
        VOCSegmentation(str(root), split="trainval")[1]
    Image.new("L", (60, 120)).save(voc / "SegmentationClass" / "drawn_002.png")
    with pytest.raises(DataFormatError, match=r"drawn_002.png: a 60x120 label map for a 160x120 image"):
        VOCSegmentation(str(root), split="trainval")[2]
    data = (voc / "SegmentationClass" / "drawn_000.png").read_bytes()
    (voc / "SegmentationClass" / "drawn_000.png").write_bytes(data[:len(data) // 2])
    with pytest.raises(DataFormatError, match="drawn_000.png: not a readable label map"):
        read_label_png(str(voc / "SegmentationClass" / "drawn_000.png"))
    (voc / "ImageSets" / "Segmentation" / "bad.txt").write_text("../../etc/passwd\n")
    with pytest.raises(DataFormatError, match="is not a VOC image id"):
        VOCSegmentation(str(root), split="bad")
