"""Train a SimplePose network (GluonCV's ``simple_pose_resnet*``) in the style of GluonCV's
``scripts/pose/simple_pose/train_simple_pose.py``, with the augmentation picked by name (``--train-aug``, default
``simple-pose-train``'s recipe at ``--input-size`` with the script's scale factor 0.30 and rotation factor 40).

GluonCV's flags (``--model``, ``--num-joints``, ``--input-size``, ``--sigma``, ``--batch-size``, ``-j``,
``--num-epochs``, ``--lr``, ``--wd``, ``--lr-mode``, ``--lr-decay``, ``--lr-decay-epoch``, ``--warmup-epochs``,
``--save-frequency``, ``--save-dir``, ``--log-interval``) and its loop: Adam, ``L2Loss`` weighted by the joints'
target weights, ``HeatmapAccuracy``. The pipeline moves the person's box and the ``joints_3d`` with the image and
swaps the left and right joints on a flip (the data set's ``joint_pairs``); GluonCV's
``SimplePoseGaussianTargetGenerator`` makes the heatmaps after it. ``--data-dir`` reads COCO keypoints with
GluonCV's ``COCOKeyPoints`` (pycocotools needed); ``--make-data N`` draws N stick figures instead (five joints:
head, hands and feet, the left ones on the image's left). Nothing is downloaded: the network starts from random
weights, so on a CPU this shows the pipeline and a loss that falls, not a trained model.

    python examples/train_simple_pose.py --make-data 48 --model simple_pose_resnet18_v1b --input-size 128,96 \\
        --num-epochs 6 --batch-size 8 --ctx cpu:0,cpu:1 -j 0
"""
import argparse
import logging
import os
import time

import mxnet as mx
import numpy as np
from gluoncv.model_zoo import get_model
from gluoncv.model_zoo.simple_pose.pose_target import SimplePoseGaussianTargetGenerator
from gluoncv.utils import LRScheduler, LRSequential
from gluoncv.utils.metrics import HeatmapAccuracy
from mxnet import autograd, gluon

from gluon_augplug import augment, build_pipeline
from gluon_augplug.presets import pose_spec
from gluon_augplug.tta import TTA, black_of

DRAWN_PAIRS = [[1, 2], [3, 4]]  # the stick figures' left and right hands, left and right feet


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train SimplePose networks with augmentations picked by name.")
    p.add_argument("--data-dir", default="~/.mxnet/datasets/coco", help="COCO's root (person_keypoints_*.json)")
    p.add_argument("--make-data", type=int, default=0, metavar="N", help="draw N stick figures and train on them")
    p.add_argument("--num-joints", type=int, default=None, help="default: the data set's (COCO 17, drawn 5)")
    p.add_argument("--model", default="simple_pose_resnet18_v1b", help="a simple_pose_* model of GluonCV's zoo")
    p.add_argument("--input-size", default="256,192", help="height,width of the network's input")
    p.add_argument("--sigma", type=float, default=2, help="the heatmaps' Gaussian sigma, in heatmap cells")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("-j", "--num-data-workers", dest="num_workers", type=int, default=4)
    p.add_argument("--ctx", default="cpu:0", help="devices, e.g. gpu:0,gpu:1 or cpu:0,cpu:1 (GluonCV: --num-gpus)")
    p.add_argument("--num-epochs", type=int, default=140)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--wd", type=float, default=0.0)
    p.add_argument("--lr-mode", default="step")
    p.add_argument("--lr-decay", type=float, default=0.1)
    p.add_argument("--lr-decay-epoch", default="90,120")
    p.add_argument("--warmup-epochs", type=int, default=0)
    p.add_argument("--save-frequency", type=int, default=0, help="save every N epochs (0: only at the end)")
    p.add_argument("--save-dir", default=None, help="where checkpoints go (default: none saved)")
    p.add_argument("--log-interval", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-aug", default=None, help="image + box + joints augmentation: spec, preset or file "
                                                     "(default: simple-pose-train's recipe at --input-size)")
    p.add_argument("--val-aug", default=None, help="default: simple-pose-val's at --input-size")
    p.add_argument("--flip-test", action="store_true",
                   help="also validate with GluonCV's flip test: the heatmaps of the mirror flipped back with the "
                        "joint pairs and shifted one pixel (--tta flip, shift as GluonCV)")
    p.add_argument("--tta", default=None, metavar="VIEWS", help="also validate through these test-time views")
    return p.parse_args(argv)


class DrawnFigures(gluon.data.Dataset):
    """Stick figures on textured backgrounds, as GluonCV's ``COCOKeyPoints`` gives its items: ``(img, {"bbox":
    (xmin, ymin, xmax, ymax), "joints_3d": (5, 3, 2)}, img_id)`` in pixel indices. The figure faces away, so its
    left hand and foot are on the image's left; a flip that swaps them keeps that true."""

    num_joints = 5
    joint_pairs = DRAWN_PAIRS

    def __init__(self, n, seed=0, size=(160, 128)):
        import cv2

        rng = np.random.default_rng(seed)
        w, h = size
        self._items = []
        for k in range(n):
            img = rng.integers(30, 110, (h, w, 3)).astype(np.uint8)
            height = float(rng.uniform(70, 110))
            cx, top = float(rng.uniform(40, w - 40)), float(rng.uniform(4, h - height - 4))
            spread = height * float(rng.uniform(0.25, 0.4))
            head = (cx, top + 0.12 * height)
            hip = (cx + float(rng.uniform(-4, 4)), top + 0.6 * height)
            hands = [(cx - spread, top + float(rng.uniform(0.2, 0.5)) * height),
                     (cx + spread, top + float(rng.uniform(0.2, 0.5)) * height)]
            feet = [(cx - spread * 0.6, top + height), (cx + spread * 0.6, top + height)]
            neck = (cx, top + 0.25 * height)
            colour = tuple(int(v) for v in rng.integers(170, 255, 3))
            for a, b in ((head, neck), (neck, hip), (neck, hands[0]), (neck, hands[1]), (hip, feet[0]),
                         (hip, feet[1])):
                cv2.line(img, tuple(int(round(v)) for v in a), tuple(int(round(v)) for v in b), colour, 3)
            cv2.circle(img, tuple(int(round(v)) for v in head), int(height * 0.09), colour, -1)
            joints = np.zeros((5, 3, 2), np.float32)
            for j, (x, y) in enumerate([head] + hands + feet):
                joints[j, :2, 0] = x, y
                joints[j, :2, 1] = 1
            xs, ys = joints[:, 0, 0], joints[:, 1, 0]
            box = (float(xs.min() - 6), float(ys.min() - 0.1 * height), float(xs.max() + 6), float(ys.max() + 4))
            self._items.append((img, {"bbox": box, "joints_3d": joints}, k))

    def __len__(self):
        return len(self._items)

    def __getitem__(self, idx):
        img, label, img_id = self._items[idx]
        return img, {"bbox": label["bbox"], "joints_3d": label["joints_3d"].copy()}, img_id


class HeatmapTargets:
    """GluonCV's ``SimplePoseGaussianTargetGenerator`` after our augmentation: the heatmaps and their weights."""

    def __init__(self, num_joints, input_size, sigma):
        height, width = input_size
        self._generator = SimplePoseGaussianTargetGenerator(num_joints, (width, height), (width // 4, height // 4),
                                                            sigma)

    def __call__(self, img, label, img_id):
        target, weight = self._generator(label["joints_3d"])
        return img, target, weight, img_id


def evaluate(net, loader, ctx, views=None):
    """Heatmap accuracy; through the test-time views ``views`` (a TTA wrapper) instead when given."""
    metric = HeatmapAccuracy()
    for data, target, _, _ in loader:
        data = gluon.utils.split_and_load(data, ctx, even_split=False)
        target = gluon.utils.split_and_load(target, ctx, even_split=False)
        metric.update(target, [views(x) if views is not None else net(x) for x in data])
    return metric.get()[1]


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.info(args)
    ctx = [mx.Context(kind, int(i)) for kind, i in (c.split(":") for c in args.ctx.split(","))]
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    input_size = tuple(int(v) for v in args.input_size.split(","))
    if args.make_data:
        train_set, val_set = DrawnFigures(args.make_data, args.seed), DrawnFigures(max(8, args.make_data // 4),
                                                                                 args.seed + 1)
    else:
        from gluoncv.data import mscoco

        root = os.path.expanduser(args.data_dir)
        train_set = mscoco.keypoints.COCOKeyPoints(root, splits=("person_keypoints_train2017",))
        val_set = mscoco.keypoints.COCOKeyPoints(root, splits=("person_keypoints_val2017",))
    num_joints = args.num_joints or train_set.num_joints
    targets = {"kinds": ["boxes", "keypoints"], "options": {"flip_pairs": train_set.joint_pairs}}
    train_aug = build_pipeline(args.train_aug or pose_spec("train", input_size, 0.30, 40), targets=targets)
    val_aug = build_pipeline(args.val_aug or pose_spec("val", input_size), targets=targets)  # names from all plugins
    logging.info(f"train augmentation: {train_aug.to_string()}")
    to_targets = HeatmapTargets(num_joints, input_size, args.sigma)
    train_data = augment(train_set, train_aug, seed=args.seed)
    train_loader = gluon.data.DataLoader(train_data.transform(to_targets), args.batch_size, shuffle=True,
                                         last_batch="discard", num_workers=args.num_workers)
    val_loader = gluon.data.DataLoader(augment(val_set, val_aug, seed=args.seed).transform(to_targets),
                                       args.batch_size, last_batch="keep", num_workers=args.num_workers)
    net = get_model(args.model, num_joints=num_joints, pretrained=False, pretrained_base=False, ctx=ctx)
    net.initialize(mx.init.MSRAPrelu(), ctx=ctx)
    iters = max(1, len(train_loader))
    decay_epochs = [int(e) - args.warmup_epochs for e in args.lr_decay_epoch.split(",")]
    scheduler = LRSequential([
        LRScheduler("linear", base_lr=0, target_lr=args.lr, nepochs=args.warmup_epochs, iters_per_epoch=iters),
        LRScheduler(args.lr_mode, base_lr=args.lr, target_lr=0, nepochs=args.num_epochs - args.warmup_epochs,
                    iters_per_epoch=iters, step_epoch=decay_epochs, step_factor=args.lr_decay, power=2)])
    trainer = gluon.Trainer(net.collect_params(), "adam", {"wd": args.wd, "lr_scheduler": scheduler,
                                                           "learning_rate": args.lr})
    loss_fn = gluon.loss.L2Loss()
    metric = HeatmapAccuracy()
    spec = args.tta or ("flip" if args.flip_test else None)
    views = TTA(net, spec, task="pose", joint_pairs=train_set.joint_pairs, shift=args.flip_test,
                pad_value=black_of(val_aug)) if spec else None
    for epoch in range(args.num_epochs):
        train_data.set_epoch(epoch)
        metric.reset()
        tic, total = time.time(), 0.0
        for i, (data, target, weight, _) in enumerate(train_loader):
            data = gluon.utils.split_and_load(data, ctx, even_split=False)
            target = gluon.utils.split_and_load(target, ctx, even_split=False)
            weight = gluon.utils.split_and_load(weight, ctx, even_split=False)
            with autograd.record():
                outputs = [net(x) for x in data]
                losses = [loss_fn(yhat, y, w) for yhat, y, w in zip(outputs, target, weight)]
            autograd.backward(losses)
            trainer.step(args.batch_size)
            metric.update(target, outputs)
            total += sum(loss.mean().asscalar() for loss in losses) / len(ctx)
            if args.log_interval and (i + 1) % args.log_interval == 0:
                logging.info(f"Epoch[{epoch}] Batch [{i + 1}] loss={total / (i + 1):.6f} lr={trainer.learning_rate:.2e}")
        with_views = f" (with {spec}: {evaluate(net, val_loader, ctx, views):.3f})" if views is not None else ""
        logging.info(f"Epoch {epoch}: training loss {total / iters:.6f}, train {metric.get()[0]} "
                     f"{metric.get()[1]:.3f}, validation accuracy {evaluate(net, val_loader, ctx):.3f}{with_views}, "
                     f"{time.time() - tic:.1f} s")
        last = epoch + 1 == args.num_epochs
        if args.save_dir and ((args.save_frequency and (epoch + 1) % args.save_frequency == 0) or last):
            os.makedirs(args.save_dir, exist_ok=True)
            path = os.path.join(args.save_dir, f"{args.model}-{epoch}.params")
            net.save_parameters(path + ".part")  # a crash while saving leaves no half-written checkpoint
            os.replace(path + ".part", path)
    return total / iters


if __name__ == "__main__":
    main()
