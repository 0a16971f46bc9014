"""``augplug views`` (the test-time view sets, or one spec's views for an input size) and ``augplug evaluate``
(a saved classifier's accuracy with and without views)."""
from __future__ import annotations

import argparse
import json
from typing import Any

from .._optional import require_mxnet


def _hw(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 224x224, got {text!r}") from None
    if not (1 <= h <= 65536 and 1 <= w <= 65536):
        raise argparse.ArgumentTypeError(f"sizes must be 1-65536 pixels, got {text!r}")
    return h, w


def cmd_views(args: argparse.Namespace) -> int:
    from ..tta import VIEW_SET_DOCS, get_views, view_names

    if args.spec:
        views = get_views(args.spec)
        leaves = views.leaves(args.size)
        if args.json:
            print(json.dumps({"views": args.spec, "size": list(args.size), "passes": [
                {"name": leaf.name, "matrix": matrix.round(6).tolist(), "out_hw": list(out_hw)}
                for leaf, matrix, out_hw in leaves]}, indent=2), file=args.stdout)
            return 0
        print(views.describe(args.size))
        print(f"{len(leaves)} forward passes for a {args.size[0]}x{args.size[1]} input")
        return 0
    if args.json:
        print(json.dumps({name: VIEW_SET_DOCS[name] for name in view_names()}, indent=2), file=args.stdout)
        return 0
    width = max(len(n) for n in view_names())
    for name in view_names():
        print(f"{name:<{width}}  {VIEW_SET_DOCS[name]}")
    print("\nA spec of geometric transforms is one view too ('Resize(40), CenterCrop(32)'); a random one needs a seed: "
          "random(spec='...', n=8, seed=0).")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    require_mxnet("augplug evaluate")
    from ..train.evaluate import evaluate_saved, table

    result = evaluate_saved(args.params, data=args.data, val_data=args.val_data, model=args.model,
                            classes=args.classes, test_aug=args.test_aug, test_limit=args.test_limit,
                            batch_size=args.batch_size, ctx=args.ctx, specs=args.tta or ["flip"], seed=args.seed,
                            log=(lambda line: None) if args.json else print)
    if args.json:
        print(json.dumps({"images": result.images, "accuracy": result.accuracy, "with_views": result.with_views,
                          "passes": result.passes, "seconds": result.seconds}, indent=2), file=args.stdout)
    else:
        print(table(result))
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("views", help="the test-time view sets by name, or the views of one spec for an input size")
    p.add_argument("spec", nargs="?", help="a view set or spec: print its tree of views and forward passes")
    p.add_argument("--size", type=_hw, default=(224, 224), help="with SPEC: the input's HEIGHTxWIDTH (default 224x224)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_views)

    p = sub.add_parser("evaluate", help="a saved classifier's test accuracy with and without test-time views")
    p.add_argument("--params", required=True, help="a .params file, or a run folder of `augplug train` (its "
                                                   "checkpoint.json supplies the model, test augmentation and data)")
    p.add_argument("--data", help="CIFAR-10 folder or archive, or an image tree with test/ (default: the run's)")
    p.add_argument("--val-data", help="the evaluation split alone: .rec, .lst or a <class>/<image> tree")
    p.add_argument("--model", help="the network's name (default: the run's)")
    p.add_argument("--classes", type=int, help="the class count (default: read from the weights)")
    p.add_argument("--test-aug", help="spec, preset or file (default: the run's, else d2l-none)")
    p.add_argument("--test-limit", type=int, help="a stratified subset of this many test images (default: the run's)")
    p.add_argument("--batch-size", type=int, help="default: the run's, else 128")
    p.add_argument("--ctx", help="devices, e.g. cpu:0,cpu:1 or gpu:0 (default cpu:0)")
    p.add_argument("--seed", type=int, help="the seed of --test-limit's subset and the test augmentation (default: the "
                                            "run's, else 0)")
    p.add_argument("--tta", action="append", metavar="VIEWS",
                   help="test-time views (repeatable; default flip): a view set such as flip, 'ten-crop(32, pad=4)', "
                        "'multi-scale(...)', or a spec of geometric transforms")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)
