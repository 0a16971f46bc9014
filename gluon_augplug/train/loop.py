"""The multi-device training loop (GluonCV's ``train_cifar10.py`` and D2L's ``train_ch13``).

Batches are split over the devices with ``gluon.utils.split_and_load`` (uneven last
batches included), batch transforms run on each device, each device backpropagates its part, ``trainer.step(batch_size)``
aggregates, and evaluation accuracy is summed over devices. Every random choice (shuffle
order, augmentation, Mixup/CutMix, MXNet's own RNG) is derived from (seed, epoch,
iteration), so a resumed run continues exactly where an uninterrupted one would be.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from ..data.augment import augment
from ..data.datasets import open_dataset
from ..pipeline.build import build_pipeline
from ..batch import BatchPipeline, build_batch_pipeline
from .checkpoint import load_checkpoint, restore_rng_states, save_checkpoint
from .config import RESUMABLE_OVERRIDES, TrainConfig, learning_rate
from .models import get_model

METRICS = "metrics.jsonl"


def resolve_contexts(cfg: TrainConfig) -> list[mx.Context]:
    """``--ctx cpu:0,cpu:1`` / ``--gpus 0,1`` / every GPU found (D2L's ``try_all_gpus``) / the CPU."""
    if cfg.ctx:
        contexts = []
        for item in cfg.ctx.split(","):
            kind, _, index = item.strip().partition(":")
            if kind not in ("cpu", "gpu") or (index and not index.isdigit()):
                raise ValueError(f"--ctx item {item!r} must look like cpu:0 or gpu:1")
            contexts.append(mx.Context(kind, int(index or 0)))
        return contexts
    if cfg.gpus is not None and cfg.gpus.strip():
        return [mx.gpu(int(i)) for i in cfg.gpus.split(",")]
    n = mx.context.num_gpus()
    return [mx.gpu(i) for i in range(n)] if n else [mx.cpu()]


def derived_seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class EpochShuffleSampler(gluon.data.Sampler):
    """A permutation of ``range(length)`` that depends only on (seed, epoch)."""

    def __init__(self, length: int, seed: int):
        self.length, self.seed, self.epoch = length, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        rng = np.random.default_rng(derived_seed(self.seed, self.epoch, 1))
        return iter(rng.permutation(self.length).tolist())

    def __len__(self) -> int:
        return self.length


@dataclass
class RunState:
    """What a checkpoint restores: progress and history."""

    epoch: int = 0
    iteration: int = 0
    history: list[dict] = field(default_factory=list)


class Run:
    """One training run: data, model, trainer and its progress. ``Run(cfg).fit()`` trains it."""

    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] = print):
        self.log = log
        self.resumed = load_checkpoint(cfg.resume) if cfg.resume else None
        if self.resumed:  # the saved settings, except the run-time ones this call sets (differs from defaults)
            saved = TrainConfig.from_dict(self.resumed["config"])
            defaults = TrainConfig()
            for name in RESUMABLE_OVERRIDES:
                if getattr(cfg, name) != getattr(defaults, name):
                    setattr(saved, name, getattr(cfg, name))
            saved.resume = cfg.resume
            cfg = saved
        self.cfg = cfg.validate()
        self.contexts = resolve_contexts(cfg)
        self.kv: Any = mx.kv.create(cfg.kvstore) if cfg.kvstore.startswith("dist") else cfg.kvstore
        self.rank, self.workers = (self.kv.rank, self.kv.num_workers) if cfg.kvstore.startswith("dist") else (0, 1)
        self.out = cfg.out if self.workers == 1 or not cfg.out else os.path.join(cfg.out, f"worker-{self.rank}")
        self._build_data()
        self._build_model()
        self.state = RunState()
        if self.resumed:
            self._restore()

    # -- set-up ------------------------------------------------------------------------
    def _build_data(self) -> None:
        cfg = self.cfg
        train = open_dataset(cfg.data, "train", cfg.train_limit, seed=cfg.seed)
        if self.workers > 1:  # each worker its own shard, augmented with its own seed
            train = train.shard(self.rank, self.workers)
        test = open_dataset(cfg.data, "test", cfg.test_limit, seed=cfg.seed)
        self.classes = len(train.classes)
        self.train_pipeline = build_pipeline(cfg.train_aug, seed=cfg.seed)
        self.test_pipeline = build_pipeline(cfg.test_aug, seed=cfg.seed)
        self.train_set = augment(train, self.train_pipeline, seed=derived_seed(cfg.seed, self.rank, 2))
        self.test_set = augment(test, self.test_pipeline, seed=derived_seed(cfg.seed, 3))
        self.sampler = EpochShuffleSampler(len(self.train_set), derived_seed(cfg.seed, self.rank))
        batch_sampler = gluon.data.BatchSampler(self.sampler, cfg.batch_size, last_batch="keep")
        self.train_loader = gluon.data.DataLoader(self.train_set, batch_sampler=batch_sampler,
                                                  num_workers=cfg.num_workers)
        self.test_loader = gluon.data.DataLoader(self.test_set, cfg.batch_size, shuffle=False, last_batch="keep",
                                                 num_workers=cfg.num_workers)
        self.batches_per_epoch = (len(self.train_set) + cfg.batch_size - 1) // cfg.batch_size

    def _build_model(self) -> None:
        cfg = self.cfg
        mx.random.seed(derived_seed(cfg.seed, 4))  # the same initial weights for every configuration
        self.net = get_model(cfg.model, classes=self.classes)
        self.net.initialize(mx.init.Xavier(), ctx=self.contexts)
        self.net.hybridize()
        params: dict[str, Any] = {"learning_rate": cfg.lr, "wd": cfg.wd}
        if cfg.optimizer in ("sgd", "nag"):
            params["momentum"] = cfg.momentum
        self.trainer = gluon.Trainer(self.net.collect_params(), cfg.optimizer, params, kvstore=self.kv)
        # with a dist_* kvstore the optimizer runs on the servers, whose states workers cannot save
        # (update_on_kvstore=False would allow it, but its workers were seen here ending with unequal weights)
        self.saves_trainer_states = not cfg.kvstore.startswith("dist")
        self.batch_pipeline = self._batch_pipeline()
        self.soft_targets = cfg.label_smoothing > 0 or (self.batch_pipeline is not None
                                                         and self.batch_pipeline.mixes_labels)
        self.loss = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=not self.soft_targets)

    def _batch_pipeline(self) -> BatchPipeline | None:
        """--batch-aug plus --mixup/--cutmix, run on each device after split_and_load (None = nothing to do)."""
        cfg = self.cfg
        items = list(cfg.batch_aug) if isinstance(cfg.batch_aug, (list, tuple)) else [cfg.batch_aug] * bool(cfg.batch_aug)
        items += [f"Mixup({cfg.mixup})"] * (cfg.mixup > 0) + [f"CutMix({cfg.cutmix})"] * (cfg.cutmix > 0)
        if items:
            return build_batch_pipeline(items, seed=cfg.seed)
        return BatchPipeline([], seed=cfg.seed) if cfg.label_smoothing else None

    def _restore(self) -> None:
        record = self.resumed
        directory = record["directory"]
        self.net.load_parameters(os.path.join(directory, record["params"]), ctx=self.contexts)
        if record["trainer_states"]:
            self.trainer.load_states(os.path.join(directory, record["trainer_states"]))
        else:
            self.log("note: a dist_* kvstore keeps optimizer states on the servers; they restart from zero")
        restore_rng_states(record["rng"])
        self.state = RunState(record["epoch"], record["iteration"], list(record["history"]))
        self.log(f"resumed from {directory} after epoch {record['epoch']} (iteration {record['iteration']})")

    # -- training ----------------------------------------------------------------------
    def fit(self) -> list[dict]:
        cfg = self.cfg
        if self.out:
            os.makedirs(self.out, exist_ok=True)
            self._rewrite_metrics()
        self.log(f"training {cfg.model} on {len(self.train_set)} images ({len(self.test_set)} test) on "
                 f"{', '.join(map(str, self.contexts))}; train aug: {self.train_pipeline.to_string()}")
        for epoch in range(self.state.epoch, cfg.epochs):
            row = self.train_epoch(epoch)
            self.state.history.append(row)
            self.state.epoch = epoch + 1
            self.log(f"epoch {epoch + 1}: loss {row['loss']:.3f}, train acc {row['train_acc']:.3f}, test acc "
                     f"{row['test_acc']:.3f}, {row['time']:.1f} s, {row['samples_per_sec']:.1f} examples/sec on "
                     f"{', '.join(map(str, self.contexts))} (data wait {100 * row['data_wait_share']:.0f}%)")
            if self.out:
                self._checkpoint()
                with open(os.path.join(self.out, METRICS), "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
        return self.state.history

    def train_epoch(self, epoch: int) -> dict:
        cfg = self.cfg
        self.sampler.set_epoch(epoch)
        self.train_set.set_epoch(epoch)
        mx.random.seed(derived_seed(cfg.seed, self.rank, epoch, 5))  # dropout etc.: reproducible on resume
        loss_sum, correct, seen, wait = 0.0, 0.0, 0, 0.0
        start = tick = time.time()
        progress = self._progress(epoch)
        for i, (data, label) in enumerate(self.train_loader):
            wait += time.time() - tick
            self.trainer.set_learning_rate(learning_rate(cfg, self.state.iteration, self.batches_per_epoch))
            loss_sum, correct = self.train_step(data, label, epoch, i, loss_sum, correct)
            seen += data.shape[0]
            self.state.iteration += 1
            if progress is not None:
                progress.update(1)
            if cfg.log_interval and (i + 1) % cfg.log_interval == 0:
                self.log(f"  epoch {epoch + 1} batch {i + 1}/{self.batches_per_epoch}: loss {loss_sum / seen:.3f}, "
                         f"train acc {correct / seen:.3f}, lr {self.trainer.learning_rate:.5f}")
            tick = time.time()
        elapsed = time.time() - start
        if progress is not None:
            progress.close()
        test_acc = self.evaluate()
        return {"epoch": epoch + 1, "loss": loss_sum / seen, "train_acc": correct / seen, "test_acc": test_acc,
                "time": elapsed, "samples_per_sec": seen / elapsed, "data_wait": wait,
                "data_wait_share": wait / elapsed, "lr": self.trainer.learning_rate, "samples": seen}

    def split(self, data, label) -> tuple[list, list]:
        """``split_and_load`` over the devices; a last batch smaller than the device count uses fewer devices."""
        contexts = self.contexts[: max(1, min(len(self.contexts), data.shape[0]))]
        return (gluon.utils.split_and_load(data, contexts, even_split=False),
                gluon.utils.split_and_load(label.astype("float32"), contexts, even_split=False))

    def train_step(self, data, label, epoch: int, batch: int, loss_sum: float, correct: float):
        cfg = self.cfg
        datas, labels = self.split(data, label)
        targets = labels
        if self.batch_pipeline is not None:  # batch augmentation on each device, per-sample parameters
            targets = []
            for k, (x, y) in enumerate(zip(datas, labels)):
                rng = np.random.default_rng(derived_seed(cfg.seed, self.rank, epoch, batch, k, 6))
                datas[k], target = self.batch_pipeline(x, y, classes=self.classes, smoothing=cfg.label_smoothing,
                                                       rng=rng)
                targets.append(target)
        with autograd.record():
            outputs = [self.net(x) for x in datas]
            losses = [self.loss(o, t) for o, t in zip(outputs, targets)]
        for loss in losses:
            loss.backward()
        self.trainer.step(data.shape[0])
        loss_sum += sum(float(loss.sum().asscalar()) for loss in losses)
        correct += sum(float((o.argmax(axis=1) == y).sum().asscalar()) for o, y in zip(outputs, labels))
        return loss_sum, correct

    def evaluate(self) -> float:
        correct, seen = 0.0, 0
        for data, label in self.test_loader:
            datas, labels = self.split(data, label)
            for x, y in zip(datas, labels):
                correct += float((self.net(x).argmax(axis=1) == y).sum().asscalar())
            seen += data.shape[0]
        return correct / max(seen, 1)

    # -- output ------------------------------------------------------------------------
    def _progress(self, epoch: int):
        show = self.cfg.progress if self.cfg.progress is not None else sys.stderr.isatty()
        if not show:
            return None
        from tqdm import tqdm

        return tqdm(total=self.batches_per_epoch, desc=f"epoch {epoch + 1}/{self.cfg.epochs}", leave=False)

    def _checkpoint(self) -> None:
        state = {"epoch": self.state.epoch, "iteration": self.state.iteration, "history": self.state.history,
                 "config": self.cfg.to_dict(), "train_spec": self.train_pipeline.to_spec(),
                 "test_spec": self.test_pipeline.to_spec(), "rank": self.rank, "workers": self.workers}
        save_checkpoint(self.out, self.net, self.trainer if self.saves_trainer_states else None, state,
                        keep=self.cfg.keep_checkpoints)

    def _rewrite_metrics(self) -> None:
        """metrics.jsonl holds exactly the epochs of the checkpoint (a resumed run drops any later lines)."""
        path = os.path.join(self.out, METRICS)
        with open(f"{path}.tmp", "w", encoding="utf-8") as f:
            for row in self.state.history:
                f.write(json.dumps(row) + "\n")
        os.replace(f"{path}.tmp", path)


def train(cfg: TrainConfig, log: Callable[[str], None] = print) -> list[dict]:
    """Train one configuration; returns the per-epoch history (also in ``cfg.out/metrics.jsonl``)."""
    return Run(cfg, log).fit()
