"""``augplug profile SPEC --data PATH``: each step's cost per image on real images, and what the cores can feed."""
from __future__ import annotations

import argparse
import json


def cmd_profile(args: argparse.Namespace) -> int:
    from ..pipeline.build import build_pipeline
    from ..train.profile import load_images, profile

    pipeline = build_pipeline(args.spec, strict=args.strict)  # a bad spec is refused before any image is read
    if args.epoch:
        pipeline = pipeline.at(args.epoch)
    images, source = load_images(args.data, args.images)
    result = profile(pipeline, images, seed=args.seed, repeat=args.repeat, cores=args.cores, source=source)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2), file=args.stdout)
    else:
        print(result.table(args.target), file=args.stdout)
    return 0


def _positive(kind: type, high: float):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"expected a number in (0, {high:g}], got {text[:40]!r}")
        return value

    return parse


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="each step's cost per image on real images (decoding included), its share, "
                                       "and the images/s one core and all cores reach")
    p.add_argument("spec", help="spec string, preset name, or YAML/JSON file")
    p.add_argument("--data", required=True, help="an image, a .rec, an im2rec .lst, a <class>/<image> tree (encoded, "
                                                 "decoded as training decodes them) or a CIFAR-10 folder or archive")
    p.add_argument("--images", type=_positive(int, 100_000), default=200, help="images to time (default 200)")
    p.add_argument("--repeat", type=_positive(int, 100), default=2, help="timed passes over them (default 2)")
    p.add_argument("--cores", type=_positive(int, 1024), help="processes for the all-cores figure (default: all)")
    p.add_argument("--epoch", type=int, default=0, help="profile the pipeline as it runs at this epoch (schedules)")
    p.add_argument("--target", type=_positive(float, 1e9), metavar="IMAGES_PER_S",
                   help="also say how many such cores feed this rate (an H100 trains CIFAR ResNet-18 at 17k-59k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_profile)
