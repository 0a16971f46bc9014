"""Train an action recognizer on clips, in the style of GluonCV's
``scripts/action-recognition/train_recognizer.py``, with the clip augmentation picked by name
(``--train-aug tsn-train``, from every installed gluon_augplug plugin): one draw for all frames of a clip.

GluonCV's flags (``--data-dir``, ``--train-list``, ``--val-list``, ``--model``, ``--num-segments``,
``--new-length``, ``--new-step``, ``--new-width``, ``--new-height``, ``--input-size``, ``--num-classes``,
``--batch-size``, ``-j``, ``--num-epochs``, ``--lr``, ``--lr-decay``, ``--lr-decay-epoch``, ``--momentum``,
``--wd``, ``--log-interval``, ``--save-dir``, ``--save-frequency``, ``--video-loader``, ``--use-decord``),
its loop (split_and_load over the devices, SoftmaxCrossEntropyLoss, SGD, TSN's ``(B*T, C, H, W)`` reshape, top-1
accuracy) and GluonCV's networks: TSN with a ResNet-v1b backbone (``resnet18_v1b`` ... ``resnet50_v1b``,
GluonCV's ``ActionRecResNetV1b``) or an I3D (``i3d_resnet50_v1_kinetics400``, fed (B, C, T, H, W)). Nothing is
downloaded: the weights are random, so on a CPU this shows the pipeline learning a drawn task, not Kinetics.

    python examples/train_recognizer.py --make-data runs/clips --num-segments 3 --input-size 112 \\
        --train-aug "MultiScaleCrop(112), RandomFlipLeftRight, ToTensor, Normalize(0.45, 0.225)" --ctx cpu:0,cpu:1
"""
import argparse
import logging
import os
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from gluon_augplug import augment, build_pipeline
from gluon_augplug.data import ClipDataset


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train action recognizers with clip augmentations picked by name.")
    p.add_argument("--data-dir", default="~/.mxnet/datasets/ucf101/rawframes", help="frame folders (or videos)")
    p.add_argument("--val-data-dir", default=None, help="default: --data-dir")
    p.add_argument("--train-list", default=None, help="setting file: 'path num_frames label' per line")
    p.add_argument("--val-list", default=None, help="default: --train-list")
    p.add_argument("--make-data", default=None, metavar="DIR",
                   help="draw a clip set of moving shapes in DIR (frame folders and setting file) and train on it")
    p.add_argument("--model", default="resnet18_v1b", help="resnet18_v1b ... resnet152_v1b (TSN) or "
                                                         "i3d_resnet50_v1_kinetics400")
    p.add_argument("--num-classes", type=int, default=101)
    p.add_argument("--num-segments", type=int, default=1)
    p.add_argument("--new-length", type=int, default=1)
    p.add_argument("--new-step", type=int, default=1)
    p.add_argument("--new-width", type=int, default=340)
    p.add_argument("--new-height", type=int, default=256)
    p.add_argument("--input-size", type=int, default=224)
    p.add_argument("--video-loader", action="store_true", help="the list names video files")
    p.add_argument("--use-decord", action="store_true", help="decode videos with decord (else whichever is installed)")
    p.add_argument("--batch-size", type=int, default=25)
    p.add_argument("-j", "--num-data-workers", dest="num_workers", type=int, default=4)
    p.add_argument("--ctx", default="cpu:0", help="devices, e.g. gpu:0,gpu:1 or cpu:0,cpu:1")
    p.add_argument("--num-epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--wd", type=float, default=0.0001)
    p.add_argument("--lr-decay", type=float, default=0.1)
    p.add_argument("--lr-decay-epoch", default="40,60")
    p.add_argument("--log-interval", type=int, default=50)
    p.add_argument("--save-dir", default="")
    p.add_argument("--save-frequency", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-aug", default="tsn-train", help="clip augmentation: spec, preset or file")
    p.add_argument("--val-aug", default="video-val")
    return p.parse_args(argv)


def get_network(args, ctx):
    """A GluonCV recognizer with random weights (``pretrained_base=False``: nothing is downloaded)."""
    if args.model.startswith("i3d"):
        from gluoncv.model_zoo import get_model

        net = get_model(args.model, nclass=args.num_classes, pretrained=False, pretrained_base=False,
                        num_segments=args.num_segments)
    else:
        from gluoncv.model_zoo.action_recognition.actionrec_resnetv1b import ActionRecResNetV1b

        depth = int(args.model.split("resnet")[1].split("_")[0])
        net = ActionRecResNetV1b(depth=depth, nclass=args.num_classes, pretrained_base=False,
                                 num_segments=args.num_segments * args.new_length, dropout_ratio=0.5, init_std=0.01)
    net.initialize(mx.init.Xavier(), ctx=ctx)
    net.collect_params().reset_ctx(ctx)  # the classifier GluonCV initialises in its constructor, on the CPU
    return net


def evaluate(net, loader, ctx, three_d):
    metric = mx.metric.Accuracy()
    for data, label in loader:
        data = gluon.utils.split_and_load(data, ctx, batch_axis=0, even_split=False)
        label = gluon.utils.split_and_load(label, ctx, batch_axis=0, even_split=False)
        metric.update(label, [net(x if three_d else x.reshape((-1,) + x.shape[2:])) for x in data])
    return metric.get()[1]


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.info(args)
    ctx = [mx.Context(kind, int(i)) for kind, i in (c.split(":") for c in args.ctx.split(","))]
    mx.random.seed(args.seed)
    np.random.seed(args.seed)
    if args.make_data:
        from gluon_augplug.testing.clips import make_clip_set

        args.train_list = make_clip_set(args.make_data, videos=8 * args.num_classes, classes=args.num_classes,
                                        frames=24, hw=(args.new_height, args.new_width))
        args.data_dir = os.path.join(args.make_data, "rawframes")
    data_dir = os.path.expanduser(args.data_dir)
    three_d = args.model.startswith("i3d")
    sampling = dict(num_segments=args.num_segments, new_length=args.new_length, new_step=args.new_step,
                    new_width=args.new_width, new_height=args.new_height, video_loader=args.video_loader,
                    backend="decord" if args.use_decord else "auto")
    train_set = ClipDataset(args.train_list, data_dir, train=True, **sampling)
    val_set = ClipDataset(args.val_list or args.train_list, os.path.expanduser(args.val_data_dir or data_dir),
                          train=False, **sampling)
    train_aug = build_pipeline(args.train_aug)  # names from every installed plugin
    logging.info(f"train augmentation: {train_aug.to_string()}")
    layout = "CTHW" if three_d else None  # (C, T, H, W) for 3-D networks; TSN reshapes (B, T, C, H, W) below
    train_data = augment(train_set, train_aug, seed=args.seed, clip_layout=layout)
    train_loader = gluon.data.DataLoader(train_data, args.batch_size, shuffle=True, last_batch="rollover",
                                         num_workers=args.num_workers)
    val_loader = gluon.data.DataLoader(augment(val_set, args.val_aug, seed=args.seed, clip_layout=layout),
                                       args.batch_size, num_workers=args.num_workers)
    net = get_network(args, ctx)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": args.lr, "wd": args.wd,
                                                          "momentum": args.momentum})
    decay_epochs = sorted(int(e) for e in args.lr_decay_epoch.split(",") if e.strip())
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    train_metric = mx.metric.Accuracy()
    losses = []
    for epoch in range(args.num_epochs):
        while decay_epochs and epoch >= decay_epochs[0]:
            decay_epochs.pop(0)
            trainer.set_learning_rate(trainer.learning_rate * args.lr_decay)
        train_data.set_epoch(epoch)
        train_metric.reset()
        tic, total, seen = time.time(), 0.0, 0
        for i, (data, label) in enumerate(train_loader):
            data = gluon.utils.split_and_load(data, ctx, batch_axis=0, even_split=False)
            label = gluon.utils.split_and_load(label, ctx, batch_axis=0, even_split=False)
            with autograd.record():
                outputs = [net(x if three_d else x.reshape((-1,) + x.shape[2:])) for x in data]
                loss = [loss_fn(yhat, y) for yhat, y in zip(outputs, label)]
            autograd.backward(loss)
            trainer.step(sum(len(y) for y in label))
            train_metric.update(label, outputs)
            total += sum(float(v.sum().asscalar()) for v in loss)
            seen += sum(len(y) for y in label)
            if args.log_interval and not (i + 1) % args.log_interval:
                logging.info(f"Epoch[{epoch}] Batch [{i}]\tSpeed: {seen / (time.time() - tic):.1f} clips/sec\t"
                             f"loss={total / seen:.4f}")
        losses.append(total / max(seen, 1))
        val_acc = evaluate(net, val_loader, ctx, three_d)
        logging.info(f"[Epoch {epoch}] train loss={losses[-1]:.4f} train acc={train_metric.get()[1]:.3f} "
                     f"val acc={val_acc:.3f} time cost: {time.time() - tic:.1f}s")
        if args.save_dir and args.save_frequency and not (epoch + 1) % args.save_frequency:
            os.makedirs(args.save_dir, exist_ok=True)
            net.save_parameters(os.path.join(args.save_dir, f"{args.model}_{epoch:03d}.params"))
    return losses


if __name__ == "__main__":
    main()
