"""``augplug``: list plugins, transforms and presets, check specs, and show augmentation grids.

Exit codes: 0 success, 1 a plugin failed to load in strict mode or failed ``augplug check``, 2 bad input (an unknown
transform, a bad parameter, a malformed spec, an unreadable file, a full disk), each as one line on stderr.
Anything else is a bug in gluon_augplug or a plugin and ends with its traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from typing import Iterator, Sequence

from .._version import __version__
from ..errors import AugplugError, PluginError, SpecSyntaxError, UnknownTransformError, printable


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def cmd_plugins(args: argparse.Namespace) -> int:
    from ..plugins.manager import get_plugin_system

    system = get_plugin_system(args.strict)
    records = system.errors() if args.errors else system.plugins(include_builtin=args.all)
    if args.json:
        print(json.dumps([{**r.as_dict(), "overrides": system.overrides(r.name)} for r in records], indent=2),
              file=args.stdout)
        return 0
    if args.errors:
        if not records:
            print("no plugin failed to load")
        for r in records:
            print(f"{r.name}: {r.error}")
        return 0
    if not records:
        print("no third-party augmentation plugins installed (`augplug plugins --all` lists the built-in one)")
    else:
        rows = [[r.name, r.distribution or "-", r.version or "-", r.status, ",".join(h.replace("augplug_", "")
                 for h in r.hooks) or "-", str(r.transforms), str(r.batch_transforms), str(r.presets)]
                for r in records]
        print(_table(rows, ["name", "distribution", "version", "status", "hooks", "transforms", "batch", "presets"]))
    for r in system.plugins(include_builtin=True):
        taken = system.overrides(r.name)
        if taken:
            print(f"note: plugin {r.name!r} overrides {', '.join(taken)}: bare names mean its transforms "
                  f"(built-in presets keep the built-ins)")
    failed = system.errors()
    if failed and not args.errors:
        print(f"{len(failed)} plugin(s) failed to load: {', '.join(r.name for r in failed)} "
              f"(`augplug plugins --errors` shows why)", file=sys.stderr)
    return 0


def cmd_transforms(args: argparse.Namespace) -> int:
    from ..plugins.manager import get_plugin_system

    system = get_plugin_system(args.strict)
    registry = system.registry
    if args.plugin and args.plugin not in system.records:
        from ..errors import closest_names

        hint = closest_names(args.plugin, system.records)
        raise AugplugError(f"no loaded plugin named {args.plugin!r}"
                           + (f"; closest: {', '.join(hint)}" if hint else ""))
    if args.names:
        for i, name in enumerate(args.names):
            info = _lookup_transform(registry, name, args.kind)
            print(("\n" if i else "") + transform_page(info), file=args.stdout)
        return 0
    infos = registry.transforms(args.plugin, kind=None if args.kind == "all" else args.kind)
    if args.json:
        out = []
        for info in infos:
            d = info.as_dict()
            d["resolves"] = registry.resolves_to(info)
            out.append(d)
        print(json.dumps(out, indent=2), file=args.stdout)
        return 0
    if args.markdown:
        print(transforms_markdown(infos), file=args.stdout)
        return 0
    rows = []
    for info in infos:
        name = info.name
        if registry.conflicts(info):
            winner = [c.plugin for c in registry.candidates(info.name, None) if registry.resolves_to(c)]
            name = info.name + (" (override)" if registry.resolves_to(info) else
                                f" (overridden by {winner[0]}; use {info.qualified_name})" if winner else
                                f" (use {info.qualified_name})")
        params = ", ".join(p.describe(ranges=args.ranges) for p in info.params)
        rows.append([name, info.kind, info.plugin, params, info.doc])
    print(_table(rows, ["name", "kind", "plugin", "parameters", "description"]))
    return 0


def _lookup_transform(registry, name: str, kind: str):
    """``name`` for a ``kind`` pipeline; with "all", a per-sample transform or else a batch-only one."""
    if kind != "all":
        return registry.get_transform(name, kind)
    try:
        return registry.get_transform(name, "sample")
    except UnknownTransformError:
        if registry.candidates(name.rpartition(":")[2], "batch"):
            return registry.get_transform(name, "batch")
        raise


def transform_page(info) -> str:
    """One transform in full: where it comes from, its whole doc, each parameter with range and doc."""
    import inspect

    runs = {"sample": "samples", "batch": "batches only", "sample+batch": "samples and batches"}[info.kind]
    source = info.plugin + (f", {info.distribution} {info.version}" if info.distribution else "")
    lines = [f"{info.qualified_name}  ({source}; runs on {runs})"]
    if info.example:
        lines.append("example: " + info.name + "(" + ", ".join(f"{k}={v!r}" for k, v in info.example.items()) + ")")
    doc = inspect.getdoc(info.factory) or info.doc
    lines += ["", doc or "(no documentation)", ""]
    if info.params:
        lines.append("parameters:")
        for p in info.params:
            declared = p.declaration
            allowed = f"  [{declared.describe_allowed()}]" if declared is not None else ""
            text = f"  {p.describe()}{allowed}"
            lines.append(text + (f"\n      {declared.doc}" if declared is not None and declared.doc else ""))
    return "\n".join(lines).rstrip()


def transforms_markdown(infos: list) -> str:
    """The README's table of transforms: names, where they run, declared parameters with their ranges."""
    lines = ["| transform | runs on | parameters (default: allowed values) | what it does |", "|---|---|---|---|"]
    for info in infos:
        runs = {"sample": "samples", "batch": "batches", "sample+batch": "samples, batches"}[info.kind]
        params = "<br>".join(
            f"`{p.name}`" + ("" if p.required else f"=`{p.default!r}`")
            + (f": {p.declaration.describe_allowed()}" if p.declaration is not None else "")
            for p in info.params)
        lines.append(f"| `{info.name}` | {runs} | {params} | {info.doc.replace('|', '/')} |")
    return "\n".join(lines)


def cmd_presets(args: argparse.Namespace) -> int:
    from ..plugins.manager import get_registry

    presets = get_registry(args.strict).presets()
    if args.json:
        print(json.dumps([p.as_dict() for p in presets], indent=2), file=args.stdout)
        return 0
    print(_table([[p.name, p.plugin, p.doc] for p in presets], ["name", "plugin", "description"]))
    return 0


def at_epochs(text: str) -> list[int]:
    """``--at-epochs 0,30,89``: epochs done (0 = the start of the run)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items or len(items) > 100 or not all(item.isdigit() and int(item) <= 10**6 for item in items):
        raise argparse.ArgumentTypeError(f"expected up to 100 comma-separated epochs in [0, 1000000] such as "
                                         f"0,30,89 (epochs done: 0 is the start), got {text[:60]!r}")
    return [int(item) for item in items]


def cmd_spec(args: argparse.Namespace) -> int:
    from ..pipeline.build import build_pipeline

    pipeline = build_pipeline(args.spec, seed=args.seed, strict=args.strict)
    if args.at_epochs:
        return _spec_at_epochs(pipeline, args)
    if args.format == "string":
        print(pipeline.to_string(), file=args.stdout)
    elif args.format == "json":
        print(json.dumps(pipeline.to_spec(), indent=2), file=args.stdout)
    else:
        import yaml

        print(yaml.safe_dump(pipeline.to_spec(), sort_keys=False).rstrip(), file=args.stdout)
    return 0


def _spec_at_epochs(pipeline, args: argparse.Namespace) -> int:
    """The pipeline each epoch runs: its schedules resolved, its switched-off steps left out."""
    resolved = [(epoch, pipeline.at(epoch)) for epoch in args.at_epochs]
    if args.format == "json":
        print(json.dumps([{"epoch": e, **p.to_spec()} for e, p in resolved], indent=2), file=args.stdout)
    elif args.format == "yaml":
        import yaml

        print(yaml.safe_dump([{"epoch": e, **p.to_spec()} for e, p in resolved], sort_keys=False).rstrip(),
              file=args.stdout)
    else:
        if not pipeline.scheduled:
            print("(no schedules: the same pipeline at every epoch)", file=args.stdout)
        for epoch, p in resolved:
            print(f"epoch {epoch}: {p.to_string() or '(every step off)'}", file=args.stdout)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..io.images import read_image
    from ..pipeline.build import build_pipeline
    from ..visual.grid import MAX_GRID_SIDE, augmentation_grid, check_output_path, save_image

    for name in ("rows", "cols"):
        if not 1 <= getattr(args, name) <= MAX_GRID_SIDE:
            raise AugplugError(f"--{name} must be in [1, {MAX_GRID_SIDE}], got {getattr(args, name)}")
    check_output_path(args.output)
    if args.clip:
        return _show_clip(args)
    boxes = names = mask = None
    targets = {"kinds": [], "options": {"box_format": args.box_format}}
    if args.boxes:
        from ..visual.targets import read_boxes

        boxes, names = read_boxes(args.boxes, args.box_format)
        targets["kinds"].append("boxes")
    image = read_image(args.image)
    if args.mask:
        from ..visual.targets import read_mask

        mask = read_mask(args.mask, image.shape[:2])
        targets["kinds"].append("masks")
    pipeline = build_pipeline(args.pipeline, seed=args.seed, strict=args.strict,
                              targets=targets if targets["kinds"] else None)
    shown = pipeline
    if boxes is not None or mask is not None:  # the targets are drawn on the image before ToTensor/Normalize
        steps = list(pipeline.to_spec()["transforms"])  # its schedules and switched-off steps kept (--at-epochs)
        while steps and steps[-1].get("name") in ("ToTensor", "Normalize"):
            steps.pop()
        shown = build_pipeline(steps or ["ToTensor"], seed=args.seed, targets=targets)
    if args.at_epochs:  # a row per epoch: what the run draws then
        grid = _rows_at_epochs(image, shown, args, boxes, mask, names)
    else:
        grid = augmentation_grid(image, shown, args.rows, args.cols, boxes, mask, names)
    save_image(args.output, grid)
    drawn = " with its " + " and ".join(k for k in ("boxes", "mask") if (boxes if k == "boxes" else mask) is not None) \
        if boxes is not None or mask is not None else ""
    shape = f"{len(args.at_epochs)}x{args.cols} grid (a row per epoch: {', '.join(map(str, args.at_epochs))})" \
        if args.at_epochs else f"{args.rows}x{args.cols} grid"
    print(f"wrote {printable(args.output)}: {shape} of {pipeline.to_string()}{drawn} "
          f"({grid.shape[1]}x{grid.shape[0]} px)")
    return 0


def _rows_at_epochs(image, pipeline, args: argparse.Namespace, boxes, mask, names):
    import numpy as np

    from ..visual.grid import augmentation_grid

    rows = [augmentation_grid(image, pipeline.at(epoch), 1, args.cols, boxes, mask, names) for epoch in args.at_epochs]
    width = max(r.shape[1] for r in rows)
    gap = np.full((4, width, 3), 255, np.uint8)
    padded = []
    for row in rows:  # progressive resizing: later rows are wider
        out = np.full((row.shape[0], width, 3), 255, np.uint8)
        out[:, :row.shape[1]] = row
        padded += [out, gap]
    return np.concatenate(padded[:-1])


def _show_clip(args: argparse.Namespace) -> int:
    from ..pipeline.build import build_pipeline
    from ..visual.grid import clip_strips, read_clip, save_image

    if args.boxes or args.mask:
        raise AugplugError("--boxes and --mask are for images: with --clip, show the frames alone")
    clip = read_clip(args.image, args.frames)
    pipeline = build_pipeline(args.pipeline, seed=args.seed, strict=args.strict)
    grid = clip_strips(clip, pipeline, args.rows)
    save_image(args.output, grid)
    print(f"wrote {printable(args.output)}: {args.rows} copies of a {len(clip)}-frame clip, a row each, of "
          f"{pipeline.to_string()} ({grid.shape[1]}x{grid.shape[0]} px)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ..testing.conformance import CHECKS, check_named

    checks = [c.strip() for c in args.checks.split(",")] if args.checks else list(CHECKS)
    unknown = sorted(set(checks) - set(CHECKS))
    if unknown:
        raise AugplugError(f"unknown check(s) {', '.join(unknown)}; the checks are: {', '.join(CHECKS)}")
    report = check_named(args.plugin, checks=checks, raise_on_failure=False)
    if args.json:
        print(json.dumps({"plugin": report.plugin, "ok": report.ok,
                          "findings": [f.__dict__ for f in report.findings]}, indent=2), file=args.stdout)
    else:
        findings = report.findings if args.verbose else [f for f in report.findings if f.status != "skip"]
        print("\n".join([str(report).splitlines()[0], *(f"  {f}" for f in findings), str(report).splitlines()[-1]]))
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="augplug", description="Image augmentation plugins for MXNet Gluon.")
    parser.add_argument("--version", action="version", version=f"gluon-augplug {__version__}")
    parser.add_argument("--strict", action="store_true", default=None,
                        help="fail if any plugin fails to load (also GLUON_AUGPLUG_STRICT_PLUGINS=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plugins", help="installed augmentation plugins, with versions")
    p.add_argument("--all", action="store_true", help="include the built-in plugin")
    p.add_argument("--errors", action="store_true", help="show the plugins that failed to load, and why")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("transforms", help="every transform by name, its plugin and parameters")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="show these transforms in full (Name or plugin:Name): doc, parameters, ranges")
    p.add_argument("--plugin", help="only this plugin's transforms")
    p.add_argument("--kind", choices=("sample", "batch", "all"), default="all",
                   help="transforms that run per sample, on batches, or all (default)")
    p.add_argument("--ranges", action="store_true", help="show each declared parameter's allowed values")
    p.add_argument("--markdown", action="store_true", help="a Markdown table (the README's), with allowed values")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_transforms)

    p = sub.add_parser("presets", help="named pipelines")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("spec", help="build a spec and print it in normal form (checks it)")
    p.add_argument("spec", help="spec string, preset name, or YAML/JSON file")
    p.add_argument("--seed", type=int)
    p.add_argument("--format", choices=("yaml", "json", "string"), default=None,
                   help="default yaml; string with --at-epochs")
    p.add_argument("--at-epochs", type=at_epochs, metavar="E,E,...",
                   help="print the pipeline each of these epochs runs (epochs done: 0 is the start), its schedules "
                        "resolved and its switched-off steps left out")
    p.set_defaults(func=cmd_spec)

    p = sub.add_parser("check", help="run the conformance checks on a plugin's transforms (exit 1 on failure)")
    p.add_argument("plugin", metavar="NAME", help="an installed plugin's entry-point name, 'builtin', or one "
                                                  "transform: Name or plugin:Name")
    p.add_argument("--checks", help="comma list of checks (default: all)")
    p.add_argument("--verbose", "-v", action="store_true", help="also list the skipped checks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    from .gallery_cmd import add_command as add_gallery
    from .pack_cmd import add_command as add_pack
    from .profile_cmd import add_command as add_profile
    from .train_cmds import add_commands
    from .views_cmd import add_commands as add_views

    add_commands(sub)
    add_views(sub)
    add_gallery(sub)
    add_pack(sub)
    add_profile(sub)

    p = sub.add_parser("show", help="a grid of augmented copies of one image, or strips of a clip's frames (PNG, JPEG, "
                                    "BMP or WebP by -o's suffix)")
    p.add_argument("image", help="an image; with --clip a video file or a folder of frame images")
    p.add_argument("--pipeline", "-p", required=True, help="spec string, preset name, or YAML/JSON file")
    p.add_argument("--rows", type=int, default=2)
    p.add_argument("--cols", type=int, default=4)
    p.add_argument("--seed", type=int)
    p.add_argument("--boxes", help="boxes to draw, moved with each copy: a Pascal VOC XML file, a JSON list of "
                                   "[x0, y0, x1, y1(, class)], or literal '35,88,470,318;35,158,110,250'")
    p.add_argument("--box-format", default="xyxy", help="format of --boxes: xyxy (default), coco, yolo, xyxy_norm")
    p.add_argument("--mask", help="a label mask image (palette PNG or gray) of the image's size, tinted on each copy")
    p.add_argument("--clip", action="store_true",
                   help="IMAGE is a video (decord or PyAV) or a frame folder: --rows copies of the clip, each a row of "
                        "its frames with the copy's one draw")
    p.add_argument("--frames", type=int, default=6, help="with --clip: how many evenly spaced frames (default 6)")
    p.add_argument("--at-epochs", type=at_epochs, metavar="E,E,...",
                   help="a row per epoch, drawn as the run draws then (schedules resolved; replaces --rows)")
    p.add_argument("-o", "--output", default="augmented.png")
    p.set_defaults(func=cmd_show)
    return parser


@contextlib.contextmanager
def reserved_stdout() -> Iterator:
    """While a command that prints machine-readable output runs, everything else written to stdout (a
    plugin's print, a C library's write to file descriptor 1) goes to stderr; the command writes its own
    output to the stream this yields, which is the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    python_stdout, sys.stdout = sys.stdout, sys.stderr
    out = os.fdopen(os.dup(saved), "w", encoding="utf-8")
    try:
        yield out
    finally:
        out.flush()
        out.close()
        sys.stdout = python_stdout
        os.dup2(saved, 1)
        os.close(saved)


def _machine_readable(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False)) or args.command == "spec"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # type: ignore[no-untyped-def]
    """A warning as one line, as errors are (Python's own adds the file, the line number and the source)."""
    print(f"augplug: warning: {printable(str(message))}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    args.make_parser = build_parser  # for the commands that read the command line again (train --resume)
    previous, warnings.showwarning = warnings.showwarning, _show_warning
    try:
        if _machine_readable(args):
            with reserved_stdout() as args.stdout:
                return args.func(args)
        args.stdout = sys.stdout
        return args.func(args)
    except PluginError as exc:
        print(f"augplug: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except AugplugError as exc:
        print(f"augplug: error: {printable(str(exc), lines=isinstance(exc, SpecSyntaxError))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (`augplug transforms | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 0
    except OSError as exc:  # the environment: a missing file, no permission, a full disk
        where = f": {exc.filename!r}" if getattr(exc, "filename", None) else ""
        print(f"augplug: error: {printable(str(exc.strerror or exc))}{printable(where)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("augplug: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
