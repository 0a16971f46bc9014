"""augplug pack: what MXNet's readers read, im2rec's choices (resize, quality, shuffle, shards), atomically."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from gluon_augplug.cli.main import main
from gluon_augplug.data.pack import pack
from gluon_augplug.data.streaming import ImageFolder, RecordDataset, RecordDetectionDataset
from gluon_augplug.errors import InputError
from tests.conftest import shared_file
from tests.optional import mx


@pytest.mark.pinned
def test_a_tree_packed_reads_back_as_the_tree_and_through_image_record_iter(photo_tree, tmp_path):
    rec = pack(str(photo_tree), str(tmp_path / "t"))[0]
    tree, ours = ImageFolder(str(photo_tree)), RecordDataset(rec)
    for i in range(len(tree)):  # JPEGs that need no change are stored as they are
        np.testing.assert_array_equal(ours[i][0], tree[i][0])
        assert ours[i][1] == tree[i][1]
    it = mx.io.ImageRecordIter(path_imgrec=rec, path_imgidx=str(tmp_path / "t.idx"), data_shape=(3, 64, 64),
                               batch_size=13, resize=64)
    batch = it.next()
    assert batch.data[0].shape == (13, 3, 64, 64)
    np.testing.assert_array_equal(batch.label[0].asnumpy(), tree.labels)


def test_resize_shuffle_and_shards(photo_tree, tmp_path):
    paths = pack(str(photo_tree), str(tmp_path / "s"), resize=80, quality=80, shuffle=True, seed=4, shards=3,
                 threads=3)
    assert [os.path.basename(p) for p in paths] == [f"s-0000{i}-of-00003.rec" for i in range(3)]
    shards = [RecordDataset(p) for p in paths]
    keys = [k for s in shards for k in s.keys]
    assert sorted(keys) == list(range(13)) and keys != list(range(13))  # shuffled, each image once
    assert keys == np.random.default_rng(4).permutation(13).tolist()
    assert all(min(s[0][0].shape[:2]) == 80 for s in shards)
    again = pack(str(photo_tree), str(tmp_path / "again"), resize=80, quality=80, shuffle=True, seed=4, shards=3)
    assert [open(a, "rb").read() for a in again] == [open(p, "rb").read() for p in paths]


def test_nothing_is_left_half_written(photo_tree, tmp_path):
    broken = tmp_path / "tree"
    shutil.copytree(photo_tree, broken)
    victim = sorted((broken / "class_2").iterdir())[1]
    victim.write_bytes(victim.read_bytes()[:3000])
    (tmp_path / "out.rec").write_bytes(b"previous run")
    with pytest.raises(InputError, match="out.rec exists; pass --overwrite"):
        pack(str(broken), str(tmp_path / "out"))
    with pytest.raises(Exception, match=rf"{victim.name}.*corrupt or truncated"):
        pack(str(broken), str(tmp_path / "out"), resize=64, overwrite=True)
    assert (tmp_path / "out.rec").read_bytes() == b"previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.rec", "tree"]


def test_a_damaged_jpeg_stored_as_it_is_is_refused_and_no_shard_is_published(photo_tree, tmp_path):
    broken = tmp_path / "tree"
    shutil.copytree(photo_tree, broken)
    victim = sorted((broken / "class_2").iterdir())[-1]  # the last image: it lands in the last shard
    victim.write_bytes(victim.read_bytes()[:5000])
    with pytest.raises(Exception, match=rf"{victim.name}.*corrupt or truncated"):
        pack(str(broken), str(tmp_path / "sharded"), shards=2)  # no resize: bytes would be stored as they are
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree"]


@pytest.mark.pinned
def test_coco_and_voc_sources_make_gluoncv_detection_records(tmp_path):
    from gluoncv.data import RecordFileDetection

    voc = shared_file("voc-cat/Annotations/cat1.xml").parents[1]
    coco = {"images": [{"id": 9, "file_name": "cat1.jpg", "height": 400, "width": 500}],
            "categories": [{"id": 17, "name": "cat"}],
            "annotations": [{"id": 1, "image_id": 9, "category_id": 17, "bbox": [35, 88, 436, 231], "area": 1e5}]}
    (tmp_path / "instances.json").write_text(json.dumps(coco))
    rec = pack(str(tmp_path / "instances.json"), str(tmp_path / "coco"), root=str(voc / "JPEGImages"), resize=200)[0]
    image, label = RecordDetectionDataset(rec)[0]
    assert image.shape == (200, 250, 3)
    np.testing.assert_allclose(label, [[17.5, 44, 235, 159, 0]], atol=1e-3)  # half of (35, 88, 470, 318)
    np.testing.assert_allclose(RecordFileDetection(rec)[0][1], label, rtol=1e-6)
    with pytest.raises(InputError, match="needs --root"):
        pack(str(tmp_path / "instances.json"), str(tmp_path / "x"))


def test_the_command_line(photo_tree, tmp_path, capsys):
    assert main(["pack", str(photo_tree), str(tmp_path / "cli"), "--resize", "48", "--shards", "2"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / f"cli-0000{i}-of-00002.rec") for i in range(2)]
    assert main(["pack", str(photo_tree), str(tmp_path / "bad"), "--quality", "101"]) == 2
    assert "quality=101 is invalid; allowed: an integer in [1, 100]" in capsys.readouterr().err
    assert main(["pack", str(tmp_path / "nowhere"), str(tmp_path / "bad")]) == 2
    assert "is not an image tree, an im2rec .lst, a VOC folder or a COCO .json" in capsys.readouterr().err
