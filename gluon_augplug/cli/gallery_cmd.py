"""``augplug gallery -o DIR``: the HTML catalog of every installed transform and preset."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..errors import AugplugError

DEFAULT_WIDTH = 224


def _resized(image: np.ndarray, boxes: np.ndarray | None, width: int) -> tuple[np.ndarray, np.ndarray | None]:
    import cv2

    scale = width / image.shape[1]
    if abs(scale - 1) < 1e-9:
        return image, boxes
    size = (width, max(1, round(image.shape[0] * scale)))
    out = cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)
    if boxes is not None:
        boxes = boxes.astype(np.float64, copy=True)
        boxes[:, :4] *= (size[0] / image.shape[1], size[1] / image.shape[0]) * 2
    return out, boxes


def _voc_scene(folder: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """The first image of a Pascal VOC folder with its boxes."""
    from ..io.images import read_image
    from ..visual.targets import read_boxes

    root = Path(folder)
    annotations = sorted((root / "Annotations").glob("*.xml")) if (root / "Annotations").is_dir() else []
    if not annotations:
        raise AugplugError(f"--voc {folder}: no Annotations/*.xml in this folder (a Pascal VOC folder has "
                           f"Annotations/ and JPEGImages/)")
    xml = annotations[0]
    images = sorted((root / "JPEGImages").glob(xml.stem + ".*"))
    if not images:
        raise AugplugError(f"--voc {folder}: {xml.name} has no image JPEGImages/{xml.stem}.jpg")
    boxes, names = read_boxes(str(xml))
    return read_image(str(images[0])), boxes, names


def cmd_gallery(args: argparse.Namespace) -> int:
    from ..io.images import read_image
    from ..plugins.manager import get_plugin_system
    from ..testing.samples import cat_image
    from ..visual.gallery import Scene, build_gallery, panned_clip

    if not 32 <= args.width <= 2048:
        raise AugplugError(f"--width must be in [32, 2048], got {args.width}")
    system = get_plugin_system(args.strict)
    known = set(system.records) | {i.plugin for i in system.registry.transforms(kind=None)}
    unknown = [p for p in args.plugin or () if p not in known]
    if unknown:
        from ..errors import closest_names

        hint = closest_names(unknown[0], known)
        raise AugplugError(f"--plugin {unknown[0]!r}: no such plugin is installed"
                           + (f"; closest: {', '.join(hint)}" if hint else f"; installed: {', '.join(sorted(known))}"))
    image, _ = _resized(read_image(args.image) if args.image else cat_image(), None, args.width)
    scene = Scene(image, clip=panned_clip(image))
    if args.voc:
        voc_image, boxes, names = _voc_scene(args.voc)
        scene.voc_image, scene.voc_boxes = _resized(voc_image, boxes, args.width)
        scene.voc_names = names
    progress = (lambda name: print(f"drawing {name}", file=sys.stderr)) if args.verbose else None
    result = build_gallery(args.output, scene, system.registry, system.records, seed=args.seed,
                           plugins=args.plugin, progress=progress)
    for entry in result["errors"]:
        print(f"{entry.plugin}:{entry.name} could not be drawn: {entry.error}", file=sys.stderr)
    print(f"wrote {result['path']}: {result['entries']} transforms and presets, {len(result['errors'])} could not be "
          f"drawn ({result['seconds']:.0f} s)")
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gallery", help="a static HTML catalog of every installed transform and preset, with "
                                       "augmented copies of the cat photo")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for index.html and its images")
    p.add_argument("--image", help="the photo to augment (default: the chapter's cat)")
    p.add_argument("--voc", metavar="DIR", help="a Pascal VOC folder: its first image and boxes show how the "
                                                "transforms that move targets move boxes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plugin", action="append", help="only this plugin's section (repeatable)")
    p.add_argument("--width", type=int, default=DEFAULT_WIDTH, help="width the photos are scaled to (default 224)")
    p.add_argument("--verbose", "-v", action="store_true", help="name each transform as it is drawn")
    p.set_defaults(func=cmd_gallery)
