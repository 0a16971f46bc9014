"""Decoding fused with the first crop: the same draws, records and targets as decode-then-augment; pixels
equal at full scale and within the documented tolerance at reduced scales."""
from __future__ import annotations

import numpy as np
import pytest

from gluon_augplug import augment, build_pipeline
from gluon_augplug.io.decode import EncodedImage, decode, encode_jpeg
from gluon_augplug.pipeline.fused import TOLERANCE, decode_scale
from gluon_augplug.transforms.base import DecodeWindow


@pytest.fixture(scope="module")
def photo_jpeg(cat) -> bytes:
    return encode_jpeg(cat[:375], 90)


@pytest.mark.parametrize("spec, expect_reduced", [
    ("RandomResizedCrop(224), RandomFlipLeftRight", False),
    ("imagenet-standard", False),
    ("imagenet-test", False),
    ("RandomResizedCrop(112, scale=(0.5, 1)), ToTensor", True),
    ("Resize(64), RandomFlipLeftRight", True),
    ("ResizeShortWithin(96, max_size=160)", True),
    ("CenterCrop(100)", False),  # a window of 100 pixels for 100: every pixel is needed
    ("RandomResizedCrop(32)", True),
])
def test_same_draws_and_record_and_close_pixels(photo_jpeg, spec, expect_reduced):
    pipeline = build_pipeline(spec)
    full = decode(photo_jpeg, "cat")
    reduced = 0
    for seed in range(20):
        fused, record = pipeline.apply_with_params(EncodedImage(photo_jpeg, "cat"), np.random.default_rng(seed))
        plain, plain_record = pipeline.apply_with_params(full, np.random.default_rng(seed))
        assert record == plain_record
        assert fused.shape == plain.shape and fused.dtype == plain.dtype
        window = pipeline[0].decode_window(record["children"][0]["params"], full.shape[:2])
        scale = decode_scale(window)
        if scale == 1:
            np.testing.assert_array_equal(fused, plain)
        else:
            reduced += 1
            scale_255 = 255.0 if fused.dtype.kind == "f" and fused.max() <= 10 else 1.0
            assert np.abs(fused.astype(np.float64) - plain).mean() * scale_255 <= TOLERANCE
        np.testing.assert_array_equal(pipeline.replay(EncodedImage(photo_jpeg, "cat"), record), fused)
    assert (reduced > 0) == expect_reduced


def test_boxes_and_masks_move_exactly_as_unfused(photo_jpeg):
    pipeline = build_pipeline("Resize(100), RandomFlipLeftRight", targets=["boxes", "masks"])
    full = decode(photo_jpeg, "cat")
    boxes = np.array([[35, 88, 470, 318, 0], [35, 158, 110, 250, 1]], np.float32)
    mask = np.zeros(full.shape[:2], np.uint8)
    mask[158:250, 35:110] = 2
    for seed in range(6):
        a = pipeline.apply(EncodedImage(photo_jpeg), np.random.default_rng(seed), boxes=boxes, masks=mask)
        b = pipeline.apply(full, np.random.default_rng(seed), boxes=boxes, masks=mask)
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.masks, b.masks)
        assert a.record == b.record


def test_the_scale_rule():
    assert decode_scale(None) == 1
    assert decode_scale(DecodeWindow(0, 0, 500, 375, (224, 224), 1)) == 1
    assert decode_scale(DecodeWindow(0, 0, 500, 400, (200, 250), 1)) == 2
    assert decode_scale(DecodeWindow(0, 0, 500, 400, (50, 62), 1)) == 8
    assert decode_scale(DecodeWindow(10, 10, 100, 100, (26, 26), 1)) == 2


def test_non_jpeg_and_steps_without_a_window_decode_fully(cat):
    import cv2

    png = cv2.imencode(".png", np.ascontiguousarray(cat[:, :, ::-1]))[1].tobytes()
    for data, spec in ((png, "RandomResizedCrop(32)"), (encode_jpeg(cat, 90), "RandomColorJitter(0.4), Resize(32)")):
        pipeline = build_pipeline(spec)
        full = decode(data, "x")
        a, record = pipeline.apply_with_params(EncodedImage(data, "x"), np.random.default_rng(1))
        b, plain = pipeline.apply_with_params(full, np.random.default_rng(1))
        np.testing.assert_array_equal(a, b)
        assert record == plain


@pytest.mark.pinned
def test_augment_over_encoded_items_is_the_same_with_workers(photo_rec):
    import mxnet as mx

    from gluon_augplug.data.streaming import RecordDataset

    data = augment(RecordDataset(str(photo_rec), encoded=True), "RandomResizedCrop(48), ToTensor", seed=3)
    epochs = []
    for workers in (0, 2):
        loader = mx.gluon.data.DataLoader(data, batch_size=5, num_workers=workers)
        epochs.append(np.concatenate([x.asnumpy() for x, _ in loader]))
    np.testing.assert_array_equal(epochs[0], epochs[1])


def test_a_damaged_record_is_named_when_the_pipeline_decodes_it(photo_rec, tmp_path):
    from gluon_augplug.io.formats import DataFormatError
    from gluon_augplug.data.streaming import RecordDataset

    data = bytearray(photo_rec.read_bytes())
    ds = RecordDataset(str(photo_rec))
    body = ds.offsets[4] + 8 + 24 + 2000
    data[body:body + 20000] = bytes(20000)
    (tmp_path / "d.rec").write_bytes(bytes(data))
    (tmp_path / "d.idx").write_text(photo_rec.with_suffix(".idx").read_text())
    pipeline = build_pipeline("RandomResizedCrop(32)")
    damaged = augment(RecordDataset(str(tmp_path / "d.rec"), encoded=True), pipeline, seed=0)
    damaged[3]
    with pytest.raises(DataFormatError, match=rf"d.rec record 4 \(key 4, offset {ds.offsets[4]}\) \(JPEG, "
                                              rf"\d+ bytes\) is corrupt or truncated"):
        damaged[4]


def test_an_empty_pipeline_and_a_plugin_step_with_its_own_run(photo_jpeg):
    from gluon_augplug.pipeline.fused import fusable
    from gluon_augplug.pipeline.pipeline import Pipeline
    from gluon_augplug.transforms.geometric import RandomResizedCrop

    np.testing.assert_array_equal(Pipeline([])(EncodedImage(photo_jpeg)), decode(photo_jpeg, "x"))

    class GatedCrop(RandomResizedCrop):  # the 0.1 way: a run() of its own, which the fused path must not skip
        def run(self, img, rng, layout, replay=None, targets=None):
            return super().run(img, rng, layout, replay, targets) if rng.random() < 2 else (img, {})

    assert fusable(RandomResizedCrop(32)) and not fusable(GatedCrop(32))
