"""examples/train_cifar10.py and examples/augmentation_tour.py, run as a user runs them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_distribution, shared_file

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
import gluon_augplug
from gluon_augplug import Transform

class Posterize2(Transform):
    """Keep two bits per channel."""
    def apply(self, img, layout):
        return img & 0xC0

@gluon_augplug.hookimpl
def augplug_register_transforms(register):
    register("TwoBits", Posterize2)
'''


def test_train_script_finds_plugin_transforms_through_entry_points(tmp_path):
    plugin = make_distribution(tmp_path / "plugin", "augplug-twobits", "1.0", {"twobits": "augplug_twobits"},
                               {"augplug_twobits": PLUGIN})
    env = {**os.environ, "PYTHONPATH": str(plugin)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_cifar10.py"), "--data", str(shared_file("cifar10-jpg.tar.gz")),
         "--train-limit", "60", "--test-limit", "30", "--epochs", "2", "--batch-size", "16", "--ctx", "cpu:0,cpu:1",
         "--train-aug", "RandomCrop(32, pad=4), TwoBits, RandomFlipLeftRight, ToTensor"],
        capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "train augmentation: RandomCrop(size=32, pad=4), TwoBits, RandomFlipLeftRight, ToTensor" in proc.stdout
    assert "[epoch 2] loss" in proc.stdout and "test acc" in proc.stdout


def test_augmentation_tour_writes_the_chapters_figures(tmp_path, cat_path):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import augmentation_tour
    finally:
        sys.path.pop(0)
    written = augmentation_tour.main(["--image", str(cat_path), "--out", str(tmp_path)])
    assert [Path(p).name for p in written] == [f"{name}.png" for name, _ in augmentation_tour.FIGURES]
    from PIL import Image

    with Image.open(written[2]) as im:  # resized crops of 200x200 in a 2x4 grid
        assert im.size == (4 * 200 + 5 * 4, 2 * 200 + 3 * 4)
