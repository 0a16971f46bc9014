"""Train an SSD detector on a Pascal VOC folder, in the style of GluonCV's ``scripts/detection/ssd/train_ssd.py``,
with its augmentation picked by name (``--train-aug ssd-train``, from every installed gluon_augplug plugin).

GluonCV's flags (``--network``, ``--data-shape``, ``--batch-size``, ``--dataset-root``, ``-j``, ``--epochs``,
``--lr``, ``--lr-decay``, ``--lr-decay-epoch``, ``--momentum``, ``--wd``, ``--log-interval``, ``--save-prefix``,
``--save-interval``, ``--val-interval``, ``--seed``), its loop (SSDMultiBoxLoss, SGD, ``last_batch='rollover'``,
VOC07 mAP) and its target generation: our pipeline moves image and boxes, then GluonCV's own
``SSDTargetGenerator`` turns the boxes into anchor targets. Nothing is downloaded: the backbone starts from
random weights (``pretrained_base=False``), so on a CPU this shows the pipeline, not a trained detector.

    python examples/train_ssd.py --dataset-root ../shared/data/voc-cat --classes cat,head --epochs 2 --batch-size 1
"""
import argparse
import logging
import time

import mxnet as mx
import numpy as np
from gluoncv import loss as gcv_loss
from gluoncv.data.batchify import Pad, Stack, Tuple
from gluoncv.model_zoo import get_model
from gluoncv.model_zoo.ssd.target import SSDTargetGenerator
from gluoncv.utils.metrics.voc_detection import VOC07MApMetric
from mxnet import autograd, gluon

from gluon_augplug import augment, build_pipeline
from gluon_augplug.data import VOCDetection
from gluon_augplug.tta import TTA, black_of


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train SSD networks with augmentations picked by name.")
    p.add_argument("--network", default="mobilenet0.25", help="base network of ssd_<data-shape>_<network>_custom")
    p.add_argument("--data-shape", type=int, default=300, choices=(300, 512), help="input size of the network")
    p.add_argument("--batch-size", type=int, default=32, help="training mini-batch size")
    p.add_argument("--dataset-root", default="~/.mxnet/datasets/voc", help="a VOC folder (or GluonCV's VOC root)")
    p.add_argument("--classes", default=None, help="comma-separated class names (default: VOC's 20)")
    p.add_argument("--train-split", default=None, help="ImageSets/Main list to train on (default: trainval or train)")
    p.add_argument("--val-split", default=None, help="ImageSets/Main list to validate on (default: the training one)")
    p.add_argument("-j", "--num-workers", dest="num_workers", type=int, default=4, help="data loader workers")
    p.add_argument("--ctx", default="cpu:0", help="devices, e.g. gpu:0,gpu:1 or cpu:0,cpu:1")
    p.add_argument("--epochs", type=int, default=240)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--lr-decay", type=float, default=0.1)
    p.add_argument("--lr-decay-epoch", default="160,200")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--wd", type=float, default=0.0005)
    p.add_argument("--log-interval", type=int, default=100)
    p.add_argument("--save-prefix", default="")
    p.add_argument("--save-interval", type=int, default=10)
    p.add_argument("--val-interval", type=int, default=1)
    p.add_argument("--seed", type=int, default=233)
    p.add_argument("--train-aug", default="ssd-train", help="image + box augmentation: spec, preset or file")
    p.add_argument("--val-aug", default="ssd-val")
    p.add_argument("--tta", default=None, metavar="VIEWS",
                   help="also validate through test-time views, side by side: e.g. flip; the boxes of every view moved "
                        "back by its inverse map and merged by box_nms")
    return p.parse_args(argv)


class SSDTargets:
    """GluonCV's anchor targets after our image + box augmentation (what SSDDefaultTrainTransform does
    after its own augmentation when given anchors)."""

    def __init__(self, anchors):
        self._anchors = anchors
        self._generator = SSDTargetGenerator(iou_thresh=0.5, stds=(0.1, 0.1, 0.2, 0.2), negative_mining_ratio=-1)

    def __call__(self, img, bbox):
        bbox = np.asarray(bbox, np.float32)
        cls_targets, box_targets, _ = self._generator(self._anchors, None, mx.nd.array(bbox[np.newaxis, :, :4]),
                                                      mx.nd.array(bbox[np.newaxis, :, 4:5]))
        return img, cls_targets[0], box_targets[0]


def validate(net, loader, ctx, metric, views=None):
    """VOC07 mAP; through the test-time views ``views`` (a TTA wrapper) instead when given."""
    metric.reset()
    net.set_nms(nms_thresh=0.45, nms_topk=400)
    for data, label in loader:
        data = gluon.utils.split_and_load(data, ctx, even_split=False)
        label = gluon.utils.split_and_load(label, ctx, even_split=False)
        for x, y in zip(data, label):
            ids, scores, bboxes = views(x) if views is not None else net(x)
            metric.update(bboxes.clip(0, x.shape[2]), ids, scores, y.slice_axis(axis=-1, begin=0, end=4),
                          y.slice_axis(axis=-1, begin=4, end=5), y.slice_axis(axis=-1, begin=5, end=6))
    return metric.get()


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.info(args)
    ctx = [mx.Context(kind, int(i)) for kind, i in (c.split(":") for c in args.ctx.split(","))]
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    classes = args.classes.split(",") if args.classes else None
    kwargs = {"classes": classes} if classes else {}
    train_set = VOCDetection(args.dataset_root, splits=[args.train_split] if args.train_split else None, **kwargs)
    val_set = VOCDetection(args.dataset_root, splits=[args.val_split] if args.val_split else None, **kwargs)
    net = get_model(f"ssd_{args.data_shape}_{args.network}_custom", classes=train_set.classes, pretrained_base=False,
                    transfer=None)
    net.initialize(ctx=ctx)  # as GluonCV: each parameter its own initializer (BatchNorm gammas are 1)
    size = args.data_shape
    with autograd.train_mode():  # fixed anchors for target generation, from a dummy forward pass (as GluonCV)
        _, _, anchors = net(mx.nd.zeros((1, 3, size, size), ctx=ctx[0]))
    train_augs = build_pipeline(args.train_aug, targets="boxes")  # names from every installed plugin
    val_augs = build_pipeline(args.val_aug, targets="boxes")
    logging.info(f"train augmentation: {train_augs.to_string()}")
    train_data = augment(train_set, train_augs, seed=args.seed, targets="boxes")
    train_loader = gluon.data.DataLoader(train_data.transform(SSDTargets(anchors.as_in_context(mx.cpu()))),
                                         args.batch_size, shuffle=True, batchify_fn=Tuple(Stack(), Stack(), Stack()),
                                         last_batch="rollover", num_workers=args.num_workers)
    val_loader = gluon.data.DataLoader(augment(val_set, val_augs, seed=args.seed, targets="boxes"), args.batch_size,
                                       batchify_fn=Tuple(Stack(), Pad(pad_val=-1)), last_batch="keep",
                                       num_workers=args.num_workers)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": args.lr, "wd": args.wd,
                                                          "momentum": args.momentum})
    decay_epochs = sorted(int(e) for e in args.lr_decay_epoch.split(",") if e.strip())
    mbox_loss = gcv_loss.SSDMultiBoxLoss()
    ce_metric, smoothl1_metric = mx.metric.Loss("CrossEntropy"), mx.metric.Loss("SmoothL1")
    metric = VOC07MApMetric(iou_thresh=0.5, class_names=train_set.classes)
    views = TTA(net, args.tta, task="detection", iou=0.45, pad_value=black_of(val_augs)) if args.tta else None
    for epoch in range(args.epochs):
        while decay_epochs and epoch >= decay_epochs[0]:
            decay_epochs.pop(0)
            trainer.set_learning_rate(trainer.learning_rate * args.lr_decay)
            logging.info(f"[Epoch {epoch}] Set learning rate to {trainer.learning_rate}")
        train_data.set_epoch(epoch)
        ce_metric.reset()
        smoothl1_metric.reset()
        tic = btic = time.time()
        net.hybridize(static_alloc=True, static_shape=True)
        for i, batch in enumerate(train_loader):
            data = gluon.utils.split_and_load(batch[0], ctx, batch_axis=0, even_split=False)
            cls_targets = gluon.utils.split_and_load(batch[1], ctx, batch_axis=0, even_split=False)
            box_targets = gluon.utils.split_and_load(batch[2], ctx, batch_axis=0, even_split=False)
            with autograd.record():
                cls_preds, box_preds = zip(*[net(x)[:2] for x in data])
                sum_loss, cls_loss, box_loss = mbox_loss(cls_preds, box_preds, cls_targets, box_targets)
                autograd.backward(sum_loss)
            trainer.step(1)
            ce_metric.update(0, [loss * batch[0].shape[0] for loss in cls_loss])
            smoothl1_metric.update(0, [loss * batch[0].shape[0] for loss in box_loss])
            if args.log_interval and not (i + 1) % args.log_interval:
                name1, loss1 = ce_metric.get()
                name2, loss2 = smoothl1_metric.get()
                logging.info(f"[Epoch {epoch}][Batch {i}], Speed: {batch[0].shape[0] / (time.time() - btic):.3f} "
                             f"samples/sec, {name1}={loss1:.3f}, {name2}={loss2:.3f}")
            btic = time.time()
        name1, loss1 = ce_metric.get()
        name2, loss2 = smoothl1_metric.get()
        logging.info(f"[Epoch {epoch}] Training cost: {time.time() - tic:.3f}, {name1}={loss1:.3f}, {name2}={loss2:.3f}")
        if args.val_interval and not (epoch + 1) % args.val_interval:
            names, values = validate(net, val_loader, ctx, metric)
            logging.info(f"[Epoch {epoch}] Validation: \n" + "\n".join(f"{k}={v}" for k, v in zip(names, values)))
            if views is not None:
                names, values = validate(net, val_loader, ctx, metric, views)
                logging.info(f"[Epoch {epoch}] Validation with {args.tta}: \n"
                             + "\n".join(f"{k}={v}" for k, v in zip(names, values)))
        if args.save_prefix and args.save_interval and not (epoch + 1) % args.save_interval:
            net.save_parameters(f"{args.save_prefix}ssd_{size}_{args.network}_{epoch:04d}.params")
    return loss1, loss2


if __name__ == "__main__":
    main()
