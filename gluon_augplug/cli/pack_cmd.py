"""``augplug pack SOURCE OUT``: RecordIO shards from an image tree, an im2rec list, a VOC folder or a COCO file."""
from __future__ import annotations

import argparse
import sys
from typing import Any


def cmd_pack(args: argparse.Namespace) -> int:
    from ..data.pack import pack
    from ..errors import printable

    classes = args.classes if args.classes in (None, "auto") else [c.strip() for c in args.classes.split(",")]
    paths = pack(args.source, args.out, root=args.root, split=args.split, classes=classes, resize=args.resize,
                 quality=args.quality,
                 encoding=args.encoding, shuffle=args.shuffle, seed=args.seed, shards=args.shards,
                 threads=args.threads, overwrite=args.overwrite, progress=args.progress)
    for path in paths:
        print(printable(path), file=sys.stdout)
    return 0


def add_command(sub: Any) -> None:
    p = sub.add_parser("pack", help="write RecordIO (.rec + .idx) from an image tree, an im2rec .lst, a VOC folder "
                                    "or a COCO .json, as im2rec does")
    p.add_argument("source", help="a <class>/<image> tree, an im2rec .lst, a VOC folder or a COCO instances .json")
    p.add_argument("out", help="output prefix: OUT.rec and OUT.idx (OUT-00000-of-0000N.* with --shards N)")
    p.add_argument("--root", help="the images' folder: of a .lst (default: its folder) or of a COCO file (required)")
    p.add_argument("--split", help="the VOC ImageSets/Main list to pack (default trainval, else train)")
    p.add_argument("--classes", help="a VOC folder's class names in id order, comma-separated, or 'auto' (every name "
                                     "in its annotations, sorted); default: VOC's 20 classes")
    p.add_argument("--resize", type=int, default=0, help="resize the short side to this many pixels (0 = keep)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality 1-100 of re-encoded images (default 95)")
    p.add_argument("--encoding", default=".jpg", choices=(".jpg", ".png"))
    p.add_argument("--shuffle", action="store_true", help="shuffle the records (with --seed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shards", type=int, default=1, help="write this many .rec/.idx pairs")
    p.add_argument("--threads", type=int, default=2, help="decode/resize/encode threads (default 2)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--progress", action="store_true", default=None, help="a progress bar even when stderr is not "
                                                                          "a terminal")
    p.set_defaults(func=cmd_pack)
