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
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._optional import require_mxnet
from ..data.augment import augment
from ..data.batchify import checked_batchify
from ..errors import brief, short_reason
from ..data.datasets import open_dataset, stratified_indices
from ..data.loader import BatchLoader
from ..data.streaming import open_split
from ..pipeline.build import build_pipeline
from ..randomness import derived_seed
from ..batch import BatchPipeline, build_batch_pipeline
from .._locks import WriterLock, acquire
from .checkpoint import (LOCK, METRICS, CheckpointError, atomic_write, load_checkpoint, remove_stale_temporaries,
                         restore_rng_states, run_files, save_checkpoint, write_text)
from ..data.tagged import TimedBatches
from .config import RESUMABLE_OVERRIDES, ConfigError, TrainConfig, checkpoint_interval, learning_rate
from .hints import input_bound_hint
from .stopping import StopSignals, TrainingStopped, WorkerSignals
from .evaluate import accuracy_with_views, black_of, check_views, test_image_hw
from .models import get_model
from .optimizer_state import OptimizerStateError, load_optimizer_states

mx = require_mxnet("gluon_augplug.train (the training loop and its models)")
autograd, gluon = mx.autograd, mx.gluon


MAX_DEVICE_INDEX = 255  # MXNet allocates per-device state up to the index asked for


def _gpu_count() -> int:
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:  # a CPU-only build, or no CUDA driver
        return 0


def resolve_contexts(cfg: TrainConfig) -> list[mx.Context]:
    """``--ctx cpu:0,cpu:1`` / ``--gpus 0,1`` / every GPU found (D2L's ``try_all_gpus``) / the CPU.

    Raises
    ------
    ConfigError
        A malformed or repeated device, or a GPU that MXNet does not see.
    """
    if cfg.ctx:
        contexts = []
        for item in cfg.ctx.split(","):
            kind, _, index = item.strip().partition(":")
            if kind not in ("cpu", "gpu") or (index and not re.fullmatch("[0-9]{1,20}", index)):
                raise ConfigError(f"--ctx item {item[:40]!r} must look like cpu:0 or gpu:1")
            if index and int(index) > MAX_DEVICE_INDEX:
                raise ConfigError(f"--ctx item {item[:40]!r}: device numbers go up to {MAX_DEVICE_INDEX}")
            contexts.append(mx.Context(kind, int(index or 0)))
        option = "--ctx"
    elif cfg.gpus is not None and cfg.gpus.strip():
        items = [i.strip() for i in cfg.gpus.split(",")]
        if not all(re.fullmatch("[0-9]{1,20}", i) and int(i) <= MAX_DEVICE_INDEX for i in items):
            raise ConfigError(f"--gpus {cfg.gpus[:40]!r} must be GPU numbers such as 0,1 (at most {MAX_DEVICE_INDEX})")
        contexts, option = [mx.gpu(int(i)) for i in items], "--gpus"
    else:
        n = _gpu_count()
        return [mx.gpu(i) for i in range(n)] if n else [mx.cpu()]
    seen = set()
    for ctx in contexts:
        if str(ctx) in seen:
            raise ConfigError(f"{option} lists {ctx} twice: each device takes one part of every batch")
        seen.add(str(ctx))
    gpus = [c for c in contexts if c.device_type == "gpu"]
    if gpus:
        available = _gpu_count()
        missing = [str(c) for c in gpus if c.device_id >= available]
        if missing:
            raise ConfigError(f"{option} asks for {', '.join(missing)}, but MXNet sees {available} GPU(s)"
                              + (" (the CPU build of mxnet sees none: install mxnet-cu112 for GPUs)"
                                 if not available else ""))
    return contexts


class EpochShuffleSampler(gluon.data.Sampler):
    """A permutation of ``range(length)`` that depends only on (seed, epoch)."""

    def __init__(self, length: int, seed: int, rank: int = 0):
        self.length, self.seed, self.rank, self.epoch = length, seed, rank, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        rng = np.random.default_rng(derived_seed(self.seed, "shuffle", self.rank, self.epoch))
        return iter(rng.permutation(self.length).tolist())

    def __len__(self) -> int:
        return self.length


class RoundBatchSampler(gluon.data.Sampler):
    """``batches`` full batches from ``sampler``'s order, wrapping around to its start to fill the last
    ones (ImageRecordIter's ``round_batch``): distributed workers whose parts differ by a record still
    make the same steps of the same size."""

    def __init__(self, sampler: Any, batch_size: int, batches: int):
        self.sampler, self.batch_size, self.batches = sampler, batch_size, batches

    def __iter__(self):
        order = list(self.sampler)
        needed = self.batch_size * self.batches
        order = (order * (-(-needed // len(order))))[:needed]
        return iter([order[i:i + self.batch_size] for i in range(0, needed, self.batch_size)])

    def __len__(self) -> int:
        return self.batches


@dataclass
class RunState:
    """What a checkpoint restores: progress and history; inside an epoch, the batches done and their sums."""

    epoch: int = 0
    iteration: int = 0
    history: list[dict] = field(default_factory=list)
    batch: int = 0  # batches of epoch `epoch` (0-based) already trained on
    partial: dict | None = None  # their loss_sum, correct, seen, wait and elapsed


class Run:
    """One training run: data, model, trainer and its progress. ``Run(cfg).fit()`` trains it.

    Parameters
    ----------
    cfg : TrainConfig
    log : callable
        Receives each progress line.
    given : iterable of str, optional
        With ``cfg.resume``: the settings the caller set on purpose (the command line's
        options). Run-time ones (``RESUMABLE_OVERRIDES``) replace the saved values; any other
        that differs from the saved run is refused. Default: the settings that differ from
        :class:`TrainConfig`'s defaults.
    lock : WriterLock, optional
        The writer lock of the out folder, when the caller took it already (``compare`` takes every
        configuration's before the first trains); without one the run takes it, and a folder that
        another writer holds is refused (:class:`~gluon_augplug._locks.OutputBusyError`).
    """

    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] = print, given: Any = None,
                 lock: WriterLock | None = None):
        self.log = log
        self.worker_signals = WorkerSignals()  # DataLoader workers keep working while the run stops itself
        self.signals = StopSignals(log, self.worker_signals)  # entered by fit(): a signal ends the run at a checkpoint
        self._lock: WriterLock | None = lock  # the out folder's, taken by a caller that holds it already
        self._created_out = False
        self.out: str | None = None
        # a folder resumed from is held while it is read: a live run's checkpoint may change under the reader
        self._source_lock = _hold_while_reading(cfg.resume) if cfg.resume and lock is None else None
        try:
            self._set_up(cfg, given)
        except BaseException:
            self.close()
            raise
        finally:
            if self._source_lock is not None:
                self._source_lock.release()
                self._source_lock = None

    def _set_up(self, cfg: TrainConfig, given: Any) -> None:
        self.resumed = load_checkpoint(cfg.resume) if cfg.resume else None
        if self.resumed:
            cfg = _resumed_config(cfg, self.resumed, given)
        self.cfg = cfg.validate()
        self.tta = check_views(cfg.tta)  # a bad view is refused before any work
        self.contexts = resolve_contexts(cfg)
        if cfg.batch_size < len(self.contexts):
            raise ConfigError(f"--batch-size {cfg.batch_size} is smaller than the {len(self.contexts)} devices "
                              f"({', '.join(map(str, self.contexts))}): each device needs at least one image")
        if cfg.kvstore.startswith("dist") and not all(os.environ.get(v) for v in ("DMLC_ROLE", "DMLC_NUM_WORKER",
                                                                                 "DMLC_PS_ROOT_URI")):
            raise ConfigError(f"--kvstore {cfg.kvstore} needs MXNet's scheduler and servers: run it under "
                              f"'augplug launch -n WORKERS -s SERVERS -- augplug train ...' (DMLC_* are not set)")
        self.kv: Any = mx.kv.create(cfg.kvstore) if cfg.kvstore.startswith("dist") else cfg.kvstore
        self.rank, self.workers = (self.kv.rank, self.kv.num_workers) if cfg.kvstore.startswith("dist") else (0, 1)
        self.out = cfg.out if self.workers == 1 or not cfg.out else os.path.join(cfg.out, f"worker-{self.rank}")
        if self.out:
            if self._source_lock is not None and os.path.realpath(self.out) == os.path.realpath(cfg.resume or ""):
                self._lock, self._source_lock = self._source_lock, None  # resumed in place: the same writer
            self._claim_out_folder()
        self._build_data()
        self._build_model()
        self.state = RunState()
        if self.resumed:
            self._restore()

    def close(self) -> None:
        """Give up the run folder: release its writer lock (a folder this run created and left empty is
        removed). :func:`train` and :func:`resume` call it; the kernel does it for a process that dies."""
        self.worker_signals.set(WorkerSignals.FINISHED)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
            if self._created_out and self.out:
                try:
                    os.rmdir(self.out)  # only if empty: set-up failed before anything was written
                except OSError:
                    pass

    # -- set-up ------------------------------------------------------------------------
    def _open_splits(self) -> tuple[Any, Any]:
        cfg = self.cfg
        if not cfg.val_data:
            return (open_dataset(cfg.data, "train", cfg.train_limit, seed=derived_seed(cfg.seed, "dataset", 0)),
                    open_dataset(cfg.data, "test", cfg.test_limit, seed=derived_seed(cfg.seed, "dataset", 1)))
        splits = []
        for k, (path, limit) in enumerate(((cfg.data, cfg.train_limit), (cfg.val_data, cfg.test_limit))):
            split = open_split(path, encoded=True)  # decoded by the pipeline, fused with its first crop
            split.check_class_labels()
            if limit is not None:
                split = split.subset(stratified_indices(split.labels, limit, derived_seed(cfg.seed, "dataset", k)))
            splits.append(split)
        train_names, test_names = (getattr(split, "synsets", None) for split in splits)
        if train_names is not None and test_names is not None and train_names != test_names:
            missing, extra = sorted(set(train_names) - set(test_names)), sorted(set(test_names) - set(train_names))
            raise ConfigError(f"the class folders of --val-data {cfg.val_data!r} and --data {cfg.data!r} differ "
                              f"(missing from the evaluation split: {', '.join(missing[:10]) or '-'}; not in the "
                              f"training split: {', '.join(extra[:10]) or '-'}): labels are positions in the sorted "
                              f"class folders, so they would mean other classes")
        return splits[0], splits[1]

    def _build_data(self) -> None:
        with self.worker_signals.forking():  # DataLoader workers are forked here
            self._build_datasets_and_loaders()

    def _build_datasets_and_loaders(self) -> None:
        cfg = self.cfg
        train, test = self._open_splits()
        for what, split, path in (("training", train, cfg.data), ("evaluation", test, cfg.val_data or cfg.data)):
            if not len(split):
                raise ConfigError(f"the {what} split of {path!r} holds no images")
        self.classes = max(len(train.classes), len(test.classes))
        total = len(train)
        largest_part = -(-total // self.workers)
        if self.workers > 1:  # each worker its own shard, augmented with its own seed
            train = train.shard(self.rank, self.workers)
            if not len(train):
                raise ConfigError(f"{self.workers} workers share {total} training images: worker {self.rank}'s "
                                  f"part is empty; use fewer workers or more images")
        # no pipeline seed: every sample's numbers come from the data sets' per-sample streams below
        self.train_pipeline = build_pipeline(cfg.train_aug)
        self.test_pipeline = build_pipeline(cfg.test_aug)
        for option, pipeline in (("--train-aug", self.train_pipeline), ("--test-aug", self.test_pipeline)):
            layout = pipeline.output_layout()
            if layout != "CHW":  # else MXNet fails in the first forward pass ("uniform type uint8 vs float32")
                raise ConfigError(f"{option} {brief(pipeline.to_string(), 120)} ends in {layout} images, but the "
                                  f"network takes float CHW tensors: end it with ToTensor (and Normalize), e.g. "
                                  f"'{pipeline.to_string()[:60]}, ToTensor'")
        self.train_set = augment(train, self.train_pipeline, seed=derived_seed(cfg.seed, "train-augment", self.rank))
        self.test_set = augment(test, self.test_pipeline, seed=derived_seed(cfg.seed, "test-augment"))
        if self.tta:  # views larger than the test images are refused now, not after an epoch of training
            check_views(self.tta, hw=test_image_hw(self.test_set))
        self.sampler = EpochShuffleSampler(len(self.train_set), cfg.seed, self.rank)
        if self.workers > 1:  # dist_sync: every worker the same number of equal batches, or the servers wait
            batch_sampler = RoundBatchSampler(self.sampler, cfg.batch_size, -(-largest_part // cfg.batch_size))
        else:
            batch_sampler = gluon.data.BatchSampler(self.sampler, cfg.batch_size, last_batch="keep")
        self.batches_per_epoch = len(batch_sampler)
        # every index carries its epoch and iteration to the workers (schedules), and a resumed epoch skips its start
        batch_sampler = TimedBatches(batch_sampler)
        self.timed_batches = batch_sampler
        if cfg.val_data:  # streamed: batches from a thread pool, each assembled once
            self.train_loader = BatchLoader(self.train_set, batch_sampler=batch_sampler, threads=cfg.threads,
                                            num_workers=cfg.num_workers)
            self.test_loader = BatchLoader(self.test_set, cfg.batch_size, threads=cfg.threads,
                                           num_workers=cfg.num_workers)
            return
        self.train_loader = gluon.data.DataLoader(self.train_set, batch_sampler=batch_sampler,
                                                  num_workers=cfg.num_workers,
                                                  batchify_fn=checked_batchify(cfg.num_workers, "the training set"))
        self.test_loader = gluon.data.DataLoader(self.test_set, cfg.batch_size, shuffle=False, last_batch="keep",
                                                 num_workers=cfg.num_workers,
                                                 batchify_fn=checked_batchify(cfg.num_workers, "the test set"))

    def _build_model(self) -> None:
        cfg = self.cfg
        mx.random.seed(derived_seed(cfg.seed, "weights"))  # the same initial weights for every configuration
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
        # --mixup-off-epoch N: the last N epochs without Mixup, as GluonCV's train_imagenet.py (its --no-mixup-epochs)
        mixup = f"Mixup({cfg.mixup}, active=until({max(cfg.epochs - cfg.mixup_off_epoch, 0)}))" \
            if cfg.mixup_off_epoch else f"Mixup({cfg.mixup})"
        items += [mixup] * (cfg.mixup > 0) + [f"CutMix({cfg.cutmix})"] * (cfg.cutmix > 0)
        if items:
            return build_batch_pipeline(items)  # seeded per batch and device in the loop ("batch-augment")
        return BatchPipeline([]) if cfg.label_smoothing else None

    def _claim_out_folder(self) -> None:
        """Take the folder's writer lock (a second writer is refused, naming the first); refuse a folder that
        holds another run (unless ``overwrite``); tidy what a killed run left."""
        out, cfg = self.out, self.cfg
        self._replaces: list[str] = []
        self._created_out = not os.path.isdir(out)
        os.makedirs(out, exist_ok=True)
        if self._lock is None:
            self._lock = acquire(os.path.join(out, LOCK), f"the run folder {out!r}")  # before anything is read there
        resumed_here = self.resumed is not None and os.path.realpath(self.resumed["directory"]) == \
            os.path.realpath(out)
        existing = run_files(out)
        if existing and not resumed_here:
            if not cfg.overwrite:
                raise ConfigError(f"--out {out!r} already holds a training run ({', '.join(existing[:4])}); "
                                  f"resume it with --resume {out}, pick another folder, or replace it with "
                                  f"--overwrite")
            self._replaces = existing  # removed when training starts, not before the set-up has succeeded
        removed = remove_stale_temporaries(out)
        if removed:
            self.log(f"removed {len(removed)} temporary file(s) an interrupted run left in {out}")

    def _restore(self) -> None:
        record = self.resumed
        directory = record["directory"]
        params = os.path.join(directory, record["params"])
        try:
            self.net.load_parameters(params, ctx=self.contexts)
        except (mx.base.MXNetError, AssertionError, ValueError) as exc:
            raise CheckpointError(f"cannot resume: {params} is truncated, tampered with or from another model "
                                  f"({short_reason(exc)})") from None
        copies = self._device_copies_of(os.path.join(directory, record["devices"])) if record["devices"] else {}
        # the exact weights before the trainer's first sync, which gives the kvstore device 0's values
        self._put_back({k: v for k, v in copies.items() if v[1] is None})
        if record["trainer_states"]:
            try:
                load_optimizer_states(self.trainer, record["trainer_states"], directory)
            except OptimizerStateError as exc:
                raise CheckpointError(f"cannot resume from {directory}: {exc}") from None
        else:
            self.log("note: a dist_* kvstore keeps optimizer states on the servers; they restart from zero")
        # each device's own statistics after that sync, which copies device 0's values to all
        self._put_back({k: v for k, v in copies.items() if v[1] is not None})
        try:
            restore_rng_states(record["rng"])
        except (CheckpointError, KeyError, TypeError, ValueError, IndexError) as exc:
            detail = str(exc).split(": ", 1)[-1] if isinstance(exc, CheckpointError) else type(exc).__name__
            raise CheckpointError(f"cannot resume from {directory}: its random-number states are malformed "
                                  f"({detail})") from None
        if record["batch"] > self.batches_per_epoch or \
                (record["batch"] and record["iteration"] != record["epoch"] * self.batches_per_epoch + record["batch"]):
            raise CheckpointError(f"cannot resume from {directory}: its checkpoint is at batch {record['batch']} of "
                                  f"epoch {record['epoch'] + 1} (iteration {record['iteration']}), which this run's "
                                  f"{self.batches_per_epoch} batches an epoch cannot reach: edited, or another data set")
        self.state = RunState(record["epoch"], record["iteration"], list(record["history"]), record["batch"],
                              record["partial"])
        inside = f", batch {record['batch']}/{self.batches_per_epoch} of epoch {record['epoch'] + 1}" \
            if record["batch"] else ""
        self.log(f"resumed from {directory} after epoch {record['epoch']}{inside} (iteration {record['iteration']})")

    def _device_copies_of(self, path: str) -> dict:
        """``{key: (array, device or None for every device, parameter)}`` from a checkpoint's devices file; empty
        when the run had other devices (then the .params file's means stand)."""
        try:
            saved = mx.nd.load(path)
        except mx.base.MXNetError as exc:
            raise CheckpointError(f"cannot resume: {path} is truncated or tampered with ({short_reason(exc)})") from None
        wanted = self._device_slots()
        if set(wanted) != set(saved):  # other devices than the run had: the averaged statistics stand
            self.log(f"note: the run had other devices than {', '.join(map(str, self.contexts))}; each starts "
                     f"from the statistics averaged over the run's devices")
            return {}
        for key, (param, _) in wanted.items():
            if saved[key].shape != param.shape:
                raise CheckpointError(f"cannot resume: {path} holds {key} of shape {saved[key].shape}, the model "
                                      f"{param.shape}")
        return {key: (saved[key], ctx, param) for key, (param, ctx) in wanted.items()}

    @staticmethod
    def _put_back(copies: dict) -> None:
        for array, ctx, param in copies.values():
            for target in (param.list_data() if ctx is None else [param.data(ctx)]):
                array.copyto(target)

    # -- training ----------------------------------------------------------------------
    def fit(self) -> list[dict]:
        """Train the remaining epochs; returns the history. The run folder stays locked until :meth:`close`, or
        until fit() ends by an error (a stopped run's folder is free for whoever resumes it)."""
        if self.out and self._lock is None:  # released by close() or by an earlier fit() that failed
            self._lock = acquire(os.path.join(self.out, LOCK), f"the run folder {self.out!r}")
        try:
            with self.signals:
                return self._fit()
        except BaseException:
            self.close()
            raise

    def _fit(self) -> list[dict]:
        cfg = self.cfg
        if self.out:
            os.makedirs(self.out, exist_ok=True)
            for name in self._replaces:
                os.remove(os.path.join(self.out, name))
            if self._replaces:
                self.log(f"--overwrite: removed the previous run's {len(self._replaces)} file(s) from {self.out}")
            self._replaces = []
            self._rewrite_metrics()
        self.log(f"training {cfg.model} on {len(self.train_set)} images ({len(self.test_set)} test) on "
                 f"{', '.join(map(str, self.contexts))}; train aug: {self.train_pipeline.to_string()}")
        for epoch in range(self.state.epoch, cfg.epochs):
            row = self.train_epoch(epoch)
            self.state.history.append(row)
            self.state.epoch, self.state.batch, self.state.partial = epoch + 1, 0, None
            # the chapter's line (time includes the evaluation, as the chapter's does), then throughput
            views = row.get("test_acc_tta")
            views = f" ({', '.join(f'{k} {v:.3f}' for k, v in views.items())})" if views else ""
            self.log(f"epoch {epoch + 1}, loss {row['loss']:.4f}, train acc {row['train_acc']:.3f}, test acc "
                     f"{row['test_acc']:.3f}{views}, time {row['epoch_time']:.1f} sec ({row['samples_per_sec']:.1f} "
                     f"examples/sec on {', '.join(map(str, self.contexts))}, data wait "
                     f"{100 * row['data_wait_share']:.0f}%)" + input_bound_hint(cfg, row["data_wait_share"]))
            if self.out:
                self._checkpoint()
                with open(os.path.join(self.out, METRICS), "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
            if self.signals.received is not None and epoch + 1 < cfg.epochs:
                self._stop()
        return self.state.history

    def train_epoch(self, epoch: int) -> dict:
        """Train epoch ``epoch`` (0-based) from its batch ``self.state.batch`` on (0, or where a checkpoint inside
        it was written); returns its row of metrics."""
        cfg = self.cfg
        first = self.state.batch if self.state.epoch == epoch else 0
        sums = dict(self.state.partial or {}) if first else {}
        loss_sum, correct = float(sums.get("loss_sum", 0.0)), float(sums.get("correct", 0.0))
        seen, wait, before = int(sums.get("seen", 0)), float(sums.get("wait", 0.0)), float(sums.get("elapsed", 0.0))
        self.sampler.set_epoch(epoch)
        self.train_set.set_epoch(epoch)
        self.test_set.set_epoch(epoch)  # a scheduled --test-aug evaluates as this epoch's pipeline
        self.timed_batches.start(epoch, first)
        every = checkpoint_interval(cfg.checkpoint_every) if cfg.checkpoint_every is not None and self.out else None
        start = tick = last_checkpoint = time.time()
        progress = self._progress(epoch, first)
        for i, (data, label) in enumerate(self.train_loader, start=first):
            wait += time.time() - tick
            # dropout and other random layers: a stream per iteration, so that resuming inside an epoch is exact
            mx.random.seed(derived_seed(cfg.seed, "mxnet", self.rank, epoch, i))
            self.trainer.set_learning_rate(learning_rate(cfg, self.state.iteration, self.batches_per_epoch))
            loss_sum, correct = self.train_step(data, label, epoch, i, loss_sum, correct)
            seen += data.shape[0]
            self.state.iteration += 1
            if progress is not None:
                progress.update(1)
            if cfg.log_interval and (i + 1) % cfg.log_interval == 0:
                self.log(f"  epoch {epoch + 1} batch {i + 1}/{self.batches_per_epoch}: loss {loss_sum / seen:.3f}, "
                         f"train acc {correct / seen:.3f}, lr {self.trainer.learning_rate:.5f}")
            stop = self.signals.received is not None
            due = every is not None and i + 1 < self.batches_per_epoch and (
                (every[0] == "iterations" and self.state.iteration % every[1] == 0)
                or (every[0] == "seconds" and time.time() - last_checkpoint >= every[1]))
            if stop or due:
                self.state.batch = i + 1
                self.state.partial = {"loss_sum": loss_sum, "correct": correct, "seen": seen, "wait": wait,
                                      "elapsed": before + time.time() - start}
                if self.out:
                    self._checkpoint()
                last_checkpoint = time.time()
                if stop:
                    if progress is not None:
                        progress.close()
                    self._stop()
            tick = time.time()
        elapsed = before + time.time() - start
        if progress is not None:
            progress.close()
        if not seen:
            raise ConfigError(f"epoch {epoch + 1} has no batches left to train on")
        test_acc = self.evaluate()
        row = {"epoch": epoch + 1, "loss": loss_sum / seen, "train_acc": correct / seen, "test_acc": test_acc,
               "time": elapsed, "epoch_time": time.time() - start, "samples_per_sec": seen / elapsed, "data_wait": wait,
               "data_wait_share": wait / elapsed, "lr": self.trainer.learning_rate, "samples": seen}
        if self.tta:
            row["test_acc_tta"] = dict(self.views_accuracy.with_views)
        return row

    def split(self, data, label) -> tuple[list, list]:
        """``split_and_load`` over the devices; a last batch smaller than the device count uses fewer devices."""
        contexts = self.contexts[: max(1, min(len(self.contexts), data.shape[0]))]
        return (gluon.utils.split_and_load(data, contexts, even_split=False),
                gluon.utils.split_and_load(label.astype("float32"), contexts, even_split=False))

    def augment_on_devices(self, datas: list, labels: list, epoch: int, batch: int) -> tuple[list, list]:
        """Batch augmentation on each device, per-sample parameters: the device parts and their targets
        (the labels, or soft targets when samples are mixed or labels smoothed)."""
        if self.batch_pipeline is None:
            return datas, labels
        out, targets = [], []
        for k, (x, y) in enumerate(zip(datas, labels)):
            rng = np.random.default_rng(derived_seed(self.cfg.seed, "batch-augment", self.rank, epoch, batch, k))
            pipeline = self.batch_pipeline.at(epoch, batch, self.batches_per_epoch)
            x, target = pipeline(x, y, classes=self.classes, smoothing=self.cfg.label_smoothing, rng=rng)
            out.append(x)
            targets.append(target)
        return out, targets

    def train_step(self, data, label, epoch: int, batch: int, loss_sum: float, correct: float):
        datas, labels = self.split(data, label)
        datas, targets = self.augment_on_devices(datas, labels, epoch, batch)
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
        """Accuracy on the test split; with ``--tta``, also through each set of views, on the same batches
        (``self.views_accuracy``)."""
        if self.tta:
            self.views_accuracy = accuracy_with_views(self.net, self.test_loader, self.split, self.tta,
                                                      pad_value=black_of(self.test_pipeline))
            return self.views_accuracy.accuracy
        correct, seen = 0.0, 0
        for data, label in self.test_loader:
            datas, labels = self.split(data, label)
            for x, y in zip(datas, labels):
                correct += float((self.net(x).argmax(axis=1) == y).sum().asscalar())
            seen += data.shape[0]
        return correct / max(seen, 1)

    # -- output ------------------------------------------------------------------------
    def _progress(self, epoch: int, first: int = 0):
        show = self.cfg.progress if self.cfg.progress is not None else sys.stderr.isatty()
        if not show:
            return None
        from tqdm import tqdm

        return tqdm(total=self.batches_per_epoch, initial=first, desc=f"epoch {epoch + 1}/{self.cfg.epochs}",
                    leave=False)

    def _stop(self) -> None:
        """After a stop signal: the checkpoint is written; say where it is and how to resume, and stop."""
        name, where = self.signals.name, self.state.epoch
        at = f"epoch {where}" if not self.state.batch else \
            f"batch {self.state.batch}/{self.batches_per_epoch} of epoch {where + 1}"
        if self.out:
            message = f"{name}: stopped after {at} (iteration {self.state.iteration}); checkpoint written. Resume " \
                      f"with: augplug train --resume {self.out}"
        else:
            message = f"{name}: stopped after {at} (iteration {self.state.iteration}); nothing saved (no --out)"
        self.log(message)
        self.worker_signals.set(WorkerSignals.FINISHED)  # the workers may end now
        raise TrainingStopped(message, self.signals.received or 0, self.out)

    def _checkpoint(self) -> None:
        state = {"epoch": self.state.epoch, "iteration": self.state.iteration, "history": self.state.history,
                 "batch": self.state.batch, "partial": self.state.partial if self.state.batch else None,
                 "config": self.cfg.to_dict(), "train_spec": self.train_pipeline.to_spec(),
                 "test_spec": self.test_pipeline.to_spec(), "rank": self.rank, "workers": self.workers}
        save_checkpoint(self.out, self.net, self.trainer if self.saves_trainer_states else None, state,
                        keep=self.cfg.keep_checkpoints, devices=self._device_copies())

    def _device_copies(self) -> dict | None:
        """What the .params file's means lose on several devices (see :meth:`_device_slots`), or None on one."""
        if len(self.contexts) < 2:
            return None
        return {key: param.data(ctx or self.contexts[0]) for key, (param, ctx) in self._device_slots().items()}

    def _device_slots(self) -> dict:
        """``{key: (parameter, device)}`` of a checkpoint's devices file: running statistics per device (each its
        own), every other parameter once as ``all/NAME`` (device None: equal on every device, and the .params
        file's mean of them may differ in the last bit)."""
        slots = {}
        for name, param in self._structural_params().items():
            if param.grad_req == "null":
                slots.update({f"{ctx}/{name}": (param, ctx) for ctx in self.contexts})
            else:
                slots[f"all/{name}"] = (param, None)
        return slots

    def _structural_params(self) -> dict:
        """The parameters by the names save_parameters gives them (free of the model's instance prefix)."""
        return self.net._collect_params_with_prefix()

    def _rewrite_metrics(self) -> None:
        """metrics.jsonl holds exactly the epochs of the checkpoint (a resumed run drops any later lines)."""
        atomic_write(os.path.join(self.out, METRICS),
                     write_text("".join(json.dumps(row) + "\n" for row in self.state.history)))


def _hold_while_reading(directory: str) -> WriterLock | None:
    """The writer lock of a run folder about to be resumed from (refused while a live run writes it); None for a
    folder that cannot hold one (missing: load_checkpoint says so; read-only: nobody writes it either)."""
    if not os.path.isdir(directory):
        return None
    try:
        return acquire(os.path.join(directory, LOCK), f"the run folder {directory!r}")
    except OSError:  # OutputBusyError, an AugplugError, goes through
        return None


def _resumed_config(cfg: TrainConfig, record: dict, given: Any) -> TrainConfig:
    """The saved settings of a run, with the run-time ones the caller gave; refuse changes to any other."""
    try:
        saved = TrainConfig.from_dict(record["config"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{record['directory']}: the saved settings are malformed ({exc})") from None
    defaults = TrainConfig()
    names = set(given) if given is not None else {
        name for name in TrainConfig.__dataclass_fields__ if getattr(cfg, name) != getattr(defaults, name)}
    names -= {"resume"}
    changed = sorted(name for name in names - set(RESUMABLE_OVERRIDES)
                     if getattr(cfg, name) != getattr(saved, name))
    if changed:
        detail = "; ".join(f"{n} {getattr(cfg, n)!r} (the run has {getattr(saved, n)!r})" for n in changed)
        raise ConfigError(f"cannot resume {record['directory']!r} with changed settings: {detail}. Only the "
                          f"run-time settings ({', '.join(RESUMABLE_OVERRIDES)}) may change on resume; start a "
                          f"new run in another --out folder to train differently")
    for name in names & set(RESUMABLE_OVERRIDES):
        setattr(saved, name, getattr(cfg, name))
    if "out" not in names or not cfg.out:  # continue in the folder resumed from, wherever it was moved
        saved.out = cfg.resume
    saved.resume = cfg.resume
    return saved


def train(cfg: TrainConfig, log: Callable[[str], None] = print, given: Any = None) -> list[dict]:
    """Train one configuration; returns the per-epoch history (also in ``cfg.out/metrics.jsonl``).

    ``given`` (with ``cfg.resume``): the settings set on purpose; see :class:`Run`.
    """
    return _fit_and_close(Run(cfg, log, given))


def resume(directory: str, log: Callable[[str], None] = print, **changes: Any) -> list[dict]:
    """Continue the run saved in ``directory``; ``changes`` may set run-time settings (``epochs=20``...).

    Unlike ``train(TrainConfig(resume=...))``, a change equal to a default (``epochs=10``) is applied too.
    """
    cfg = TrainConfig(resume=directory, **changes)
    return _fit_and_close(Run(cfg, log, given=changes))


def _fit_and_close(run: Run) -> list[dict]:
    try:
        return run.fit()
    finally:
        run.close()
