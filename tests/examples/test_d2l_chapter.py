"""D2L's image-augmentation chapter runs with gluon_augplug's transforms swapped in by one import."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_file

pytestmark = pytest.mark.pinned  # the scripts and the comparisons run on MXNet (and GluonCV)

CELLS = Path(__file__).with_name("d2l_chapter_cells.py")


def test_the_chapters_cells_run_with_one_changed_import():
    proc = subprocess.run([sys.executable, str(CELLS), str(shared_file("cat1.jpg")),
                           str(shared_file("cifar10-jpg.tar.gz"))], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    # numpy-semantics arrays in, numpy-semantics arrays out (the chapter runs under npx.set_np())
    assert seen["flip"][:2] == ["mxnet.numpy", [400, 500, 3]] and seen["flip"][2] == 2  # flipped and not
    assert seen["flip_tb"] == 2 and seen["resized"] == [[200, 200, 3]]
    assert seen["brightness"] > 4 and seen["hue"] > 4 and seen["color"] > 4
    assert seen["composed"] == ["mxnet.numpy", [200, 200, 3], "uint8"]
    epochs = seen["epochs"]
    assert [e["samples"] for e in epochs] == [500] * 4 and epochs[0]["batch_type"] == "mxnet.numpy"
    # ten classes: it learns (the loss falls from about ln 10) and stays far from memorising 500 images
    assert 1.5 < epochs[0]["loss"] < 2.5 and epochs[-1]["loss"] < epochs[0]["loss"] - 0.02
    assert all(0.04 < e["test_acc"] < 0.9 for e in epochs)


# every class of mxnet.gluon.data.vision.transforms that the chapter or GluonCV's scripts construct
DROP_IN = ("Compose", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomResizedCrop", "RandomFlipLeftRight",
           "RandomFlipTopBottom", "RandomColorJitter", "RandomBrightness", "RandomContrast", "RandomSaturation",
           "RandomHue", "RandomLighting", "RandomApply")


def test_the_drop_in_takes_every_call_mxnets_classes_take():
    """Each of MXNet's parameters exists in ours at the same position with the same default (ours may add
    parameters after them, or give a default where MXNet requires the argument)."""
    import inspect

    from mxnet.gluon.data.vision import transforms as mxnet_transforms

    from gluon_augplug import transforms

    for name in DROP_IN:
        theirs = [p for p in inspect.signature(getattr(mxnet_transforms, name).__init__).parameters.values()
                  if p.name != "self"]
        ours = list(inspect.signature(getattr(transforms, name)).parameters.values())
        assert [p.name for p in ours[: len(theirs)]] == [p.name for p in theirs], name
        for mine, their in zip(ours, theirs):
            if their.default is not inspect.Parameter.empty:
                assert mine.default == their.default, (name, mine.name)
