"""Fuzzing the readers and the spec parser (Hypothesis, bounded in time): whatever the bytes, the only
exceptions are the package's own, each naming the problem. Seed corpora: the real files in ../shared/data."""
from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gluon_augplug.errors import AugplugError
from tests.conftest import shared_file

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _mutate(seed: bytes, data: st.DataObject) -> bytes:
    """The seed with a few bytes replaced, truncated or extended: mostly-valid files reach deep code."""
    out = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 8))):
        if not out:
            break
        at = data.draw(st.integers(0, len(out) - 1))
        out[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(out)))
    return bytes(out[:cut]) + data.draw(st.binary(max_size=64))


@FUZZ
@given(st.data())
def test_recordio_records_and_index(tmp_path_factory, data):
    from gluon_augplug.io.recordio import RecordWriter
    from gluon_augplug.data.streaming import RecordDataset, RecordDetectionDataset

    folder = tmp_path_factory.mktemp("rec")
    jpeg = shared_file("cat1.jpg").read_bytes()
    with RecordWriter(str(folder / "s.rec")) as w:
        w.write_image(0, 1.0, jpeg[:3000])
        w.write_image(1, [4, 5, 500, 400, 0, 0.1, 0.2, 0.5, 0.6], jpeg[:2000])
    (folder / "s.rec").write_bytes(_mutate((folder / "s.rec").read_bytes(), data))
    if data.draw(st.booleans()):
        (folder / "s.idx").write_bytes(_mutate((folder / "s.idx").read_bytes(), data))
    for cls in (RecordDataset, RecordDetectionDataset):
        try:
            ds = cls(str(folder / "s.rec"))
            for i in range(len(ds)):
                ds[i]
            ds.labels  # noqa: B018 (reading it is the test)
        except AugplugError:
            pass


@FUZZ
@given(st.data())
def test_encoded_images_through_a_pipeline(data):
    from gluon_augplug import build_pipeline
    from gluon_augplug.io.decode import EncodedImage

    seed = shared_file("cat1.jpg").read_bytes()[:20000] if data.draw(st.booleans()) else \
        shared_file("voc-cat/JPEGImages/cat1.jpg").read_bytes()[:4000]
    try:
        build_pipeline("RandomResizedCrop(32)")(EncodedImage(_mutate(seed, data), "fuzz"), np.random.default_rng(0))
    except AugplugError:
        pass


@FUZZ
@given(st.data())
def test_voc_annotations(tmp_path_factory, data):
    from gluon_augplug.data.detection import _parse_voc

    folder = tmp_path_factory.mktemp("voc")
    (folder / "a.xml").write_bytes(_mutate(shared_file("voc-cat/Annotations/cat1.xml").read_bytes(), data))
    try:
        _parse_voc(str(folder / "a.xml"))
    except AugplugError:
        pass


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=20)


@FUZZ
@given(st.data())
def test_coco_files(tmp_path_factory, data):
    from gluon_augplug.data.detection import COCODetection

    folder = tmp_path_factory.mktemp("coco")
    doc = {"images": [{"id": 1, "file_name": "cat1.jpg", "height": 400, "width": 500}],
           "categories": [{"id": 1, "name": "cat"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [35, 88, 436, 231],
                            "segmentation": {"counts": [100, 50, 199850], "size": [400, 500]}}]}
    section = data.draw(st.sampled_from(["images", "categories", "annotations"]))
    key = data.draw(st.sampled_from(sorted(doc[section][0])))
    doc[section][0][key] = data.draw(_JSON)
    (folder / "c.json").write_text(json.dumps(doc))
    try:
        ds = COCODetection(str(shared_file("voc-cat/JPEGImages/cat1.jpg").parent), str(folder / "c.json"),
                           masks=True, as_ndarray=False)
        for i in range(len(ds)):
            ds[i]
    except AugplugError:
        pass


@FUZZ
@given(st.text(max_size=200))
def test_spec_strings(text):
    from gluon_augplug import build_pipeline

    try:
        build_pipeline(text)
    except AugplugError:
        pass


@FUZZ
@given(st.data())
def test_box_files(tmp_path_factory, data):
    from gluon_augplug.visual.targets import read_boxes

    folder = tmp_path_factory.mktemp("boxes")
    path = folder / "b.json"
    content = data.draw(_JSON) if data.draw(st.booleans()) else {"boxes": data.draw(_JSON), "names": data.draw(_JSON)}
    path.write_text(json.dumps(content))
    try:
        read_boxes(str(path))
    except AugplugError:
        pass


_LABEL = st.one_of(st.floats(width=32), st.sampled_from([0.0, 1.0, 2.0, -1.0, 4.0, 5.0, 1e9, 1e30]))


@FUZZ
@given(st.lists(st.one_of(_LABEL, st.lists(_LABEL, min_size=1, max_size=12)), min_size=1, max_size=4))
def test_record_labels(tmp_path_factory, labels):
    """Any float32 label or label vector (NaN, inf, huge, negative, fractional; detection headers and boxes
    included) through both record readers, their labels and their class lists."""
    from gluon_augplug.io.recordio import RecordWriter
    from gluon_augplug.data.streaming import RecordDataset, RecordDetectionDataset
    from tests.data.test_hostile_values import raw_header

    folder = tmp_path_factory.mktemp("labels")
    jpeg = shared_file("voc-cat/JPEGImages/cat1.jpg").read_bytes()
    with RecordWriter(str(folder / "l.rec")) as w:
        for key, label in enumerate(labels):
            w.write(key, raw_header(label, key) + jpeg)  # as any tool may write it, unchecked
    for cls in (RecordDataset, RecordDetectionDataset):
        try:
            ds = cls(str(folder / "l.rec"), encoded=True)
            for i in range(len(ds)):
                ds[i]
            ds.labels  # noqa: B018 (reading it is the test)
            assert len(ds.classes) <= 1 << 20
        except AugplugError:
            pass


_SETTING = st.one_of(st.integers(), st.floats(), st.text(max_size=12), st.none(), st.booleans())


@FUZZ
@given(st.dictionaries(st.sampled_from(["num_segments", "new_length", "new_step", "new_width", "new_height",
                                        "slow_temporal_stride", "fast_temporal_stride", "name_pattern", "backend",
                                        "video_ext", "seed", "slowfast", "temporal_jitter"]), _SETTING, max_size=4),
       st.text(alphabet="0123456789 -+e.x\n", max_size=40))
def test_clip_settings(tmp_path_factory, options, line):
    """Any value of any ClipDataset setting, and any numbers in a setting file's line: a named error or a data
    set whose first clip reads (or names its missing frames)."""
    from gluon_augplug.data.clips import ClipDataset

    folder = tmp_path_factory.mktemp("clips")
    (folder / "s.txt").write_text(f"v1 {line}\n")
    try:
        ds = ClipDataset(str(folder / "s.txt"), str(folder), **options)
        ds[0]
    except AugplugError:
        pass
