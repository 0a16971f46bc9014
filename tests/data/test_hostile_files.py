"""Hostile and careless files through the readers (issue 22's families): each refused with an error naming
the file and the field, never a traceback from deep inside, a hang or a full memory."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gluon_augplug.data.detection import COCODetection, VOCDetection, decode_segmentation, read_json, rle_counts
from gluon_augplug.io.formats import DataFormatError
from gluon_augplug.errors import AugplugError, InputError, ParameterError
from tests.conftest import shared_file

AUGPLUG = shutil.which("augplug", path=str(Path(sys.executable).parent))


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _returns_within(seconds: float, call) -> BaseException | None:
    """Run ``call`` in a thread; fail if it blocks (a FIFO read would block forever)."""
    outcome: list = []

    def run():
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the read blocked"
    return outcome[0]


def test_fifos_and_devices_are_refused_not_waited_on(tmp_path):
    voc = tmp_path / "voc"
    shutil.copytree(shared_file("voc-cat/Annotations/cat1.xml").parents[1], voc)
    (voc / "Annotations" / "cat1.xml").unlink()
    _fifo(voc / "Annotations" / "cat1.xml")
    error = _returns_within(10, lambda: VOCDetection(str(voc), classes="auto"))
    assert isinstance(error, DataFormatError) and "not a regular file" in str(error)
    for reader in (lambda p: read_json(p, "COCO annotation file"),):
        error = _returns_within(10, lambda: reader(str(_fifo(tmp_path / "coco.json"))))
        assert isinstance(error, DataFormatError) and "not a regular file" in str(error)
    os.symlink("/dev/zero", tmp_path / "zero.json")
    assert "not a regular file" in str(_returns_within(10, lambda: read_json(str(tmp_path / "zero.json"), "x")))


def test_checkpoints_that_are_fifos_huge_or_not_text(tmp_path):
    from gluon_augplug.train.checkpoint import CheckpointError, load_checkpoint

    run = tmp_path / "run"
    run.mkdir()
    _fifo(run / "checkpoint.json")
    error = _returns_within(10, lambda: load_checkpoint(str(run)))
    assert isinstance(error, CheckpointError) and "not a regular file" in str(error)
    (run / "checkpoint.json").unlink()
    (run / "checkpoint.json").write_bytes(b'{"epoch": 1, "x": "\xff\xfe"}')
    with pytest.raises(CheckpointError, match=r"is not UTF-8 text \(byte 19"):
        load_checkpoint(str(run))
    (run / "checkpoint.json").write_text('{"epoch": ' + "9" * 5000 + "}")
    with pytest.raises(CheckpointError, match="is corrupt: Exceeds the limit"):
        load_checkpoint(str(run))


@pytest.mark.parametrize("field, value, message", [
    ("train_limit", "10", "train_limit='10' (must be an integer or null)"),
    ("test_limit", [1], "test_limit='[1]' (must be an integer or null)"),
    ("ctx", 5, "ctx='5' (must be a string or null)"),
    ("gpus", [0], "gpus='[0]' (must be a string or null)"),
    ("model", 7, "model='7' (must be a string)"),
])
def test_tampered_settings_in_a_checkpoint_are_named(field, value, message):
    from gluon_augplug.train.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        TrainConfig.from_dict({"data": "x", **{field: value}}).validate()


def test_rng_states_out_of_range_are_named():
    from gluon_augplug.train.checkpoint import CheckpointError, restore_rng_states, rng_states

    states = rng_states()
    states["numpy"][1][3] = 2**40
    with pytest.raises(CheckpointError, match="numpy's random generator is invalid"):
        restore_rng_states(states)
    states = rng_states()
    states["python"][1] = states["python"][1][:10]
    with pytest.raises(CheckpointError, match="Python's random generator is invalid"):
        restore_rng_states(states)


_DEFAULT = object()


def _coco(tmp_path: Path, image: Any = _DEFAULT, annotation: Any = _DEFAULT) -> str:
    data = {"images": [{"id": 1, "file_name": "cat1.jpg", "height": 400, "width": 500} if image is _DEFAULT
                       else image],
            "categories": [{"id": 1, "name": "cat"}],
            "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [35, 88, 436, 231],
                             "segmentation": [[35, 88, 470, 88, 470, 318]]} if annotation is _DEFAULT else annotation]}
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize("image, message", [
    ({"id": 1, "file_name": "cat1.jpg", "height": "480", "width": 500}, r"'height' must be an integer in \[1, 65535\]"),
    ({"id": 1, "file_name": "cat1.jpg", "height": [480], "width": 500}, "'height' must be an integer"),
    ({"id": 1, "file_name": "cat1.jpg", "height": 1e308, "width": 500}, "'height' must be an integer"),
    ({"id": 1, "file_name": "cat1.jpg", "height": 10**9, "width": 10**9}, "'height' must be an integer"),
    ({"id": 1, "file_name": "cat1.jpg", "height": 60000, "width": 60000}, "more than the limit of 89,478,485 pixels"),
    ({"id": 1, "file_name": "../../etc/passwd", "height": 4, "width": 4}, "relative path inside the image folder"),
    ({"id": [1], "file_name": "cat1.jpg", "height": 4, "width": 4}, "'id' must be an integer or a short string"),
])
def test_coco_images_with_bad_fields(tmp_path, image, message):
    with pytest.raises(DataFormatError, match=rf"instances.json: images\[0\]: .*{message}"):
        COCODetection(str(tmp_path), _coco(tmp_path, image=image))


@pytest.mark.parametrize("segmentation, message", [
    ([["a", "b", "c", "d", "e", "f"]], "polygon 0 holds a value that is not a finite number"),
    ([[1, 2, 3]], "polygon 0 must list x, y pairs"),
    ({"counts": [-5, 200005], "size": [400, 500]}, "RLE 'counts' must be a string or a list"),
    ({"counts": 7, "size": [400, 500]}, "RLE 'counts' must be a string or a list"),
    ({"counts": {"a": 1}, "size": [400, 500]}, "RLE 'counts' must be a string or a list"),
    ({"counts": [200000], "size": [400, 500, 3]}, r"RLE 'size' must be \[height, width\]"),
    ({"counts": [200000], "size": 400}, r"RLE 'size' must be \[height, width\]"),
    ({"counts": "P" * 200_000, "size": [400, 500]}, "a number of more than 7 characters at offset 7"),
    ({"counts": "P" * 2_000_000, "size": [400, 500]}, "longer than the limit of 1,400,007 for a 500x400 image"),
    (None, "'segmentation' must be polygons or an RLE dict"),
])
def test_coco_segmentations_with_bad_fields(tmp_path, segmentation, message):
    voc = shared_file("voc-cat/JPEGImages/cat1.jpg").parent
    annotation = {"id": 5, "image_id": 1, "category_id": 1, "bbox": [35, 88, 436, 231], "segmentation": segmentation}
    data = COCODetection(str(voc), _coco(tmp_path, annotation=annotation), masks=True, as_ndarray=False)
    with pytest.raises(DataFormatError, match=rf"annotations\[0\] \(id 5\): .*{message}"):
        data[0]


@pytest.mark.parametrize("annotation, message", [
    ("not an object", r"annotations\[0\] is str, not an object"),
    (None, r"annotations\[0\] is NoneType, not an object"),
    ({"id": 5, "image_id": 1, "category_id": 1, "bbox": ["a", 1, 2, 3]}, "'bbox' must be \\[x, y, width, height\\]"),
    ({"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 3], "iscrowd": "yes"}, "'iscrowd' must be 0 or 1"),
    ({"id": 5, "image_id": 1.5, "category_id": 1, "bbox": [1, 1, 2, 3]}, "'image_id' must be an integer"),
])
def test_coco_annotations_with_bad_fields(tmp_path, annotation, message):
    with pytest.raises(DataFormatError, match=message):
        COCODetection(str(tmp_path), _coco(tmp_path, annotation=annotation))


def test_a_valid_coco_file_still_reads(tmp_path):
    voc = shared_file("voc-cat/JPEGImages/cat1.jpg").parent
    rle = {"counts": [1000, 5000, 194000], "size": [400, 500]}
    annotation = {"id": 5, "image_id": 1, "category_id": 1, "bbox": [35, 88, 436, 231], "segmentation": rle}
    image, label, masks = COCODetection(str(voc), _coco(tmp_path, annotation=annotation), masks=True,
                                        as_ndarray=False)[0]
    assert masks.shape == (400, 500, 1) and int(masks.sum()) == 5000
    assert rle_counts("01") == [0, 1]


@pytest.mark.parametrize("content, message", [
    ('{"boxes": [["a", 1, 2, 3]]}', "box 0 holds 'a', not a finite number"),
    ('{"boxes": [[1, 2, 3, 4, 1e999]]}', "box 0 holds 'inf', not a finite number"),
    ('{"boxes": [[1, 2, 3, 4]], "names": [1, 2]}', "'names' must be a list of class names"),
    ('{"boxes": [[1, 2, 3, 4]], "names": {"a": 1}}', "'names' must be a list of class names"),
    ("[" * 10_000 + "]" * 10_000, "nests too deep"),
    ("[[1, 2, 3, " + "9" * 5000 + "]]", "Exceeds the limit"),
])
def test_show_box_files_with_bad_content(tmp_path, content, message):
    from gluon_augplug.visual.targets import read_boxes

    path = tmp_path / "boxes.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_boxes(str(path))
    path.write_bytes(content.encode("utf-16"))
    with pytest.raises(InputError, match="is not UTF-8 text"):
        read_boxes(str(path))


def test_a_mask_that_is_really_eps_never_reaches_ghostscript(tmp_path, cat_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "gs-ran"
    (fake_bin / "gs").write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    (fake_bin / "gs").chmod(stat.S_IRWXU)
    mask = tmp_path / "mask.png"
    mask.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 500 400\nshowpage\n")
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    proc = subprocess.run([AUGPLUG, "show", str(cat_path), "-p", "RandomFlipLeftRight", "--mask", str(mask), "-o",
                           str(tmp_path / "grid.png")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "--mask" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_python_api_bounds():
    from gluon_augplug import augment, build_pipeline
    from gluon_augplug.targets.formats import TargetOptions

    with pytest.raises(InputError, match="1,000,000 boxes of 4 columns, more than the limit of 100,000"):
        build_pipeline("RandomFlipLeftRight")(np.zeros((8, 8, 3), np.uint8), boxes=np.zeros((10**6, 4)))
    with pytest.raises(ParameterError, match="box_format"):
        TargetOptions(box_format=["coco"])
    data = augment([np.zeros((4, 4, 3), np.uint8)] * 3, "RandomFlipLeftRight", seed=0)
    for bad in (3, -4, 10**30, 1.5, "0"):
        with pytest.raises(IndexError, match="augment: item"):
            data[bad]
    assert isinstance(data[-1], np.ndarray) and len(list(data)) == 3
    expand = build_pipeline("RandomExpand(max_ratio=64, p=1)", seed=0)
    with pytest.raises(InputError, match=r"RandomExpand: a \d+x\d+ canvas for a 4000x4000 image .* more than the limit"):
        expand(np.zeros((4000, 4000, 3), np.uint8))


def test_errors_are_the_packages_own():
    assert issubclass(DataFormatError, AugplugError)
    assert decode_segmentation([[0, 0, 4, 0, 4, 4, 0, 4]], 8, 8).sum() > 0


def test_a_fifo_as_a_data_set_and_infinite_voc_coordinates(tmp_path):
    from gluon_augplug.data.datasets import open_dataset
    from gluon_augplug.data.detection import _parse_voc

    fifo = _fifo(tmp_path / "data.tar.gz")
    error = _returns_within(10, lambda: open_dataset(str(fifo)))
    assert isinstance(error, DataFormatError) and "not a regular file" in str(error)
    xml = shared_file("voc-cat/Annotations/cat1.xml").read_text().replace("<xmax>470</xmax>", "<xmax>inf</xmax>", 1)
    (tmp_path / "a.xml").write_text(xml)
    with pytest.raises(DataFormatError, match=r"<bndbox><xmax> is 'inf', not a finite number of pixels"):
        _parse_voc(str(tmp_path / "a.xml"))


def test_a_numpy_state_position_past_its_array_is_refused_not_a_crash():
    from gluon_augplug.train.checkpoint import CheckpointError, restore_rng_states, rng_states

    for where, value in ((2, 10**8), (2, -5), (0, "PCG64"), (3, 7), (4, float("inf"))):
        states = rng_states()
        states["numpy"][where] = value
        with pytest.raises(CheckpointError, match="numpy's random generator is invalid"):
            restore_rng_states(states)
    states = rng_states()
    states["python"][2] = "x"
    with pytest.raises(CheckpointError, match="Python's random generator is invalid"):
        restore_rng_states(states)


@pytest.mark.parametrize("field, value, message", [
    ("num_workers", 100000, r"num_workers=100000 \(at most 256\)"),
    ("threads", 5000, r"threads=5000 \(at most 256\)"),
    ("batch_size", 10**7, r"batch_size=10000000 \(at most 65536\)"),
    ("lr", 10**400, "must be a finite number"),
    ("lr_decay_epochs", [10**400], "must be epochs >= 0"),
    ("lr_decay", 1e200, r"lr_decay=1e\+200 \(allowed: \[0, 1\]"),
])
def test_settings_out_of_any_sane_range(field, value, message):
    from gluon_augplug.train.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"data": "x", field: value}).validate()


@pytest.mark.pinned
def test_device_strings_that_are_digits_only_to_unicode():
    from gluon_augplug.train.config import ConfigError, TrainConfig
    from gluon_augplug.train.loop import resolve_contexts

    for ctx, gpus in (("cpu:\u00b2", None), ("cpu:" + "9" * 5000, None), (None, "\u00b2")):
        with pytest.raises(ConfigError):
            resolve_contexts(TrainConfig(data="x", ctx=ctx, gpus=gpus))


def test_voc_files_with_odd_encodings_doctypes_flags_and_ids(tmp_path):
    from gluon_augplug.data.detection import _parse_voc, _read_list

    xml = shared_file("voc-cat/Annotations/cat1.xml").read_text()
    for head, message in (('<?xml version="1.0" encoding="rot13"?>', "declared encoding cannot be read"),
                          ('<?xml version="1.0" encoding="shift_jis"?>', "declared encoding cannot be read|malformed"),
                          ('<!DOCTYPE a [<!ENTITY x "y">]>', "DOCTYPE or ENTITY declaration")):
        (tmp_path / "a.xml").write_text(head + xml.split("?>", 1)[-1] if xml.startswith("<?xml") else head + xml)
        with pytest.raises(DataFormatError, match=message):
            _parse_voc(str(tmp_path / "a.xml"))
    (tmp_path / "a.xml").write_text(xml.replace("<difficult>0</difficult>", "<difficult>" + "7" * 4000 +
                                                "</difficult>", 1))
    assert {d for _, _, d in _parse_voc(str(tmp_path / "a.xml"))} <= {0, 1}
    (tmp_path / "train.txt").write_text("cat1\n../../etc/passwd\n")
    with pytest.raises(DataFormatError, match=r"line 2: '\.\./\.\./etc/passwd' is not a VOC image id"):
        _read_list(str(tmp_path / "train.txt"))


def test_coco_budgets_for_polygons_rle_and_duplicate_ids(tmp_path):
    from gluon_augplug.data.detection import decode_segmentation

    zigzag = [[float(v) for i in range(60_000) for v in (i % 500, 0 if i % 2 else 399)]]
    with pytest.raises(DataFormatError, match="more than the limit of 10,000 polygons and 100,000 points"):
        decode_segmentation(zigzag * 2, 400, 500, "ann")
    with pytest.raises(DataFormatError, match="longer than the limit of 2,000,000"):
        decode_segmentation({"counts": "0" * 2_000_001, "size": [4000, 5000]}, 4000, 5000, "ann")
    data = {"images": [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 4},
                       {"id": 1, "file_name": "b.jpg", "height": 4, "width": 4}],
            "categories": [{"id": 1, "name": "cat"}], "annotations": []}
    (tmp_path / "c.json").write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match=r"images\[1\]: id 1 is given to two images"):
        COCODetection(str(tmp_path), str(tmp_path / "c.json"))


def test_sixteen_bit_masks_with_many_ids_draw_in_one_pass(cat):
    from gluon_augplug.visual.targets import draw_targets

    mask = (np.arange(400 * 500, dtype=np.int64).reshape(400, 500) % 65536).astype(np.uint16)
    out = draw_targets(cat, mask=mask)
    assert out.shape == cat.shape and (out[0, 0] == cat[0, 0]).all() and not (out[0, 1] == cat[0, 1]).all()


def test_target_options_with_odd_keys_and_huge_numbers():
    from gluon_augplug.targets.formats import TargetOptions

    with pytest.raises(InputError, match="the names must be strings"):
        TargetOptions.of({1: 2})
    with pytest.raises(ParameterError, match="min_area"):
        TargetOptions(min_area=10**400)
