"""Gluon's fn(img, label) with the label's kind said (Pipeline.for_dataset), and the old guess by shape warning."""
from __future__ import annotations

import doctest
import pickle

import numpy as np
import pytest

import gluon_augplug.pipeline.items as items
from gluon_augplug import build_pipeline
from gluon_augplug.errors import InputError
from gluon_augplug.testing import cat_image


def test_the_docstring_example_runs():
    assert doctest.testmod(items).failed == 0


def test_boxes_whose_count_equals_the_image_height_are_boxes_when_said():
    """The guess took an (N, >=4) box array for a mask whenever N was the image's height and its columns its width."""
    img = np.zeros((6, 5, 3), np.uint8)
    boxes = np.tile(np.array([[0.0, 0.0, 2.0, 2.0, 1.0]]), (6, 1))  # 6 boxes of 5 columns: the image's shape
    with pytest.warns(DeprecationWarning, match=r"for_dataset\(label=...\)"):
        _, guessed = build_pipeline("RandomFlipLeftRight(p=1.0)")(img, boxes)
    assert guessed.dtype == boxes.dtype and not np.allclose(guessed[:, 0], 3.0)  # moved as a mask: wrong
    _, moved = build_pipeline("RandomFlipLeftRight(p=1.0)").for_dataset(label="boxes")(img, boxes)
    np.testing.assert_allclose(moved[:, [0, 2]], np.tile([[3.0, 5.0]], (6, 1)))


def test_each_kind_of_label(tmp_path):
    cat = cat_image()[:64, :80]
    pipe = build_pipeline("RandomFlipLeftRight(p=1.0), Resize(40)", seed=0)
    img, label = pipe.for_dataset()(cat, 3)
    assert label == 3 and img.shape == (40, 40, 3)
    mask = np.zeros((64, 80), np.uint8)
    mask[:, :10] = 1
    img, moved, extra = pipe.for_dataset(label="mask")(cat, mask, "id-7")
    assert extra == "id-7" and moved.shape == (40, 40) and moved[:, -4:].all() and not moved[:, :30].any()
    fn = pickle.loads(pickle.dumps(pipe.for_dataset(label="mask")))  # DataLoader workers get it pickled
    np.testing.assert_array_equal(fn(cat, mask)[1], moved)
    with pytest.raises(InputError, match="for_dataset\\(label='segmentation'\\): the label is one of 'class', 'mask'"):
        pipe.for_dataset(label="segmentation")
    with pytest.raises(InputError, match="expected a dict label with 'bbox' and 'joints_3d'"):
        pipe.for_dataset(label="pose")(cat, mask)
