"""GluonCV's CIFAR-10 training script, with its augmentation picked by name.

Flag for flag GluonCV's ``scripts/classification/cifar/train_cifar10.py`` (``--num-gpus``,
``-j/--num-data-workers``, ``--num-epochs``, ``--mode hybrid``, ``--lr-decay``,
``--lr-decay-epoch``, ``--save-period``, ``--resume-from``, NAG, a per-device batch size,
``last_batch="discard"``, the training-history plot, the ``[Epoch N] train=... val=...`` log),
plus ``--train-aug``/``--test-aug`` (a spec, preset or YAML/JSON file, resolved through every
installed gluon_augplug plugin), ``--seed`` and ``--data-root`` (a local CIFAR-10: no download).
The defaults reproduce GluonCV's recipe exactly (the ``cifar10-gluoncv`` presets).

    python examples/train_cifar10.py --data-root ../shared/data/cifar10-jpg.tar.gz --model cifar_resnet20_v1 \\
        --num-epochs 5 --train-aug "RandomCrop(32, pad=4), RandomFlipLeftRight, GridMask(ratio=0.5), ToTensor"

On a CPU-only machine ``--ctx cpu:0,cpu:1`` runs the multi-device code path, and
``--train-limit``/``--test-limit`` train on a seeded random subset.
"""
import argparse
import logging
import time

import matplotlib

matplotlib.use("Agg")

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from gluoncv.model_zoo import get_model  # noqa: E402
from gluoncv.utils import TrainingHistory, makedirs  # noqa: E402
from mxnet import autograd as ag  # noqa: E402
from mxnet import gluon  # noqa: E402

from gluon_augplug import augment, build_pipeline  # noqa: E402
from gluon_augplug.data import CIFAR10  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train a model for image classification.")
    # GluonCV's flags, with GluonCV's defaults
    p.add_argument("--batch-size", type=int, default=32, help="training batch size per device (CPU/GPU)")
    p.add_argument("--num-gpus", type=int, default=0, help="number of GPUs to use (0: the CPU)")
    p.add_argument("--model", type=str, default="cifar_resnet20_v1", help="a GluonCV model-zoo name")
    p.add_argument("-j", "--num-data-workers", dest="num_workers", type=int, default=4,
                   help="number of preprocessing workers")
    p.add_argument("--num-epochs", type=int, default=3, help="number of training epochs")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum of the optimizer")
    p.add_argument("--wd", type=float, default=0.0001, help="weight decay")
    p.add_argument("--lr-decay", type=float, default=0.1, help="factor of each learning-rate decay")
    p.add_argument("--lr-decay-period", type=int, default=0, help="decay every this many epochs (0: use --lr-decay-epoch)")
    p.add_argument("--lr-decay-epoch", type=str, default="40,60", help="epochs at which the learning rate decays")
    p.add_argument("--drop-rate", type=float, default=0.0, help="dropout rate of the wide ResNets")
    p.add_argument("--mode", type=str, help="imperative (default) or hybrid")
    p.add_argument("--save-period", type=int, default=10, help="save the parameters every this many epochs")
    p.add_argument("--save-dir", type=str, default="params", help="directory of saved parameters")
    p.add_argument("--resume-from", type=str, help="parameters file to start from")
    p.add_argument("--save-plot-dir", type=str, default=".", help="where the training-history plot goes")
    # gluon_augplug's additions
    p.add_argument("--train-aug", default="cifar10-gluoncv", help="training augmentation: spec, preset or file")
    p.add_argument("--test-aug", default="cifar10-gluoncv-test", help="test augmentation: spec, preset or file")
    p.add_argument("--seed", type=int, default=0, help="seeds augmentation, initialization and order")
    p.add_argument("--data-root", default=None, help="local CIFAR-10 (folder or archive); default: MXNet's")
    p.add_argument("--ctx", default=None, help="devices instead of --num-gpus, e.g. cpu:0,cpu:1")
    p.add_argument("--train-limit", type=int, help="train on a seeded random subset of this size")
    p.add_argument("--test-limit", type=int, help="evaluate on a seeded random subset of this size")
    return p.parse_args(argv)


def devices(opt):
    if opt.ctx:
        return [mx.Context(kind, int(index)) for kind, index in (c.split(":") for c in opt.ctx.split(","))]
    return [mx.gpu(i) for i in range(opt.num_gpus)] if opt.num_gpus > 0 else [mx.cpu()]


def subset(dataset, limit, seed):
    """A seeded random subset: CIFAR-10 image trees are stored class by class, so a prefix is one class."""
    if not limit or limit >= len(dataset):
        return dataset
    keep = np.sort(np.random.default_rng(seed).permutation(len(dataset))[:limit])
    return gluon.data.SimpleDataset([dataset[int(i)] for i in keep])


def main(argv=None):
    opt = parse_args(argv)
    context = devices(opt)
    batch_size = opt.batch_size * len(context)  # --batch-size is per device
    decay_epochs = [int(e) for e in opt.lr_decay_epoch.split(",")] + [np.inf]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.info(opt)

    mx.random.seed(opt.seed)
    np.random.seed(opt.seed)
    extra = {"drop_rate": opt.drop_rate} if opt.model.startswith("cifar_wideresnet") else {}
    net = get_model(opt.model, classes=10, **extra)
    if opt.resume_from:
        net.load_parameters(opt.resume_from, ctx=context)
    else:
        net.initialize(mx.init.Xavier(), ctx=context)
    if opt.mode == "hybrid":
        net.hybridize()
    save_dir = opt.save_dir if opt.save_dir and opt.save_period else ""
    if save_dir:
        makedirs(save_dir)

    transform_train = build_pipeline(opt.train_aug)  # names resolve through every installed plugin
    transform_test = build_pipeline(opt.test_aug)
    logging.info(f"train augmentation: {transform_train.to_string()}\ntest augmentation: {transform_test.to_string()}")
    train_set = augment(subset(CIFAR10(opt.data_root, train=True), opt.train_limit, opt.seed), transform_train,
                        seed=opt.seed)  # transform_first, reproducible whatever the worker count
    test_set = augment(subset(CIFAR10(opt.data_root, train=False), opt.test_limit, opt.seed), transform_test,
                       seed=opt.seed)
    if len(train_set) < batch_size:
        raise SystemExit(f"error: {len(train_set)} training images make no batch of {batch_size} "
                         f"(--batch-size {opt.batch_size} per device x {len(context)} devices; last_batch='discard')")
    train_data = gluon.data.DataLoader(train_set, batch_size=batch_size, shuffle=True, last_batch="discard",
                                       num_workers=opt.num_workers)
    val_data = gluon.data.DataLoader(test_set, batch_size=batch_size, shuffle=False, num_workers=opt.num_workers)

    trainer = gluon.Trainer(net.collect_params(), "nag",
                            {"learning_rate": opt.lr, "wd": opt.wd, "momentum": opt.momentum})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    train_metric = mx.metric.Accuracy()
    history = TrainingHistory(["training-error", "validation-error"])

    def test():
        metric = mx.metric.Accuracy()
        for data, label in val_data:
            shards = context[: data.shape[0]]  # a last batch smaller than the device count
            outputs = [net(x) for x in gluon.utils.split_and_load(data, shards, even_split=False)]
            metric.update(gluon.utils.split_and_load(label, shards, even_split=False), outputs)
        return metric.get()[1]

    best_val, decays, val_acc = 0.0, 0, 0.0
    for epoch in range(opt.num_epochs):
        tic, train_loss = time.time(), 0.0
        train_metric.reset()
        train_set.set_epoch(epoch)
        if epoch == decay_epochs[decays]:
            decays += 1
            trainer.set_learning_rate(trainer.learning_rate * opt.lr_decay)
        elif opt.lr_decay_period and epoch and epoch % opt.lr_decay_period == 0:
            trainer.set_learning_rate(trainer.learning_rate * opt.lr_decay)
        for data, label in train_data:
            datas = gluon.utils.split_and_load(data, context)
            labels = gluon.utils.split_and_load(label, context)
            with ag.record():
                outputs = [net(x) for x in datas]
                losses = [loss_fn(y_hat, y) for y_hat, y in zip(outputs, labels)]
            for loss in losses:
                loss.backward()
            trainer.step(batch_size)
            train_loss += sum(loss.sum().asscalar() for loss in losses)
            train_metric.update(labels, outputs)
        train_loss /= batch_size * len(train_data)
        acc = train_metric.get()[1]
        val_acc = test()
        history.update([1 - acc, 1 - val_acc])
        history.plot(save_path=f"{opt.save_plot_dir}/{opt.model}_history.png")
        if val_acc > best_val and save_dir:
            best_val = val_acc
            net.save_parameters(f"{save_dir}/{best_val:.4f}-cifar-{opt.model}-{epoch}-best.params")
        logging.info("[Epoch %d] train=%f val=%f loss=%f time: %f", epoch, acc, val_acc, train_loss, time.time() - tic)
        if save_dir and (epoch + 1) % opt.save_period == 0:
            net.save_parameters(f"{save_dir}/cifar10-{opt.model}-{epoch}.params")
    if save_dir:
        net.save_parameters(f"{save_dir}/cifar10-{opt.model}-{opt.num_epochs - 1}.params")
    return val_acc


if __name__ == "__main__":
    main()
