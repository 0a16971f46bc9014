"""The training loop: devices, uneven batches, checkpoints, resume, plugins by name, batch augmentation."""
from __future__ import annotations

import json
import os

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon

from gluon_augplug.train.checkpoint import CheckpointError, load_checkpoint
from gluon_augplug.train.config import TrainConfig, learning_rate
from gluon_augplug.train.loop import Run, resolve_contexts, train

TINY = dict(model="cifar_resnet20_v1", train_limit=60, test_limit=40, batch_size=16, epochs=1,
            test_aug="d2l-none", progress=False)


def config(data, **kw):
    return TrainConfig(data=data, **{**TINY, **kw})


def test_split_gradients_over_two_devices_equal_one_device():
    """A model without BatchNorm: the per-device gradients of a split batch add up to the one-device gradient."""
    def model(ctx):
        net = gluon.nn.HybridSequential()
        net.add(gluon.nn.Conv2D(4, 3), gluon.nn.Activation("relu"), gluon.nn.Flatten(), gluon.nn.Dense(10))
        net.initialize(mx.init.Xavier(), ctx=ctx, force_reinit=True)
        return net

    x = mx.nd.array(np.random.default_rng(0).normal(size=(7, 3, 8, 8)))  # 7: an uneven split (4 + 3)
    y = mx.nd.array(np.arange(7) % 10)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    mx.random.seed(1)
    one = model([mx.cpu(0)])
    with autograd.record():
        l = loss(one(x), y)
    l.backward()
    mx.random.seed(1)
    two = model([mx.cpu(0), mx.cpu(1)])
    xs = gluon.utils.split_and_load(x, [mx.cpu(0), mx.cpu(1)], even_split=False)
    ys = gluon.utils.split_and_load(y, [mx.cpu(0), mx.cpu(1)], even_split=False)
    assert [a.shape[0] for a in xs] == [4, 3]
    with autograd.record():
        losses = [loss(two(a), b) for a, b in zip(xs, ys)]
    for part in losses:
        part.backward()
    for p1, p2 in zip(one.collect_params().values(), two.collect_params().values()):
        total = sum(g.as_in_context(mx.cpu(0)) for g in p2.list_grad())
        np.testing.assert_allclose(total.asnumpy(), p1.grad().asnumpy(), rtol=1e-5, atol=1e-6)


def test_contexts():
    assert resolve_contexts(TrainConfig(ctx="cpu:0,cpu:1")) == [mx.cpu(0), mx.cpu(1)]
    gpus = mx.context.num_gpus()  # the default: every GPU MXNet sees (D2L's try_all_gpus), else the CPU
    assert resolve_contexts(TrainConfig()) == ([mx.gpu(i) for i in range(gpus)] or [mx.cpu()])
    with pytest.raises(ValueError, match="cpu:0"):
        resolve_contexts(TrainConfig(ctx="tpu:0"))
    with pytest.raises(ValueError, match="lists cpu\\(0\\) twice"):
        resolve_contexts(TrainConfig(ctx="cpu:0,cpu:0"))
    if mx.context.num_gpus() == 0:
        with pytest.raises(ValueError, match=r"asks for gpu\(0\), but MXNet sees 0 GPU"):
            resolve_contexts(TrainConfig(gpus="0"))


def test_batchnorm_model_trains_on_two_devices_with_uneven_last_batches(cifar_jpg, tmp_path, quiet):
    # 61 images in batches of 20: 20, 20, 20, 1 -> the last batch is smaller than the device count
    cfg = config(cifar_jpg, train_limit=61, batch_size=20, ctx="cpu:0,cpu:1", epochs=2, out=str(tmp_path))
    run = Run(cfg, quiet)
    history = run.fit()
    assert [r["samples"] for r in history] == [61, 61]
    assert all(np.isfinite(r["loss"]) for r in history) and history[1]["loss"] < history[0]["loss"]
    for p in run.net.collect_params().values():  # the devices hold the same weights after every step
        if p.grad_req != "null":
            np.testing.assert_array_equal(p.data(mx.cpu(0)).asnumpy(), p.data(mx.cpu(1)).asnumpy())
    lines = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert {"loss", "train_acc", "test_acc", "time", "samples_per_sec", "data_wait", "data_wait_share"} <= set(lines[0])


def test_chapter_epoch_line_is_printed(cifar_jpg):
    """The chapter's per-epoch line, whose time includes the evaluation (as the chapter's does)."""
    import re

    lines = []
    history = train(config(cifar_jpg), lines.append)
    pattern = re.compile(r"epoch 1, loss \d\.\d{4}, train acc \d\.\d{3}, test acc \d\.\d{3}, time \d+\.\d sec "
                         r"\(\d+\.\d examples/sec on cpu\(0\), data wait \d+%\)$")
    assert any(pattern.match(line) for line in lines), lines
    assert history[0]["epoch_time"] > history[0]["time"]  # training plus the evaluation that followed it


def test_resume_continues_exactly(cifar_jpg, tmp_path, quiet):
    common = dict(train_aug="cifar10-standard", test_aug="cifar10-test", optimizer="sgd", lr=0.05, wd=1e-4,
                  lr_mode="cosine", warmup_epochs=1, mixup=0.2, ctx="cpu:0,cpu:1")
    straight = train(config(cifar_jpg, epochs=3, out=str(tmp_path / "a"), **common), quiet)
    train(config(cifar_jpg, epochs=1, out=str(tmp_path / "b"), **common), quiet)  # "stopped" after epoch 1
    resumed = train(TrainConfig(epochs=3, out=str(tmp_path / "b"), resume=str(tmp_path / "b"), progress=False), quiet)
    for a, b in zip(straight, resumed):
        for key in ("loss", "train_acc", "test_acc", "lr", "samples"):
            assert a[key] == b[key], key
    pa = mx.nd.load(str(tmp_path / "a" / "epoch-0003.params"))
    pb = mx.nd.load(str(tmp_path / "b" / "epoch-0003.params"))
    for name in pa:
        if "running" in name:
            # saved BatchNorm statistics are the mean over devices: equal up to float rounding
            np.testing.assert_allclose(pb[name].asnumpy(), pa[name].asnumpy(), rtol=1e-5, atol=1e-7)
        else:
            np.testing.assert_array_equal(pb[name].asnumpy(), pa[name].asnumpy())
    assert [json.loads(l)["epoch"] for l in open(tmp_path / "b" / "metrics.jsonl")] == [1, 2, 3]


def test_checkpoint_contents_and_atomicity(cifar_jpg, tmp_path, quiet):
    cfg = config(cifar_jpg, epochs=1, out=str(tmp_path), train_aug="RandomCrop(32, pad=4), ToTensor")
    run = Run(cfg, quiet)
    run.fit()
    record = load_checkpoint(str(tmp_path))
    assert record["epoch"] == 1 and record["config"]["train_aug"] == "RandomCrop(32, pad=4), ToTensor"
    assert record["train_spec"]["transforms"][0] == {"name": "RandomCrop", "params": {"size": 32, "pad": 4}}
    assert {"python", "numpy"} <= set(record["rng"])
    # a crash while writing the next checkpoint leaves the previous one whole
    run.cfg.epochs = 2

    def crash(path):
        with open(path, "wb") as f:
            f.write(b"half")
        raise RuntimeError("power cut")

    run.net.save_parameters = crash
    with pytest.raises(RuntimeError, match="power cut"):
        run.fit()
    after = load_checkpoint(str(tmp_path))
    assert after["epoch"] == 1 and os.path.getsize(tmp_path / after["params"]) > 1000
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]
    resumed = train(TrainConfig(epochs=2, out=str(tmp_path), resume=str(tmp_path), progress=False), quiet)
    assert [r["epoch"] for r in resumed] == [1, 2]


def test_corrupt_or_missing_checkpoints_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="no readable checkpoint.json"):
        load_checkpoint(str(tmp_path))
    (tmp_path / "checkpoint.json").write_text('{"epoch": 1, "iteration": ')
    with pytest.raises(CheckpointError, match=r"checkpoint.json is corrupt: .* \(offset 26\)"):
        load_checkpoint(str(tmp_path))
    (tmp_path / "checkpoint.json").write_text(json.dumps(
        {"epoch": 1, "iteration": 3, "params": "epoch-0001.params", "trainer_states": None, "config": {},
         "history": [{"epoch": 1}]}))
    with pytest.raises(CheckpointError, match="epoch-0001.params.*missing"):
        load_checkpoint(str(tmp_path))


def test_a_plugin_transform_by_name_in_train_aug(cifar_jpg, augplug_register, quiet):
    import gluon_augplug

    seen = []

    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_transforms(self, register):
            def factory(strength: float = 0.5):
                def invert_some(img, rng):
                    seen.append(img.shape)
                    return 255 - img if rng.random() < strength else img.copy()
                return invert_some
            register("InvertSome", factory)

    augplug_register(Plugin(), "test-plugin")
    history = train(config(cifar_jpg, train_aug="InvertSome(0.3), RandomFlipLeftRight, ToTensor"), quiet)
    assert len(seen) == 60 and seen[0] == (32, 32, 3) and history[0]["samples"] == 60


def test_a_plugin_transform_with_a_batch_path_runs_in_batch_aug(cifar_jpg, augplug_register, quiet, tmp_path):
    """One class, one registration (the transforms hook): usable per sample and in --batch-aug."""
    import gluon_augplug
    from gluon_augplug import params as P

    batches = []

    class Darken(gluon_augplug.Transform):
        """Scale pixels by factor."""

        factor = P.Number(0.5, 0.0, 1.0)

        def apply(self, img, layout):
            return (img * self.factor).astype(img.dtype)

        def apply_batch(self, state, params):
            batches.append(state.n)
            state.add_color(np.tile(np.hstack([np.eye(3) * self.factor, np.zeros((3, 1))]), (state.n, 1, 1)))

    class Plugin:
        @gluon_augplug.hookimpl
        def augplug_register_transforms(self, register):
            register("Darken", Darken)

    augplug_register(Plugin(), "darken-plugin")
    run = Run(config(cifar_jpg, ctx="cpu:0,cpu:1", train_aug="ToTensor", batch_aug="RandomFlipLeftRight, Darken(0.25)",
                     out=str(tmp_path)), quiet)
    data, label = next(iter(run.train_loader))
    datas, labels = run.split(data, label)
    out, _ = run.augment_on_devices(list(datas), labels, 0, 0)
    for x, y in zip(datas, out):  # the flip moves pixels, Darken scales all of them by 0.25
        np.testing.assert_allclose(np.sort(y.asnumpy(), axis=None), np.sort(x.asnumpy() * 0.25, axis=None), atol=1e-6)
    history = run.fit()
    assert history[0]["samples"] == 60 and sum(batches) == data.shape[0] + 60  # the check above, then the epoch


@pytest.mark.parametrize("extra", [dict(mixup=0.4), dict(cutmix=1.0), dict(label_smoothing=0.1),
                                   dict(mixup=0.2, cutmix=0.2, optimizer="nag", lr=0.05, lr_mode="step",
                                        lr_decay_epochs=(1,)),
                                   dict(train_aug="ToTensor", batch_aug="RandomCrop(32, pad=4), RandomFlipLeftRight, "
                                        "RandomColorJitter(0.3, 0.3, 0.3, 0.05), Cutout(8), Mixup(0.2)")])
def test_batch_augmentation_on_the_device_and_soft_targets(cifar_jpg, extra, quiet, tmp_path):
    run = Run(config(cifar_jpg, ctx="cpu:0,cpu:1", out=str(tmp_path), **extra), quiet)
    data, label = next(iter(run.train_loader))
    datas, labels = run.split(data, label)
    augmented, targets = run.augment_on_devices(list(datas), labels, epoch=0, batch=0)
    smoothing = extra.get("label_smoothing", 0.0)
    mixers = sum(bool(extra.get(k)) for k in ("mixup", "cutmix")) + ("Mixup" in extra.get("batch_aug", ""))
    mixes = mixers > 0
    assert not run.loss._sparse_label  # the loss takes the soft targets
    mixed_rows = 0
    for x, y, t in zip(augmented, labels, targets):
        assert x.context == t.context == y.context  # worked on where the part lives
        t, y = t.asnumpy(), y.asnumpy().astype(int)
        assert t.shape == (len(y), 10)
        np.testing.assert_allclose(t.sum(axis=1), 1.0, rtol=1e-5)
        one_hot = np.eye(10)[y]
        if not mixes:  # smoothing alone: exactly (1 - eps) one-hot + eps / classes
            np.testing.assert_allclose(t, one_hot * (1 - smoothing) + smoothing / 10, rtol=1e-6)
            continue
        for row, own in zip(t, y):  # a blend of its own class and a partner's (from this part) per mixing step
            support = set(np.flatnonzero(row > 1e-6))
            assert row[own] > 0 and len(support) <= 2 ** mixers and support <= set(y)
        mixed_rows += int((t.max(axis=1) < 1 - 1e-6).sum())
    assert mixed_rows > 0 if mixes else mixed_rows == 0
    history = run.fit()
    assert np.isfinite(history[0]["loss"]) and history[0]["samples"] == 60


def test_learning_rate_schedules():
    cfg = TrainConfig(lr=0.1, epochs=10, warmup_epochs=1, lr_mode="cosine")
    assert learning_rate(cfg, 0, 10) == pytest.approx(0.01) and learning_rate(cfg, 9, 10) == pytest.approx(0.1)
    assert learning_rate(cfg, 10, 10) == pytest.approx(0.1) and learning_rate(cfg, 100, 10) == pytest.approx(0.0)
    step = TrainConfig(lr=0.1, lr_mode="step", lr_decay=0.1, lr_decay_epochs=(2, 4))
    assert [round(learning_rate(step, e * 10, 10), 6) for e in (0, 2, 4)] == [0.1, 0.01, 0.001]


@pytest.mark.parametrize("changes, message", [
    (dict(optimizer="lamb"), "optimizer='lamb'"), (dict(lr=0), "lr=0"), (dict(kvstore="nccl2"), "kvstore"),
    (dict(label_smoothing=1.0), "label_smoothing"), (dict(data=""), "data is required"),
    (dict(train_limit=0), "train_limit"),
])
def test_bad_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{"data": "x", **changes}).validate()


def test_dataloader_workers_do_not_change_the_run(cifar_jpg, quiet):
    """Per-sample seeding: 2 worker processes give exactly the history of 0 workers."""
    common = dict(train_aug="cifar10-standard", test_aug="cifar10-test", epochs=2)
    inline = train(config(cifar_jpg, num_workers=0, **common), quiet)
    workers = train(config(cifar_jpg, num_workers=2, **common), quiet)
    for a, b in zip(inline, workers):
        assert (a["loss"], a["train_acc"], a["test_acc"]) == (b["loss"], b["train_acc"], b["test_acc"])
