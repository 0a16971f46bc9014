"""Pascal VOC and COCO readers: the real voc-cat folder (against GluonCV's own reader), drawn COCO
shapes whose boxes and masks are known, malformed files, and augment() feeding GluonCV's batchify."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from gluon_augplug import augment
from gluon_augplug.data import COCODetection, VOCDetection
from gluon_augplug.data.detection import decode_segmentation, rle_counts
from gluon_augplug.io.formats import DataFormatError
from gluon_augplug.errors import InputError
from tests.conftest import SHARED_DATA

VOC_CAT = SHARED_DATA / "voc-cat"


@pytest.mark.pinned
def test_voc_reader_gives_gluoncvs_label_for_the_cat(tmp_path):
    ours = VOCDetection(str(VOC_CAT))
    img, label = ours[0]
    assert len(ours) == 1 and img.shape == (400, 500, 3) and label.dtype == np.float32
    np.testing.assert_array_equal(label, [[34, 87, 469, 317, 7, 0]])  # 'head' is no VOC class: skipped, as GluonCV
    # GluonCV's own reader on the same files (its layout: a VOC2007 folder under the root)
    from gluoncv.data import VOCDetection as GluonCVVOC

    (tmp_path / "VOC2007").symlink_to(VOC_CAT, target_is_directory=True)
    theirs = GluonCVVOC(root=str(tmp_path), splits=((2007, "train"),))
    their_img, their_label = theirs[0]
    np.testing.assert_array_equal(label, their_label)
    np.testing.assert_array_equal(img.asnumpy(), their_img.asnumpy())
    both = VOCDetection(str(VOC_CAT), classes=("cat", "head"), as_ndarray=False)
    assert isinstance(both[0][0], np.ndarray)
    np.testing.assert_array_equal(both[0][1], [[34, 87, 469, 317, 0, 0], [34, 157, 109, 249, 1, 0]])
    assert VOCDetection(str(VOC_CAT), classes="auto").classes == ("cat", "head")
    assert len(VOCDetection(str(tmp_path), splits=((2007, "train"),))) == 1


def broken_voc(tmp_path, xml):
    root = tmp_path / "voc"
    shutil.copytree(VOC_CAT, root)
    (root / "Annotations" / "cat1.xml").write_text(xml)
    return root


@pytest.mark.parametrize("edit, message", [
    (lambda x: x.replace("</annotation>", ""), r"cat1.xml: malformed XML at line \d+, column \d+"),
    (lambda x: x.replace("<xmin>35</xmin>", "<xmin>3x5</xmin>", 1), r"<object> 1 \(cat\): <bndbox><xmin> is '3x5'"),
    (lambda x: x.replace("<bndbox>", "<box>", 1).replace("</bndbox>", "</box>", 1), r"<object> 1 \(cat\) has no <bndbox>"),
    (lambda x: x.replace("<xmax>470</xmax>", "<xmax>20</xmax>", 1), r"xmax <= xmin"),
])
def test_malformed_voc_annotations_name_the_file_and_element(tmp_path, edit, message):
    root = broken_voc(tmp_path, edit((VOC_CAT / "Annotations" / "cat1.xml").read_text()))
    with pytest.raises(DataFormatError, match=message):
        VOCDetection(str(root))


def encode_rle(counts):
    """COCO's compressed RLE string, written out from its definition (independent of the decoder)."""
    out = []
    for i, value in enumerate(counts):
        x = value - counts[i - 2] if i > 2 else value
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if c & 0x10 else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def runs_of(mask):
    flat = mask.T.reshape(-1)  # down the columns
    runs, current, length = [], 0, 0
    for v in flat:
        if v == current:
            length += 1
        else:
            runs.append(length)
            current, length = v, 1
    runs.append(length)
    return runs


def coco_folder(tmp_path):
    """Two drawn images: a rectangle (polygon) and a disc (compressed RLE) plus a crowd (uncompressed RLE)."""
    import cv2

    folder = tmp_path / "coco"
    (folder / "images").mkdir(parents=True)
    rect = np.zeros((60, 80), np.uint8)
    rect[10:30, 20:50] = 1
    disc = np.zeros((60, 80), np.uint8)
    cv2.circle(disc, (40, 30), 12, 1, -1)
    for name, mask in (("a.png", rect), ("b.png", disc)):
        cv2.imwrite(str(folder / "images" / name), np.dstack([mask * 200] * 3))
    ys, xs = np.nonzero(disc)
    annotations = {
        "images": [{"id": 1, "file_name": "a.png", "height": 60, "width": 80},
                   {"id": 2, "file_name": "b.png", "height": 60, "width": 80},
                   {"id": 3, "file_name": "a.png", "height": 60, "width": 80}],
        "categories": [{"id": 18, "name": "dog"}, {"id": 3, "name": "car"}],
        "annotations": [
            {"id": 11, "image_id": 1, "category_id": 18, "bbox": [20, 10, 30, 20], "area": 600, "iscrowd": 0,
             "segmentation": [[20, 10, 49, 10, 49, 29, 20, 29]]},
            {"id": 12, "image_id": 2, "category_id": 3, "bbox": [int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1,
                                                                  int(np.ptp(ys)) + 1], "area": int(disc.sum()),
             "iscrowd": 0, "segmentation": {"size": [60, 80], "counts": encode_rle(runs_of(disc))}},
            {"id": 13, "image_id": 2, "category_id": 18, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 1,
             "segmentation": {"size": [60, 80], "counts": runs_of(rect)}},
        ],
    }
    path = folder / "instances_val.json"
    path.write_text(json.dumps(annotations))
    return folder, path, rect, disc


def test_coco_reader_gives_gluoncvs_boxes_and_exact_masks(tmp_path):
    folder, path, rect, disc = coco_folder(tmp_path)
    data = COCODetection(str(folder / "images"), str(path), masks=True, as_ndarray=False)
    assert data.classes == ("car", "dog") and len(data) == 2  # image 3 has no object: skipped
    img, label, masks = data[0]
    np.testing.assert_array_equal(label, [[20, 10, 49, 29, 1]])  # GluonCV's x + w - 1; dog is index 1 (by id)
    np.testing.assert_array_equal(masks[:, :, 0], rect)
    _, label, masks = data[1]
    assert label.shape == (1, 5) and label[0, 4] == 0 and masks.shape == (60, 80, 1)  # the crowd is left out
    np.testing.assert_array_equal(masks[:, :, 0], disc)
    crowd = COCODetection(str(folder / "images"), str(path), masks=True, use_crowd=True, as_ndarray=False)
    np.testing.assert_array_equal(crowd[1][2][:, :, 1], rect)  # uncompressed RLE
    assert len(COCODetection(str(folder / "images"), str(path), skip_empty=False)) == 3


def test_compressed_rle_decodes_what_cocos_encoding_wrote():
    rng = np.random.default_rng(0)
    for _ in range(20):
        mask = (rng.random((23, 31)) < rng.random()).astype(np.uint8)
        runs = runs_of(mask)
        assert rle_counts(encode_rle(runs)) == runs
        np.testing.assert_array_equal(decode_segmentation({"size": [23, 31], "counts": encode_rle(runs)}, 23, 31), mask)


@pytest.mark.pinned
def test_malformed_coco_files_name_the_file_and_element(tmp_path):
    folder, path, _, _ = coco_folder(tmp_path)
    text = path.read_text()
    path.write_text(text[:200])
    with pytest.raises(DataFormatError, match=r"instances_val.json: invalid JSON at line 1, column \d+ \(offset \d+\)"):
        COCODetection(str(folder), str(path))
    data = json.loads(text)
    data["annotations"][1]["bbox"] = [1, 2, 3]
    path.write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match=r"annotations\[1\] \(id 12\): 'bbox' must be \[x, y, width, height\]"):
        COCODetection(str(folder), str(path))
    data["annotations"][1]["bbox"] = [1, 2, 3, 4]
    data["annotations"][1]["segmentation"] = {"size": [60, 80], "counts": "0!!"}
    path.write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match=r"annotations\[1\] \(id 12\): compressed RLE"):
        COCODetection(str(folder / "images"), str(path), masks=True)[1]


@pytest.mark.pinned
def test_augment_feeds_gluoncvs_detection_batchify_the_same_with_0_and_2_workers():
    from gluoncv.data.batchify import Pad, Stack, Tuple
    from mxnet.gluon.data import DataLoader

    voc = VOCDetection(str(VOC_CAT), classes=("cat", "head"))
    many = [voc[0]] * 6
    data = augment(many, "ssd-train", seed=0, targets="boxes")
    batches = []
    for workers in (0, 2):
        loader = DataLoader(data, batch_size=3, batchify_fn=Tuple(Stack(), Pad(pad_val=-1)), num_workers=workers)
        batches.append([(x.asnumpy(), y.asnumpy()) for x, y in loader])
    for (x0, y0), (x1, y1) in zip(*batches):
        assert x0.shape == (3, 3, 300, 300) and y0.shape[0] == 3 and y0.shape[2] == 6
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)
    labels = np.concatenate([y for _, y in batches[0]])
    rows = labels.reshape(-1, 6)
    real = rows[rows[:, 4] >= 0]
    assert (real[:, :4] >= 0).all() and (real[:, :4] <= 300).all() and len(real) >= 6
    assert (rows[rows[:, 4] < 0] == -1).all()  # GluonCV's padding rows


def test_augment_refuses_to_pass_boxes_through_a_geometric_pipeline_unnamed():
    voc = VOCDetection(str(VOC_CAT), as_ndarray=False)
    with pytest.raises(InputError, match=r"looks like boxes, and the pipeline moves pixels: say augment\(\.\.\., "
                                         r"targets='boxes'\)"):
        augment(voc, "RandomFlipLeftRight", seed=0)[0]
    img, label = augment(voc, "RandomColorJitter(0.3, 0.3)", seed=0)[0]  # pixels only: the label is still right
    np.testing.assert_array_equal(label, voc[0][1])
    assert augment(voc, "RandomFlipLeftRight", seed=0, targets=())[0][1] is not None  # said: not a target
    segmentation = [(voc[0][0], (voc[0][0][:, :, 0] > 128).astype(np.uint8))]
    with pytest.raises(InputError, match="looks like a mask"):
        augment(segmentation, "RandomResizedCrop(64)", seed=0)[0]
    img, mask = augment(segmentation, "RandomResizedCrop(64)", seed=0, targets="masks")[0]
    assert img.shape == (64, 64, 3) and mask.shape == (64, 64) and set(np.unique(mask)) <= {0, 1}
