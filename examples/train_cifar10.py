"""Train on CIFAR-10 with augmentations picked by name, in the style of GluonCV's train_cifar10.py.

The augmentations come from every installed gluon_augplug plugin (entry-point discovery),
so after `pip install gluon-augplug-gridmask` this works unchanged:

    python examples/train_cifar10.py --data ../shared/data/cifar10-jpg.tar.gz --train-limit 5000 \\
        --train-aug "RandomCrop(32, pad=4), RandomFlipLeftRight, GridMask(ratio=0.5), ToTensor" --epochs 5

The loop is written out (split_and_load, autograd, Trainer); `augplug train` is the same
with checkpoints, resume, schedules, Mixup/CutMix and distributed training.
"""
import argparse
import time

import mxnet as mx
from mxnet import autograd, gluon

from gluon_augplug import augment, build_pipeline
from gluon_augplug.data.datasets import open_dataset
from gluon_augplug.train.models import get_model


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="CIFAR-10 folder or archive (binary, python or JPEG tree)")
    p.add_argument("--model", default="cifar_resnet20_v1")
    p.add_argument("--train-aug", default="cifar10-standard", help="spec, preset or YAML/JSON file")
    p.add_argument("--test-aug", default="cifar10-test")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=1e-4)
    p.add_argument("--ctx", default="cpu:0", help="e.g. gpu:0,gpu:1 or cpu:0,cpu:1")
    p.add_argument("--train-limit", type=int)
    p.add_argument("--test-limit", type=int)
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def evaluate(net, loader, ctx):
    metric = mx.metric.Accuracy()
    for data, label in loader:
        datas = gluon.utils.split_and_load(data, ctx[: data.shape[0]], even_split=False)
        labels = gluon.utils.split_and_load(label, ctx[: data.shape[0]], even_split=False)
        metric.update(labels, [net(x) for x in datas])
    return metric.get()[1]


def main(argv=None):
    args = parse_args(argv)
    ctx = [mx.Context(kind, int(index)) for kind, index in (c.split(":") for c in args.ctx.split(","))]
    train_augs = build_pipeline(args.train_aug)  # names resolve through every installed plugin
    test_augs = build_pipeline(args.test_aug)
    print(f"train augmentation: {train_augs.to_string()}\ntest augmentation: {test_augs.to_string()}")

    train_set = augment(open_dataset(args.data, "train", args.train_limit, args.seed), train_augs, seed=args.seed)
    test_set = augment(open_dataset(args.data, "test", args.test_limit, args.seed), test_augs, seed=args.seed)
    train_loader = gluon.data.DataLoader(train_set, args.batch_size, shuffle=True, last_batch="keep",
                                         num_workers=args.num_workers)
    test_loader = gluon.data.DataLoader(test_set, args.batch_size, last_batch="keep", num_workers=args.num_workers)

    mx.random.seed(args.seed)
    net = get_model(args.model, classes=10)
    net.initialize(mx.init.Xavier(), ctx=ctx)
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": args.lr, "wd": args.wd, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    train_metric = mx.metric.Accuracy()

    for epoch in range(args.epochs):
        train_set.set_epoch(epoch)
        train_metric.reset()
        tic, train_loss, seen = time.time(), 0.0, 0
        for data, label in train_loader:
            devices = ctx[: data.shape[0]]
            datas = gluon.utils.split_and_load(data, devices, even_split=False)
            labels = gluon.utils.split_and_load(label, devices, even_split=False)
            with autograd.record():
                outputs = [net(x) for x in datas]
                losses = [loss_fn(o, y) for o, y in zip(outputs, labels)]
            for loss in losses:
                loss.backward()
            trainer.step(data.shape[0])
            train_loss += sum(float(loss.sum().asscalar()) for loss in losses)
            seen += data.shape[0]
            train_metric.update(labels, outputs)
        elapsed = time.time() - tic
        test_acc = evaluate(net, test_loader, ctx)
        print(f"[epoch {epoch + 1}] loss {train_loss / seen:.3f}, train acc {train_metric.get()[1]:.3f}, "
              f"test acc {test_acc:.3f}, {seen / elapsed:.1f} samples/s")
    return test_acc


if __name__ == "__main__":
    main()
