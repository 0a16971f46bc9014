"""Train a semantic-segmentation network (FCN, PSPNet or DeepLab from GluonCV's zoo) on a Pascal VOC segmentation
folder, in the style of GluonCV's ``scripts/segmentation/train.py``, with the augmentation picked by name
(``--train-aug seg-train``, from every installed gluon_augplug plugin).

GluonCV's flags (``--model``, ``--backbone``, ``--base-size``, ``--crop-size``, ``--train-split``, ``--aux``,
``--aux-weight``, ``--epochs``, ``--batch-size``, ``--test-batch-size``, ``--lr``, ``--warmup-epochs``,
``--momentum``, ``--weight-decay``, ``--no-wd``, ``--workers``, ``--log-interval``, ``--save-dir``, ``--no-val``)
and its loop: ``MixSoftmaxCrossEntropyLoss`` with VOC's void label ignored, SGD with a poly learning-rate schedule
after a linear warm-up, ``last_batch='rollover'``, pixel accuracy and mIoU from ``SegmentationMetric``, a
checkpoint per epoch named by its mIoU. Our pipeline moves image and mask together (GluonCV's
``_sync_transform``); ``--base-size``/``--crop-size`` other than 520/480 give the same recipe at those sizes.
Nothing is downloaded: the backbone starts from random weights, so on a CPU this shows the pipeline and a loss
that falls, not a trained model. ``--make-data DIR`` draws a small VOC-style folder to try it on.

    python examples/train_segmentation.py --make-data runs/voc-seg --num-class 3 --base-size 104 \\
        --crop-size 96 --epochs 4 --batch-size 4 --ctx cpu:0,cpu:1 --workers 0
"""
import argparse
import logging
import os
import time

import mxnet as mx
import numpy as np
from gluoncv.loss import MixSoftmaxCrossEntropyLoss
from gluoncv.model_zoo import FCN, PSPNet, DeepLabV3
from gluoncv.utils import LRScheduler, LRSequential
from gluoncv.utils.metrics import SegmentationMetric
from mxnet import autograd, gluon

from gluon_augplug import augment, build_pipeline
from gluon_augplug.data import VOCSegmentation
from gluon_augplug.presets import segmentation_spec
from gluon_augplug.tta import TTA, black_of

VOID = 255
MODELS = {"fcn": FCN, "psp": PSPNet, "deeplab": DeepLabV3}  # GluonCV's get_segmentation_model, any class count


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train semantic-segmentation networks with augmentations picked by name.")
    p.add_argument("--model", default="fcn", choices=sorted(MODELS), help="the network (GluonCV's model zoo)")
    p.add_argument("--backbone", default="resnet50", help="resnet50, resnet101 or resnet152")
    p.add_argument("--dataset-root", default="~/.mxnet/datasets/voc", help="a VOC folder (or GluonCV's VOC root)")
    p.add_argument("--make-data", default=None, metavar="DIR",
                   help="draw a small VOC-style segmentation folder in DIR and train on it")
    p.add_argument("--num-images", type=int, default=10, help="images drawn by --make-data (a fifth for val)")
    p.add_argument("--num-class", type=int, default=None, help="classes the network predicts (default: VOC's 21)")
    p.add_argument("--workers", type=int, default=4, help="data loader workers")
    p.add_argument("--base-size", type=int, default=520)
    p.add_argument("--crop-size", type=int, default=480)
    p.add_argument("--train-split", default="train", help="ImageSets/Segmentation list to train on")
    p.add_argument("--val-split", default="val", help="ImageSets/Segmentation list to validate on")
    p.add_argument("--aux", action="store_true", help="the auxiliary FCN head and its loss")
    p.add_argument("--aux-weight", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--test-batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup-epochs", type=int, default=0)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--no-wd", action="store_true", help="no weight decay on BatchNorm and bias parameters")
    p.add_argument("--ctx", default="cpu:0", help="devices, e.g. gpu:0,gpu:1 or cpu:0,cpu:1 (GluonCV: --ngpus)")
    p.add_argument("--log-interval", type=int, default=20)
    p.add_argument("--save-dir", default=None, help="where each epoch's checkpoint goes (default: none saved)")
    p.add_argument("--no-val", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-aug", default=None,
                   help="image + mask augmentation: spec, preset or file (default: seg-train at the two sizes)")
    p.add_argument("--val-aug", default=None, help="default: seg-val at --crop-size")
    p.add_argument("--tta", default=None, metavar="VIEWS",
                   help="also validate through test-time views, side by side: flip, or GluonCV's MultiEvalModel as "
                        "'multi-eval(base_size=520, crop_size=480)' (`augplug views` lists them)")
    return p.parse_args(argv)


def draw_voc_segmentation(root, n, seed=0, size=(160, 120)):
    """n drawn images in VOC's layout: on a textured background, a square (class 1) and a disc (class 2), each
    with the 2-pixel void border (255) VOC's masks have. Returns root."""
    import cv2
    from PIL import Image

    for sub in ("JPEGImages", "SegmentationClass", os.path.join("ImageSets", "Segmentation")):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    names = []
    for k in range(n):
        img = rng.integers(20, 90, (h, w, 3)).astype(np.uint8)
        mask = np.zeros((h, w), np.uint8)
        x, y, s = int(rng.integers(4, w // 2)), int(rng.integers(4, h // 2)), int(rng.integers(24, 48))
        cv2.rectangle(mask, (x - 2, y - 2), (x + s + 1, y + s + 1), VOID, -1)
        mask[y:y + s, x:x + s] = 1
        r = int(rng.integers(14, 26))
        cx, cy = int(rng.integers(w // 2, w - r)), int(rng.integers(h // 2, h - r))
        cv2.circle(mask, (cx, cy), r + 2, VOID, -1)
        cv2.circle(mask, (cx, cy), r, 2, -1)
        img[mask == 1] = (230, 190, 30)
        img[mask == 2] = (30, 100, 230)
        names.append(f"drawn_{k:03d}")
        cv2.imwrite(os.path.join(root, "JPEGImages", names[-1] + ".jpg"), img[:, :, ::-1])
        png = Image.fromarray(mask, "P")
        png.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0, 0, 0] * 252 + [224, 224, 192])
        png.save(os.path.join(root, "SegmentationClass", names[-1] + ".png"))
    n_val = max(1, n // 5)
    for split, ids in (("train", names[:-n_val]), ("val", names[-n_val:]), ("trainval", names)):
        with open(os.path.join(root, "ImageSets", "Segmentation", split + ".txt"), "w") as f:
            f.write("\n".join(ids) + "\n")
    return root


class GluonCVTarget:
    """GluonCV's ``_mask_transform`` after our augmentation: int32 class ids, VOC's void (255) as -1 (ignored by
    the loss and the metric). A label the network cannot predict is an error naming it."""

    def __init__(self, num_class):
        self._num_class = num_class

    def __call__(self, img, mask):
        target = np.asarray(mask).astype(np.int32)
        target[target == VOID] = -1
        if target.max() >= self._num_class:
            raise ValueError(f"a mask holds class {target.max()} but the network predicts {self._num_class} "
                             f"classes (--num-class)")
        return img, mx.nd.array(target, dtype="int32")


def predict_at_input_size(model):
    """The network's main output at its input's size (GluonCV's ``predict``), as test-time views need: the training
    forward pass upsamples to --crop-size, a view of another scale must come back at its own."""
    def predict(x):
        saved = dict(model._up_kwargs)
        try:
            return model.predict(x)
        finally:
            model._up_kwargs = saved
    return predict


def evaluate(model, loader, ctx, metric, views=None):
    """pixAcc and mIoU; through the test-time views ``views`` (a TTA wrapper) instead when given."""
    metric.reset()
    for data, target in loader:
        data = gluon.utils.split_and_load(data, ctx, even_split=False)
        target = gluon.utils.split_and_load(target, ctx, even_split=False)
        metric.update(target, [views(x) if views is not None else model(x)[0] for x in data])
    return metric.get()


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.info(args)
    ctx = [mx.Context(kind, int(i)) for kind, i in (c.split(":") for c in args.ctx.split(","))]
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    root = draw_voc_segmentation(args.make_data, args.num_images, args.seed) if args.make_data else args.dataset_root
    train_set = VOCSegmentation(root, split=args.train_split, as_ndarray=False)
    num_class = args.num_class or len(train_set.classes)
    train_aug = build_pipeline(args.train_aug or segmentation_spec("train", args.base_size, args.crop_size),
                               targets="masks")  # names from every installed plugin
    val_aug = build_pipeline(args.val_aug or segmentation_spec("val", args.base_size, args.crop_size), targets="masks")
    logging.info(f"train augmentation: {train_aug.to_string()}")
    train_data = augment(train_set, train_aug, seed=args.seed, targets="masks")
    to_target = GluonCVTarget(num_class)
    train_loader = gluon.data.DataLoader(train_data.transform(to_target), args.batch_size, shuffle=True,
                                         last_batch="rollover", num_workers=args.workers)
    val_loader = None
    if not args.no_val:
        val_set = VOCSegmentation(root, split=args.val_split, as_ndarray=False)
        val_loader = gluon.data.DataLoader(augment(val_set, val_aug, seed=args.seed, targets="masks")
                                           .transform(to_target), args.test_batch_size, last_batch="keep",
                                           num_workers=args.workers)
    model = MODELS[args.model](num_class, backbone=args.backbone, aux=args.aux, ctx=ctx[0], pretrained_base=False,
                               base_size=args.base_size, crop_size=args.crop_size, norm_layer=mx.gluon.nn.BatchNorm,
                               norm_kwargs={})
    # GluonCV's heads initialize themselves on the first device; the random-weight backbone needs its own
    # initialization, then every parameter goes to every device (GluonCV's DataParallelModel does the latter)
    uninitialized = [p for p in model.collect_params().values() if p._data is None and not p._deferred_init]
    for param in uninitialized:
        param.initialize(ctx=ctx)
    model.collect_params().reset_ctx(ctx)
    criterion = MixSoftmaxCrossEntropyLoss(args.aux, aux_weight=args.aux_weight)
    iters = len(train_loader)
    scheduler = LRSequential([
        LRScheduler("linear", base_lr=0, target_lr=args.lr, nepochs=args.warmup_epochs, iters_per_epoch=iters),
        LRScheduler("poly", base_lr=args.lr, nepochs=args.epochs - args.warmup_epochs, iters_per_epoch=iters,
                    power=0.9)])
    if args.no_wd:
        for param in model.collect_params(".*beta|.*gamma|.*bias").values():
            param.wd_mult = 0.0
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"lr_scheduler": scheduler, "wd": args.weight_decay,
                                                            "momentum": args.momentum, "learning_rate": args.lr})
    metric = SegmentationMetric(num_class)
    # the views pad with a black pixel as the validation transform makes it (MultiEvalModel's -mean / std)
    views = TTA(predict_at_input_size(model), args.tta, task="segmentation", pad_value=black_of(val_aug)) \
        if args.tta else None
    for epoch in range(args.epochs):
        train_data.set_epoch(epoch)
        tic, train_loss = time.time(), 0.0
        for i, (data, target) in enumerate(train_loader):
            data = gluon.utils.split_and_load(data, ctx, even_split=False)
            target = gluon.utils.split_and_load(target, ctx, even_split=False)
            with autograd.record(True):
                losses = [criterion(*model(x), y) for x, y in zip(data, target)]
            autograd.backward(losses)
            trainer.step(args.batch_size)
            train_loss += np.mean([loss.mean().asscalar() for loss in losses])
            if args.log_interval and (i + 1) % args.log_interval == 0:
                logging.info(f"Epoch {epoch} iteration {i + 1:04d}/{iters:04d}: training loss {train_loss / (i + 1):.3f}")
        logging.info(f"Epoch {epoch}: training loss {train_loss / iters:.3f}, {time.time() - tic:.1f} s, "
                     f"lr {trainer.learning_rate:.2e}")
        mean_iou = 0.0
        if val_loader is not None:
            pix_acc, mean_iou = evaluate(model, val_loader, ctx, metric)
            line = f"Epoch {epoch} validation pixAcc: {pix_acc:.3f}, mIoU: {mean_iou:.3f}"
            if views is not None:
                tta_acc, tta_iou = evaluate(model, val_loader, ctx, metric, views)
                line += f" (with {args.tta}: pixAcc {tta_acc:.3f}, mIoU {tta_iou:.3f})"
            logging.info(line)
        if args.save_dir:
            os.makedirs(args.save_dir, exist_ok=True)
            path = os.path.join(args.save_dir, f"epoch_{epoch:04d}_mIoU_{mean_iou:2.4f}.params")
            model.save_parameters(path + ".part")  # a crash while saving leaves no half-written checkpoint
            os.replace(path + ".part", path)
    return train_loss / iters


if __name__ == "__main__":
    main()
