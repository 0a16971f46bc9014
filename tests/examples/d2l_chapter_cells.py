"""The cells of D2L's image-augmentation chapter (MXNet version), written as the chapter writes them,
with one changed import: ``transforms`` comes from gluon_augplug instead of ``gluon.data.vision``;
and CIFAR-10 from ``gluon_augplug.data.CIFAR10`` (offline) instead of ``gluon.data.vision.CIFAR10``,
which would download. Run by tests/examples/test_d2l_chapter.py in a subprocess (npx.set_np() is
process-wide); prints one JSON line of what it saw."""
import json
import sys

from mxnet import autograd, gluon, image, init, np, npx  # noqa: F401 (the chapter's imports, as written)
from mxnet.gluon import nn

from gluon_augplug import transforms  # the one changed import (was: transforms = gluon.data.vision.transforms)
from gluon_augplug.data import CIFAR10  # offline (was: gluon.data.vision.CIFAR10, which downloads)
from gluon_augplug.randomness import default_source

npx.set_np()
cat_path, cifar_root = sys.argv[1], sys.argv[2]
seen = {}

img = image.imread(cat_path)


def apply(img, aug, num_rows=2, num_cols=4):
    return [aug(img) for _ in range(num_rows * num_cols)]


flips = apply(img, transforms.RandomFlipLeftRight(), num_rows=4, num_cols=8)  # 32 draws: both sides, surely
seen["flip"] = [type(flips[0]).__module__, list(flips[0].shape), len({y[:, 0].asnumpy().tobytes() for y in flips})]
flips_tb = apply(img, transforms.RandomFlipTopBottom(), num_rows=4, num_cols=8)
seen["flip_tb"] = len({y[0].asnumpy().tobytes() for y in flips_tb})
shape_aug = transforms.RandomResizedCrop((200, 200), scale=(0.1, 1), ratio=(0.5, 2))
seen["resized"] = sorted({tuple(y.shape) for y in apply(img, shape_aug)})
seen["brightness"] = len({float(y.mean()) for y in apply(img, transforms.RandomBrightness(0.5))})
seen["hue"] = len({y.asnumpy().tobytes() for y in apply(img, transforms.RandomHue(0.5))})
color_aug = transforms.RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.5)
seen["color"] = len({y.asnumpy().tobytes() for y in apply(img, color_aug)})
augs = transforms.Compose([transforms.RandomFlipLeftRight(), color_aug, shape_aug])
composed = apply(img, augs)
seen["composed"] = [type(composed[0]).__module__, list(composed[0].shape), str(composed[0].dtype)]

train_augs = transforms.Compose([transforms.RandomFlipLeftRight(), transforms.ToTensor()])
test_augs = transforms.Compose([transforms.ToTensor()])


def load_cifar10(is_train, augs, batch_size):
    # the chapter's function; every 20th / 40th image of the test set stands in for the data (CPU time)
    test_set = CIFAR10(root=cifar_root, train=False)
    data = gluon.data.SimpleDataset([test_set[i] for i in range(0 if is_train else 1, 10000, 20 if is_train else 40)])
    return gluon.data.DataLoader(data.transform_first(augs), batch_size=batch_size, shuffle=is_train,
                                 num_workers=2)


def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1).astype(y.dtype) == y).sum())


def train_batch(net, features, labels, loss, trainer, devices):
    X_shards = gluon.utils.split_and_load(features, devices)
    y_shards = gluon.utils.split_and_load(labels, devices)
    with autograd.record():
        pred_shards = [net(X) for X in X_shards]
        ls = [loss(pred, y) for pred, y in zip(pred_shards, y_shards)]
    for l in ls:
        l.backward()
    trainer.step(labels.shape[0])
    train_loss = sum([float(l.sum()) for l in ls])
    train_acc = sum(accuracy(pred, y) for pred, y in zip(pred_shards, y_shards))
    return train_loss, train_acc


def evaluate(net, data_iter, devices):
    correct = total = 0
    for X, y in data_iter:
        for Xs, ys in zip(gluon.utils.split_and_load(X, devices), gluon.utils.split_and_load(y, devices)):
            correct += accuracy(net(Xs), ys)
        total += y.shape[0]
    return correct / total


npx.random.seed(0)
import numpy  # noqa: E402  (not in the chapter: fixed seeds keep this test's loss curve steady)

numpy.random.seed(0)  # the DataLoader's shuffle
default_source().reseed(0)  # the transforms called outside a pipeline
devices = [npx.cpu(0), npx.cpu(1)]
net = nn.Sequential()
net.add(nn.Conv2D(16, kernel_size=3, padding=1, activation="relu"), nn.MaxPool2D(2),
        nn.Conv2D(32, kernel_size=3, padding=1, activation="relu"), nn.GlobalAvgPool2D(), nn.Dense(10))
net.initialize(init=init.Xavier(), ctx=devices)
loss = gluon.loss.SoftmaxCrossEntropyLoss()
trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
train_iter, test_iter = load_cifar10(True, train_augs, 64), load_cifar10(False, test_augs, 64)
epochs = []
for epoch in range(4):  # noqa: B007 (the chapter's loop, as written)
    total_loss = total_acc = n = 0
    for features, labels in train_iter:
        l, acc = train_batch(net, features, labels, loss, trainer, devices)
        total_loss, total_acc, n = total_loss + l, total_acc + acc, n + labels.shape[0]
    epochs.append({"loss": total_loss / n, "train_acc": total_acc / n, "test_acc": evaluate(net, test_iter, devices),
                   "samples": n, "batch_type": type(features).__module__})
seen["epochs"] = epochs
print(json.dumps(seen))
