"""The training configuration: every argument of ``augplug train``, saved in each checkpoint."""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import AugplugError

# run-time settings a resumed run may change; everything else comes from the checkpoint
RESUMABLE_OVERRIDES = ("epochs", "out", "num_workers", "log_interval", "gpus", "ctx", "progress",
                       "keep_checkpoints", "overwrite", "threads", "tta", "checkpoint_every")
KVSTORES = ("local", "device", "dist_sync", "dist_device_sync", "dist_async")


class ConfigError(AugplugError, ValueError):
    """Training settings that cannot work: each message names the setting and its allowed values."""


@dataclass
class TrainConfig:
    """Settings of one training run (the chapter's defaults: Adam, lr 0.001, batch 256)."""

    data: str = ""
    val_data: str | None = None  # with it, `data` and `val_data` are one split each, streamed (.rec, .lst, tree)
    model: str = "d2l_resnet18"
    train_aug: Any = "d2l-flip"
    test_aug: Any = "d2l-none"
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float = 0.9
    wd: float = 0.0
    lr_mode: str = "constant"  # constant | step | cosine
    lr_decay: float = 0.1
    lr_decay_epochs: tuple = ()
    warmup_epochs: float = 0.0
    batch_aug: Any = None  # batch transforms, run on each device after split_and_load
    label_smoothing: float = 0.0
    mixup: float = 0.0  # Beta(alpha, alpha) mixing, 0 = off
    cutmix: float = 0.0
    batch_size: int = 256
    epochs: int = 10
    gpus: str | None = None  # "0,1"; None = all GPUs found, else the CPU
    ctx: str | None = None  # "cpu:0,cpu:1" (wins over gpus)
    seed: int = 0
    out: str | None = None
    resume: str | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    num_workers: int = 0
    threads: int = 2  # decode/augment threads per process for streamed data (ImageRecordIter's preprocess_threads)
    log_interval: int = 0
    kvstore: str = "device"
    keep_checkpoints: int = 2
    progress: bool | None = None  # None = a progress bar when stderr is a terminal
    classes: int = field(default=10)
    overwrite: bool = False  # replace a run already in `out` (otherwise such a folder is refused)
    tta: tuple = ()  # test-time views (view sets or specs) whose accuracy each epoch's test step adds
    checkpoint_every: Any = None  # also checkpoint inside epochs: every N iterations ("500") or a duration ("30m")
    mixup_off_epoch: int = 0  # the last N epochs train without Mixup (GluonCV's --mixup-off-epoch, --no-mixup-epochs)

    def validate(self) -> "TrainConfig":
        problems = []
        # types first: the values may come from a checkpoint.json someone edited
        for name in ("data", "model", "optimizer", "lr_mode", "kvstore"):
            if not isinstance(getattr(self, name), str):
                problems.append(f"{name}={str(getattr(self, name))[:40]!r} (must be a string)")
        for name in ("val_data", "gpus", "ctx", "out", "resume"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                problems.append(f"{name}={str(getattr(self, name))[:40]!r} (must be a string or null)")
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                problems.append(f"{name}={str(value)[:40]!r} (must be an integer or null)")
        for name in ("progress", "overwrite"):
            if getattr(self, name) not in (None, True, False):
                problems.append(f"{name}={str(getattr(self, name))[:40]!r} (must be true, false or null)")
        if not isinstance(self.tta, (list, tuple)) or not all(isinstance(v, str) for v in self.tta):
            problems.append(f"tta={str(self.tta)[:40]!r} (must be a list of view sets or specs)")
        if not isinstance(self.lr_decay_epochs, (list, tuple)):
            problems.append(f"lr_decay_epochs={str(self.lr_decay_epochs)[:40]!r} (must be a list of epochs)")
        if self.checkpoint_every is not None:
            try:
                checkpoint_interval(self.checkpoint_every)
            except ValueError as exc:
                problems.append(f"checkpoint_every={str(self.checkpoint_every)[:40]!r} ({exc})")
        if isinstance(self.mixup_off_epoch, bool) or not isinstance(self.mixup_off_epoch, int) \
                or not 0 <= self.mixup_off_epoch <= 10**6:
            problems.append(f"mixup_off_epoch={str(self.mixup_off_epoch)[:40]!r} (must be an integer in [0, 1000000])")
        if isinstance(self.classes, bool) or not isinstance(self.classes, int) or not 1 <= self.classes <= 10**6:
            problems.append(f"classes={str(self.classes)[:40]!r} (must be an integer in [1, 1000000])")
        if problems:
            raise ConfigError("bad training settings: " + "; ".join(problems))
        if self.optimizer not in ("adam", "sgd", "nag"):
            problems.append(f"optimizer={self.optimizer!r} (allowed: adam, sgd, nag)")
        if self.lr_mode not in ("constant", "step", "cosine"):
            problems.append(f"lr_mode={self.lr_mode!r} (allowed: constant, step, cosine)")
        if self.kvstore not in KVSTORES:
            problems.append(f"kvstore={self.kvstore!r} (allowed: {', '.join(KVSTORES)})")
        for name in ("lr", "momentum", "wd", "lr_decay", "warmup_epochs", "label_smoothing", "mixup", "cutmix"):
            value = getattr(self, name)
            if not _finite(value):
                problems.append(f"{name}={str(value)[:40]} (must be a finite number)")
        if problems:
            raise ConfigError("bad training settings: " + "; ".join(problems))
        for name in ("batch_size", "epochs", "num_workers", "threads", "log_interval", "keep_checkpoints", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name}={value!r} (must be an integer)")
        if problems:
            raise ConfigError("bad training settings: " + "; ".join(problems))
        if not all(_finite(e) and e >= 0 for e in self.lr_decay_epochs):
            problems.append(f"lr_decay_epochs={str(self.lr_decay_epochs)[:60]} (must be epochs >= 0)")
        for name, high in (("batch_size", 65536), ("num_workers", 256), ("threads", 256), ("epochs", 10**6),
                           ("keep_checkpoints", 10**6), ("log_interval", 10**9), ("seed", 2**63 - 1)):
            if getattr(self, name) > high:
                problems.append(f"{name}={str(getattr(self, name))[:40]} (at most {high})")
        if not 0 <= self.lr_decay <= 1:
            problems.append(f"lr_decay={self.lr_decay!r} (allowed: [0, 1], the factor at each decay epoch)")
        for name in ("lr", "batch_size", "epochs"):
            if not getattr(self, name) or getattr(self, name) <= 0:
                problems.append(f"{name}={getattr(self, name)!r} (must be > 0)")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum={self.momentum!r} (allowed: [0, 1))")
        if self.keep_checkpoints < 1:
            problems.append(f"keep_checkpoints={self.keep_checkpoints!r} (must be >= 1)")
        if self.seed < 0:
            problems.append(f"seed={self.seed!r} (must be >= 0)")
        for name in ("wd", "warmup_epochs", "mixup", "cutmix", "num_workers", "threads", "log_interval"):
            if getattr(self, name) < 0:
                problems.append(f"{name}={getattr(self, name)!r} (must be >= 0)")
        if not 0 <= self.label_smoothing < 1:
            problems.append(f"label_smoothing={self.label_smoothing!r} (allowed: [0, 1))")
        for name in ("train_limit", "test_limit"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                problems.append(f"{name}={getattr(self, name)!r} (must be a positive number of images)")
        if self.mixup_off_epoch and not self.mixup:
            problems.append(f"mixup_off_epoch={self.mixup_off_epoch} turns Mixup off for the last epochs, but there is "
                            f"no Mixup (give --mixup ALPHA; for a Mixup in --batch-aug write Mixup(0.2, active=until(E)))")
        if not self.data and not self.resume:
            problems.append("data is required (a CIFAR-10 folder or archive, or an image-folder tree)")
        if self.data and streamed(self.data) and not self.val_data:
            problems.append(f"data={self.data!r} is one split: give the evaluation split too (--val-data val.rec, "
                            f"a .lst or an image tree)")
        if problems:
            raise ConfigError("bad training settings: " + "; ".join(problems))
        return self

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["lr_decay_epochs"] = list(self.lr_decay_epochs)
        d["tta"] = list(self.tta)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["lr_decay_epochs"] = tuple(values.get("lr_decay_epochs", ()))
        tta = values.get("tta", ())
        values["tta"] = tuple(tta) if isinstance(tta, list) else tta
        return cls(**values)


def _finite(value: Any) -> bool:
    """A real number (not a bool) of a size a float holds, finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and abs(value) < 1e300
    except OverflowError:  # an integer of hundreds of digits
        return False


_DURATION = re.compile(r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)(?:m|min))?(?:(?P<s>\d+(?:\.\d+)?)(?:s|sec))?$")


def checkpoint_interval(value: Any) -> tuple[str, float]:
    """``--checkpoint-every``'s value as ``("iterations", N)`` (``500``) or ``("seconds", S)`` (``"30m"``,
    ``"1h30m"``, ``"90s"``).

    Raises
    ------
    ValueError
        Saying what is allowed.
    """
    allowed = "a number of iterations (500) or a duration such as 90s, 30m, 2h or 1h30m"
    if isinstance(value, bool):
        raise ValueError(f"allowed: {allowed}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        n = int(value)
        if not 1 <= n <= MAX_INTERVAL:
            raise ValueError(f"iterations must be in [1, {MAX_INTERVAL}]")
        return "iterations", n
    text = value.strip().lower().replace(" ", "") if isinstance(value, str) else ""
    match = _DURATION.match(text) if len(text) <= 40 else None
    if not text or not match or not any(match.groupdict().values()):
        raise ValueError(f"allowed: {allowed}")
    seconds = sum(float(v) * {"h": 3600, "m": 60, "s": 1}[k] for k, v in match.groupdict().items() if v)
    if not 1 <= seconds <= 30 * 86400:
        raise ValueError("a duration from 1 s to 30 days")
    return "seconds", seconds


MAX_INTERVAL = 10**9


def streamed(path: str) -> bool:
    """Whether ``path`` is one split read from disk on access (a RecordIO file or an im2rec list)."""
    return str(path).endswith((".rec", ".lst"))


def learning_rate(cfg: TrainConfig, iteration: int, iterations_per_epoch: int) -> float:
    """The learning rate at ``iteration``: linear warm-up, then constant, step or cosine (GluonCV's recipe)."""
    epoch = iteration / max(iterations_per_epoch, 1)
    if cfg.warmup_epochs and epoch < cfg.warmup_epochs:
        return cfg.lr * (iteration + 1) / (cfg.warmup_epochs * iterations_per_epoch)
    if cfg.lr_mode == "step":
        return cfg.lr * cfg.lr_decay ** sum(epoch >= e for e in cfg.lr_decay_epochs)
    if cfg.lr_mode == "cosine":
        import math

        span = max(cfg.epochs - cfg.warmup_epochs, 1e-9)
        progress = min(max(epoch - cfg.warmup_epochs, 0.0) / span, 1.0)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))
    return cfg.lr
