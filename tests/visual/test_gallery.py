"""``augplug gallery``: the page as a person sees it, in Debian's headless Chromium, and what it holds."""
from __future__ import annotations

import html
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gluon_augplug import build_pipeline
from gluon_augplug.batch import build_batch_pipeline
from gluon_augplug.plugins.manager import PluginSystem, get_registry
from gluon_augplug.testing.samples import cat_image
from gluon_augplug.visual.gallery import Scene, build_gallery

from ..browser import chromium
from ..conftest import SHARED_DATA

AUGPLUG = Path(sys.executable).parent / "augplug"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=10000"]


def browse(page: Path, query: str, tmp_path: Path, screenshot: Path | None = None) -> str:
    """The page's DOM after Chromium loaded it and ran its script with ``?q=query``."""
    url = page.resolve().as_uri() + f"?q={query}"
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1400"]
    if screenshot is not None:
        proc = subprocess.run([chromium(), *flags, f"--screenshot={screenshot}", url], capture_output=True,
                              text=True, timeout=120)
        assert screenshot.is_file(), proc.stderr
    proc = subprocess.run([chromium(), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    out = tmp_path_factory.mktemp("gallery")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    proc = subprocess.run([str(AUGPLUG), "gallery", "-o", str(out), "--voc", str(SHARED_DATA / "voc-cat"),
                           "--plugin", "builtin", "--plugin", "imgaug"], capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "0 could not be drawn" in proc.stdout, proc.stdout + proc.stderr
    return out / "index.html"


def cards(dom: str) -> dict[str, str]:
    """``{card id: its opening tag}`` of every card in the DOM."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<article id="([^"]+)"[^>]*>', dom)}


@pytest.mark.pinned
def test_every_transform_and_preset_of_the_chosen_plugins_has_a_card_with_its_pictures(gallery):
    text = gallery.read_text()
    registry = get_registry()
    expected = {f"{i.plugin}-{i.name}" for i in registry.transforms(kind=None) if i.plugin in ("builtin", "imgaug")}
    expected |= {f"{p.plugin}-{p.name}" for p in registry.presets() if p.plugin in ("builtin", "imgaug")}
    assert set(cards(text)) == expected
    assert '<section id="plugin-builtin">' in text and '<section id="plugin-imgaug">' in text
    assert "gluon-augplug-imgaug 0.1.0" in text and "plugin-albumentations" not in text
    for src in re.findall(r'<img src="([^"]+)"', text):
        assert (gallery.parent / src).read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
    # geometric transforms show the VOC cat's boxes too; colour ones do not
    assert 'src="images/imgaug/IaaAffine-boxes.jpg"' in text and "IaaMultiply-boxes" not in text
    assert "IaaJigsaw-boxes" not in text and "imgaug&#x27;s Jigsaw cannot move boxes" in text


@pytest.mark.pinned
def test_every_copyable_spec_builds_the_pipeline_it_names(gallery):
    specs = [html.unescape(s) for s in re.findall(r'data-copy="([^"]+)"', gallery.read_text())]
    assert len(specs) > 150 and "IaaFliplr(p=0.5)" in specs
    batch_only = {i.name for i in get_registry().transforms(kind=None) if not i.usable_in("sample")}
    for spec in specs:
        if spec.split("(")[0] in batch_only:  # Mixup, CutMix: batch specs
            build_batch_pipeline(spec)
        else:
            build_pipeline(spec)


@pytest.mark.pinned
def test_chromium_finds_a_plugins_transform_by_searching_and_loads_its_images(gallery, tmp_path):
    shot = tmp_path / "search.png"
    dom = browse(gallery, "IaaSnowflakes", tmp_path, screenshot=shot)
    shown = {k for k, tag in cards(dom).items() if "hidden" not in tag}
    assert shown == {"imgaug-IaaSnowflakes"}
    assert re.search(r'<body[^>]*data-shown="1"', dom)
    loaded, total = map(int, re.search(r'data-images="(\d+)/(\d+)"', dom).groups())
    assert loaded == total and total > 100  # every picture of the page, not only the shown card's
    assert 'id="count">1 of ' in dom
    import cv2

    pixels = cv2.imread(str(shot))
    assert pixels.shape[:2] == (1400, 1400) and pixels.std() > 20  # a drawn page, not a blank one


@pytest.mark.pinned
def test_several_words_narrow_the_search_across_plugins(gallery, tmp_path):
    dom = browse(gallery, "flip%20p", tmp_path)
    shown = {k for k, tag in cards(dom).items() if "hidden" not in tag}
    assert {"builtin-RandomFlipLeftRight", "imgaug-IaaFliplr", "imgaug-IaaFlipud"} <= shown
    assert "builtin-RandomHue" not in shown


def test_a_transform_that_cannot_be_drawn_is_shown_with_its_error(tmp_path):
    plugin = importlib.import_module("tests.testing.sample_plugins.needs_params")
    system = PluginSystem(load_entry_points=False)
    system.add_plugin(plugin, "needs_params")
    result = build_gallery(str(tmp_path), Scene(np.ascontiguousarray(cat_image()[::2, ::2])), system.registry,
                           system.records, plugins=["needs_params"])
    assert [e.name for e in result["errors"]] == ["Pad"]
    assert "could not be drawn" in (tmp_path / "index.html").read_text()


@pytest.mark.pinned
def test_bad_options_name_the_problem(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLUON_AUGPLUG_")}
    proc = subprocess.run([str(AUGPLUG), "gallery", "-o", str(tmp_path), "--plugin", "imgaugg"], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 2 and "--plugin 'imgaugg': no such plugin is installed; closest: imgaug" in proc.stderr
    proc = subprocess.run([str(AUGPLUG), "gallery", "-o", str(tmp_path), "--voc", str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 2 and "no Annotations/*.xml" in proc.stderr
