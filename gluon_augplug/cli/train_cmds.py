"""``augplug train``, ``augplug compare`` and ``augplug launch``."""
from __future__ import annotations

import argparse
from typing import Any

from .._optional import require_mxnet
from ..train.config import KVSTORES, TrainConfig


def _epochs_list(text: str) -> tuple:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated epochs such as 80,120, got {text!r}") from None


def add_train_arguments(p: argparse.ArgumentParser, augmentation: bool = True) -> None:
    d = TrainConfig()
    p.add_argument("--data", help="CIFAR-10 binary/python folder, a .tar.gz of one, or an image-folder tree with "
                                  "train/ and test/; with --val-data: the training split alone, a RecordIO .rec, an "
                                  "im2rec .lst or a <class>/<image> tree (ImageNet's train/), streamed from disk")
    p.add_argument("--val-data", help="the evaluation split (.rec, .lst or <class>/<image> tree), streamed")
    p.add_argument("--model", default=d.model, help="d2l_resnet18 or a GluonCV model-zoo name (default %(default)s)")
    if augmentation:
        p.add_argument("--train-aug", default=d.train_aug, help="spec, preset or YAML/JSON file (default %(default)s)")
    p.add_argument("--test-aug", default=d.test_aug, help="spec, preset or file (default %(default)s)")
    p.add_argument("--batch-aug", help="batch transforms run on each device after split_and_load, e.g. "
                                       "'RandomFlipLeftRight, RandomColorJitter(0.4, 0.4, 0.4), Mixup(0.2)'")
    p.add_argument("--optimizer", default=d.optimizer, choices=("adam", "sgd", "nag"))
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--momentum", type=float, default=d.momentum)
    p.add_argument("--wd", type=float, default=d.wd, help="weight decay")
    p.add_argument("--lr-mode", default=d.lr_mode, choices=("constant", "step", "cosine"))
    p.add_argument("--lr-decay", type=float, default=d.lr_decay)
    p.add_argument("--lr-decay-epochs", type=_epochs_list, default=d.lr_decay_epochs, help="e.g. 80,120")
    p.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs)
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    p.add_argument("--mixup", type=float, default=d.mixup, help="Mixup alpha: adds Mixup(ALPHA) to the batch "
                                                               "transforms (0 = off)")
    p.add_argument("--cutmix", type=float, default=d.cutmix, help="CutMix alpha: adds CutMix(ALPHA) (0 = off)")
    p.add_argument("--mixup-off-epoch", "--no-mixup-epochs", dest="mixup_off_epoch", type=int,
                   default=d.mixup_off_epoch, metavar="N",
                   help="train the last N epochs without Mixup (GluonCV's train_imagenet.py --mixup-off-epoch and "
                        "train_yolo3.py --no-mixup-epochs; the same as Mixup(ALPHA, active=until(EPOCHS - N)))")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--gpus", help="e.g. 0,1 (default: every GPU found, else the CPU)")
    p.add_argument("--ctx", help="explicit devices, e.g. cpu:0,cpu:1")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--train-limit", type=int, help="a stratified subset of this many training images")
    p.add_argument("--test-limit", type=int, help="a stratified subset of this many test images")
    p.add_argument("--num-workers", type=int, default=d.num_workers, help="DataLoader worker processes")
    p.add_argument("--threads", type=int, default=d.threads, help="decode and augment threads per process for "
                                                                  "streamed data (default %(default)s)")
    p.add_argument("--log-interval", type=int, default=d.log_interval, help="log every N batches (0 = off)")
    p.add_argument("--kvstore", default=d.kvstore, choices=KVSTORES)
    p.add_argument("--keep-checkpoints", type=int, default=d.keep_checkpoints)
    p.add_argument("--checkpoint-every", metavar="N|DURATION",
                   help="also checkpoint inside epochs: every N iterations (500) or every DURATION (30m, 2h, 90s); "
                        "a run resumed from one continues exactly as if never stopped")
    # --progress / --no-progress by hand: argparse.BooleanOptionalAction is Python 3.9+
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="tqdm progress bar (default: when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in the --out folder (without it such a folder is refused)")
    p.add_argument("--tta", action="append", default=None, metavar="VIEWS",
                   help="also report the test accuracy through these test-time views (repeatable): a view set such as "
                        "flip or 'ten-crop(32, pad=4)', or a spec of geometric transforms (`augplug views` lists them)")


def given_on_command_line(parser: argparse.ArgumentParser, argv: list[str], command: str) -> set[str]:
    """The settings of ``command`` that ``argv`` sets explicitly (its defaults do not count); ``parser`` is a fresh
    copy of the command line's parser (``args.make_parser()``: its defaults are changed here)."""
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = subparsers.choices[command]
    for action in sub._actions:
        if action.dest != "help":
            action.default = argparse.SUPPRESS
    namespace = parser.parse_args(argv)
    return set(vars(namespace)) - {"func", "command", "strict"}


def config_from_args(args: argparse.Namespace, **overrides: Any) -> TrainConfig:
    values = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    values.update(overrides)
    values["data"] = values.get("data") or ""
    values["tta"] = tuple(values.get("tta") or ())
    return TrainConfig(**values)


def cmd_train(args: argparse.Namespace) -> int:
    require_mxnet("augplug train")
    from ..train.loop import train

    from ..train.stopping import TrainingStopped

    given = given_on_command_line(args.make_parser(), args.argv, "train") if args.resume else None
    try:
        history = train(config_from_args(args, out=args.out, resume=args.resume), given=given)
    except TrainingStopped as stopped:  # the loop said where it stopped and how to resume
        return 128 + stopped.signum
    return 0 if history else 1


def cmd_compare(args: argparse.Namespace) -> int:
    require_mxnet("augplug compare")
    from ..train.report import compare, parse_augs

    from ..train.stopping import TrainingStopped

    try:
        compare(config_from_args(args, out=None, overwrite=False), parse_augs(args.aug), args.out,
                overwrite=args.overwrite)
    except TrainingStopped as stopped:
        return 128 + stopped.signum
    return 0


def cmd_launch(args: argparse.Namespace) -> int:
    require_mxnet("augplug launch")
    from ..train.launch import launch

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return launch(command, workers=args.num_workers, servers=args.num_servers, port=args.port,
                  timeout=args.timeout)


def add_commands(sub: Any) -> None:
    p = sub.add_parser("train", help="train a model with augmentations picked by name")
    add_train_arguments(p)
    p.add_argument("--out", help="run folder: metrics.jsonl and checkpoints")
    p.add_argument("--resume", help="continue the run in this folder (its saved settings are used; only run-time "
                                    "options such as --epochs, --ctx, --num-workers may change)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("compare", help="D2L's experiment: one run per augmentation, then report.md and curves.png")
    add_train_arguments(p, augmentation=False)
    p.add_argument("--aug", action="append", default=[], required=True, metavar="NAME=SPEC",
                   help="a configuration, e.g. --aug flip='d2l-flip' --aug none=ToTensor")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("launch", help="run a dist_* kvstore job on this machine: scheduler, servers, workers")
    p.add_argument("-n", "--num-workers", type=int, required=True)
    p.add_argument("-s", "--num-servers", type=int, default=1)
    p.add_argument("--port", type=int, help="scheduler port (default: a free one)")
    p.add_argument("--timeout", type=float, help="stop the job after this many seconds")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- the worker command, e.g. augplug train ...")
    p.set_defaults(func=cmd_launch)
