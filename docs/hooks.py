"""MkDocs hook: the reference pages' generated parts, made from today's code when the site is built.

``<!-- generated: NAME -->`` in a page is replaced by:

* ``transforms-table``: the built-in transforms' table (``augplug transforms --markdown --plugin builtin``);
* ``transforms-pages``: each built-in transform in full (``augplug transforms NAME``);
* ``cli``: every command's ``--help``;
* ``checks``: the harness's checks, from their one registry.

The figures (docs/images/) are drawn in :func:`on_pre_build`, with the seed the tutorial's snippet uses.
"""
from __future__ import annotations

import argparse
import os
import re

_MARKER = re.compile(r"<!-- generated: ([a-z-]+) -->")


def _builtins():
    from gluon_augplug.plugins.manager import PluginSystem

    return PluginSystem(load_entry_points=False).registry.transforms("builtin", kind=None)


def _transforms_table() -> str:
    from gluon_augplug.cli.main import transforms_markdown

    return transforms_markdown(_builtins())


def _transforms_pages() -> str:
    from gluon_augplug.cli.main import transform_page

    return "\n\n".join(f"### {info.name}\n\n```text\n{transform_page(info)}\n```" for info in _builtins())


def _cli() -> str:
    from gluon_augplug.cli.main import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps its help to the terminal's width
    parser = build_parser()
    parts = [f"### augplug\n\n```text\n{parser.format_help()}```"]
    for action in parser._actions:  # the subcommands' parsers, in the order they are listed
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                parts.append(f"### augplug {name}\n\n```text\n{sub.format_help()}```")
    return "\n\n".join(parts)


def on_pre_build(config) -> None:
    """The figures, drawn by today's code before the pages are read (docs/images/ is not committed)."""
    from pathlib import Path

    from gluon_augplug import build_pipeline
    from gluon_augplug.io.images import read_image
    from gluon_augplug.visual.grid import augmentation_grid, save_image

    images = Path(config["docs_dir"]) / "images"
    images.mkdir(exist_ok=True)
    cat = read_image(str(Path(config["docs_dir"]).parent.parent / "shared" / "data" / "cat1.jpg"))
    chapter = ("RandomFlipLeftRight, RandomColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.5), "
               "RandomResizedCrop(200, scale=(0.1, 1), ratio=(0.5, 2))")
    save_image(str(images / "cat-grid.png"), augmentation_grid(cat, build_pipeline(chapter, seed=0), rows=2, cols=4))


def _checks() -> str:
    from gluon_augplug.testing.checks import REGISTRY

    rows = ["| check | path | what it holds the transform to |", "|---|---|---|"]
    for name, check in REGISTRY.items():
        rows.append(f"| `{name}` | {'per sample' if check.per_sample else 'all'} | {check.doc.replace('|', '/')} |")
    return "\n".join(rows)


_GENERATORS = {"transforms-table": _transforms_table, "transforms-pages": _transforms_pages, "cli": _cli,
               "checks": _checks}


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in _GENERATORS:
            raise ValueError(f"{page.file.src_path}: unknown generated part {name!r}; known: {sorted(_GENERATORS)}")
        return _GENERATORS[name]()

    return _MARKER.sub(replace, markdown)
