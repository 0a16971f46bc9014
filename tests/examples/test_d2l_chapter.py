"""D2L's image-augmentation chapter runs with gluon_augplug's transforms swapped in by one import."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared_file

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
