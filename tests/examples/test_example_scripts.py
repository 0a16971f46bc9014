"""examples/train_cifar10.py and examples/augmentation_tour.py, run as a user runs them."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_distribution, shared_file

pytestmark = pytest.mark.pinned  # the scripts and the comparisons run on MXNet (and GluonCV)

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


GLUONCV_FLAGS = ("--batch-size", "--num-gpus", "--model", "-j", "--num-data-workers", "--num-epochs", "--lr",
                 "--momentum", "--wd", "--lr-decay", "--lr-decay-period", "--lr-decay-epoch", "--drop-rate", "--mode",
                 "--save-period", "--save-dir", "--resume-from", "--save-plot-dir")


def run_script(tmp_path, name, *extra, env=None):
    out = tmp_path / name
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_cifar10.py"), "--data-root",
         str(shared_file("cifar10-jpg.tar.gz")), "--train-limit", "64", "--test-limit", "32", "--batch-size", "8",
         "--ctx", "cpu:0,cpu:1", "--save-dir", str(out / "params"), "--save-plot-dir", str(out), "--save-period", "1",
         *extra], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr, out  # logging writes to stderr, as GluonCV's script's does


def test_train_script_takes_gluoncvs_flags():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "train_cifar10.py"), "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for flag in GLUONCV_FLAGS + ("--train-aug", "--test-aug", "--seed", "--data-root"):
        assert f"{flag} " in proc.stdout or f"{flag}," in proc.stdout, flag


def test_train_script_runs_gluoncvs_loop_with_plugin_transforms_reproducibly(tmp_path):
    """A plugin's transform by name, 2 devices, NAG, hybrid; the same parameters with 0 and 2 workers;
    GluonCV's outputs (history plot, best/periodic/final parameters, its log line); resume from a file."""
    plugin = make_distribution(tmp_path / "plugin", "augplug-twobits", "1.0", {"twobits": "augplug_twobits"},
                               {"augplug_twobits": PLUGIN})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}
    aug = ("--train-aug", "RandomCrop(32, pad=4), TwoBits, RandomFlipLeftRight, ToTensor", "--num-epochs", "2",
           "--mode", "hybrid")
    log, a = run_script(tmp_path, "a", *aug, "-j", "0", env=env)
    assert "train augmentation: RandomCrop(size=32, pad=4), TwoBits, RandomFlipLeftRight, ToTensor" in log
    assert "[Epoch 1] train=" in log and " val=" in log and " loss=" in log and " time: " in log
    assert (a / "cifar_resnet20_v1_history.png").stat().st_size > 1000
    saved = sorted(p.name for p in (a / "params").iterdir())
    assert "cifar10-cifar_resnet20_v1-0.params" in saved and "cifar10-cifar_resnet20_v1-1.params" in saved
    assert any(name.endswith("-best.params") for name in saved)
    _, b = run_script(tmp_path, "b", *aug, "-j", "2", env=env)
    final = "params/cifar10-cifar_resnet20_v1-1.params"
    assert (a / final).read_bytes() == (b / final).read_bytes()  # the seed fixes the run, whatever -j
    log, _ = run_script(tmp_path, "c", "--resume-from", str(a / final), "--num-epochs", "1", "-j", "0", env=env)
    assert "[Epoch 0] train=" in log


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


def tiny_voc(root):
    """Four drawn images in the Pascal VOC layout: squares and discs with exact boxes."""
    import cv2

    for sub in ("Annotations", "JPEGImages", "ImageSets/Main"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = []
    for k in range(4):
        img = np.full((160, 200, 3), 40, np.uint8)
        objects = []
        for name, colour in (("square", (250, 200, 0)), ("disc", (0, 120, 250))):
            x0, y0 = int(rng.integers(5, 120)), int(rng.integers(5, 90))
            side = int(rng.integers(30, 60))
            if name == "square":
                img[y0:y0 + side, x0:x0 + side] = colour
            else:
                cv2.circle(img, (x0 + side // 2, y0 + side // 2), side // 2, colour, -1)
            objects.append(f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x0 + 1}</xmin>"
                           f"<ymin>{y0 + 1}</ymin><xmax>{x0 + side}</xmax><ymax>{y0 + side}</ymax></bndbox></object>")
        ids.append(f"img{k}")
        cv2.imwrite(str(root / "JPEGImages" / f"img{k}.jpg"), img[:, :, ::-1])
        (root / "Annotations" / f"img{k}.xml").write_text(
            f"<annotation><size><width>200</width><height>160</height><depth>3</depth></size>{''.join(objects)}"
            f"</annotation>")
    (root / "ImageSets" / "Main" / "train.txt").write_text("\n".join(ids) + "\n")
    return root


def test_ssd_script_trains_a_gluoncv_ssd_on_a_voc_folder_with_augmentation_by_name(tmp_path):
    """GluonCV's SSD loop on two CPU devices: ssd-train moves images and boxes, GluonCV's target generator
    makes anchor targets, SSDMultiBoxLoss trains; the losses are real and fall, VOC07 mAP is reported."""
    import re

    root = tiny_voc(tmp_path / "voc")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_ssd.py"), "--dataset-root", str(root), "--classes",
         "square,disc", "--epochs", "6", "--batch-size", "2", "--ctx", "cpu:0,cpu:1", "-j", "0", "--lr", "0.001",
         "--log-interval", "1", "--val-interval", "3", "--save-prefix", str(tmp_path / "ssd_"), "--save-interval", "6",
         "--tta", "flip"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert "train augmentation: RandomColorDistort, RandomExpand" in log
    costs = [float(v) for v in re.findall(r"Training cost: [\d.]+, CrossEntropy=([\d.]+)", log)]
    assert len(costs) == 6 and all(np.isfinite(costs)) and np.mean(costs[-2:]) < 0.8 * costs[0], costs
    assert "square=" in log and "disc=" in log and "mAP=" in log
    with_views = re.findall(r"Validation with flip: \n(?:.*\n)*?mAP=([\d.na]+)", log)  # the flip test, side by side
    assert len(with_views) == 2, log[-2000:]
    assert (tmp_path / "ssd_ssd_300_mobilenet0.25_0005.params").stat().st_size > 100_000


def test_segmentation_script_trains_a_gluoncv_fcn_on_a_drawn_voc_folder(tmp_path):
    """GluonCV's segmentation loop on two CPU devices with seg-train's recipe (at base 104, crop 96): a
    random-weight FCN (ResNet-50) learns the drawn squares and discs; the loss falls, mIoU beats predicting
    background everywhere (0.29 here), and each epoch's checkpoint is named by its mIoU."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_segmentation.py"), "--make-data", str(tmp_path / "voc"),
         "--num-images", "20", "--num-class", "3", "--base-size", "104", "--crop-size", "96", "--epochs", "8",
         "--batch-size", "4", "--test-batch-size", "4", "--ctx", "cpu:0,cpu:1", "--workers", "0", "--lr", "0.01",
         "--save-dir", str(tmp_path / "ckpt"), "--tta", "flip"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert ("train augmentation: RandomFlipLeftRight, RandomResizeSide(sizes=[52, 208]), PadIfNeeded(size=96, "
            "position='top_left'), RandomCrop(size=96, upscale=False)") in log
    losses = [float(v) for v in re.findall(r"Epoch \d+: training loss ([\d.]+)", log)]
    assert len(losses) == 8 and np.mean(losses[-2:]) < 0.6 * losses[0], losses
    ious = [float(v) for v in re.findall(r"validation pixAcc: [\d.]+, mIoU: ([\d.]+)", log)]
    assert len(ious) == 8 and max(ious) > 0.4, ious
    flipped = [float(v) for v in re.findall(r"\(with flip: pixAcc [\d.]+, mIoU ([\d.]+)\)", log)]
    assert len(flipped) == 8 and max(flipped) > 0.4, flipped  # the flip test, side by side
    saved = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert len(saved) == 8 and saved[-1].startswith("epoch_0007_mIoU_") and saved[-1].endswith(".params"), saved


def test_simple_pose_script_trains_on_drawn_figures_on_two_devices(tmp_path):
    """GluonCV's SimplePose loop on two CPU devices with simple-pose-train's recipe (the script's scale 0.30 and
    rotation 40, at 128x96): a random-weight simple_pose_resnet18_v1b learns the stick figures' five joints; the
    loss falls, validation heatmap accuracy rises from 0, and the last epoch's checkpoint is written whole."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_simple_pose.py"), "--make-data", "48", "--input-size", "128,96",
         "--num-epochs", "10", "--batch-size", "8", "--ctx", "cpu:0,cpu:1", "-j", "0", "--log-interval", "0",
         "--save-dir", str(tmp_path / "params"), "--flip-test"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert ("train augmentation: RandomFlipLeftRight, RandomBoxWarp(size=[96, 128], margin=1.25, scale_factor=0.3, "
            "rotation_factor=40, rotation_p=0.6)") in log
    losses = [float(v) for v in re.findall(r"Epoch \d+: training loss ([\d.]+)", log)]
    assert len(losses) == 10 and np.mean(losses[-2:]) < 0.7 * losses[0], losses
    accuracy = [float(v) for v in re.findall(r"validation accuracy ([\d.]+)", log)]
    assert max(accuracy[-4:]) > 0.25 and max(accuracy[-4:]) > accuracy[0] + 0.2, accuracy
    flipped = [float(v) for v in re.findall(r"\(with flip: ([\d.]+)\)", log)]  # GluonCV's --flip-test beside it
    assert len(flipped) == 10 and max(flipped[-4:]) > 0.25, flipped
    saved = sorted(p.name for p in (tmp_path / "params").iterdir())
    assert saved == ["simple_pose_resnet18_v1b-9.params"], saved


def test_train_recognizer_learns_drawn_clips_on_two_devices(tmp_path):
    """GluonCV-style TSN training (random-weight ResNet-18 v1b, 3 segments) on a drawn clip set, on two CPU
    devices, with the clip augmentation picked by name: the loss falls and validation beats chance."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_recognizer.py"), "--make-data", str(tmp_path / "clips"),
         "--num-classes", "3", "--num-segments", "3", "--new-width", "128", "--new-height", "96", "--input-size", "80",
         "--train-aug", "MultiScaleCrop(80), RandomFlipLeftRight, ToTensor, Normalize(0.45, 0.225)",
         "--val-aug", "CenterCrop(80), ToTensor, Normalize(0.45, 0.225)", "--ctx", "cpu:0,cpu:1", "-j", "2",
         "--batch-size", "6", "--num-epochs", "10", "--lr", "0.002", "--log-interval", "2",
         "--save-dir", str(tmp_path / "params"), "--save-frequency", "10"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert "train augmentation: MultiScaleCrop(size=80), RandomFlipLeftRight" in log
    losses = [float(v) for v in re.findall(r"train loss=([\d.]+)", log)]
    accuracy = [float(v) for v in re.findall(r"val acc=([\d.]+)", log)]
    assert len(losses) == 10 and all(np.isfinite(losses)), log[-2000:]
    assert np.mean(losses[-3:]) < 0.8 * losses[0], losses
    assert max(accuracy[-3:]) > 0.5, accuracy  # three classes: chance is 1/3
    assert "clips/sec" in log
    assert (tmp_path / "params" / "resnet18_v1b_009.params").stat().st_size > 1_000_000


def test_train_recognizer_takes_gluoncvs_presets_by_name_and_feeds_i3d(tmp_path):
    """--train-aug tsn-train / --val-aug video-val at GluonCV's 224 for one epoch, and the I3D path: clips in
    (C, T, H, W) through GluonCV's random-weight i3d_resnet50_v1_kinetics400."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_recognizer", ROOT / "examples" / "train_recognizer.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    losses = script.main(["--make-data", str(tmp_path / "clips"), "--num-classes", "2", "--num-segments", "2",
                          "--train-aug", "tsn-train", "--val-aug", "video-val", "--batch-size", "4", "-j", "0",
                          "--num-epochs", "1", "--log-interval", "0", "--ctx", "cpu:0,cpu:1"])
    assert len(losses) == 1 and np.isfinite(losses[0])
    import mxnet as mx
    from gluon_augplug import augment
    from gluon_augplug.data import ClipDataset

    args = script.parse_args(["--model", "i3d_resnet50_v1_kinetics400", "--num-classes", "2", "--new-length", "8"])
    net = script.get_network(args, [mx.cpu()])
    clips = augment(ClipDataset(str(tmp_path / "clips" / "setting.txt"), str(tmp_path / "clips" / "rawframes"),
                                new_length=8, new_width=128, new_height=96, train=False),
                    "CenterCrop(64), ToTensor, Normalize(0.45, 0.225)", clip_layout="CTHW")
    batch = mx.nd.array(np.stack([clips[0][0], clips[1][0]]))
    assert batch.shape == (2, 3, 8, 64, 64)
    assert net(batch).shape == (2, 2)
