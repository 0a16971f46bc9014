"""The documentation site: it builds with warnings as errors, its links resolve, its generated reference
is today's, every Python snippet of it (and of the README) runs as written, and a person finds things in it
(headless Chromium: navigation, search, code blocks, the figure)."""
from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.browser import Browser
from tests.conftest import SHARED_DATA, write_photo_tree

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))
MKDOCS = Path(sys.executable).parent / "mkdocs"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([str(MKDOCS), "build", "--strict", "--site-dir", str(out)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.pinned
def test_the_reference_is_generated_from_todays_code(site):
    from gluon_augplug.cli.main import build_parser
    from gluon_augplug.plugins.manager import PluginSystem

    transforms = (site / "reference" / "transforms.html").read_text()
    for info in PluginSystem(load_entry_points=False).registry.transforms("builtin", kind=None):
        assert f"<code>{info.name}</code>" in transforms and f'id="{info.name.lower()}"' in transforms, info.name
    cli = (site / "reference" / "cli.html").read_text()
    commands = [a for a in build_parser()._actions if a.dest == "command"][0].choices
    for name in commands:
        assert f"augplug {name}" in cli and f"usage: augplug {name}" in cli, name
    api = (site / "reference" / "api.html").read_text()
    assert "output_hw" in api and "TargetMode" in api and "augplug_register_transforms" in (
        site / "reference" / "hooks.html").read_text()


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text())
    return parser


@pytest.mark.pinned
def test_every_link_of_the_site_resolves(site):
    parsed = {p: _parse(p) for p in site.rglob("*.html")}
    broken = []
    for page, links in parsed.items():
        for link in links.links:
            url = urlparse(link)
            if url.scheme or link.startswith(("mailto:", "//")):
                continue  # the network is not reachable here: outside links are not followed
            if not url.path:
                target = page
            elif url.path.startswith("/"):  # the 404 page links from the site's root
                target = site / unquote(url.path).lstrip("/")
            else:
                target = (page.parent / unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link}")
            elif url.fragment and target.suffix == ".html" and url.fragment not in parsed[target].ids:
                broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    assert not broken, "\n".join(broken)


def _snippets(path: Path) -> list[str]:
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", path.read_text(), re.S | re.M)
    return [re.sub(rf"^{indent}", "", code, flags=re.M) for indent, code in blocks]


SNIPPET_PAGES = [p for p in [*PAGES, ROOT / "README.md"] if _snippets(p)]
# what some snippets print (the others must simply run)
PRINTED = {
    "tutorials/augment-cifar.md": ["(32, 32, 3) -> (3, 32, 32) float32",
                                   "UnknownTransformError | unknown transform 'RandomFlipLeftRigth'",
                                   "ParameterError | RandomCrop: parameter pad=-1", "True", "(412, 820, 3)"],
    "how-to/recordio.md": ["(4, 3, 224, 224) (4,)", "6 ['class_0', 'class_1']"],
    "explanation/coordinates.md": ["[-1.  0. 20.]", "[-1.  0. 19.]", "True\nTrue"],
    "how-to/batches.md": ["(128, 3, 32, 32) float32"],
    "how-to/detection.md": ["[0.] (1, 224, 224)", "(3, 600, 750) (2, 600, 750) uint8",
                            "(1, 3, 300, 300) (1, 2268) (1, 2268, 4)", "(3, 416, 416) 7"],
    "how-to/segmentation.md": ["(3, 480, 480) float32 (480, 480) uint8\n[0, 8]",
                               "RandomFlipLeftRight, RandomResizeSide((52, 208)), PadIfNeeded(96, position='top_left', "
                               "mask_fill=255), RandomCrop(96, upscale=False)"],
    "how-to/keypoints.md": ["(3, 512, 512) float32 (2, 5)", "(20, 128, 128) (2, 128, 128)", "(3, 256, 192) (5, 3, 2) 0",
                            "(5, 64, 48) (5, 1, 1)", "(3, 256, 192) True True"],
    "how-to/video.md": ["(8, 3, 224, 224)\nTrue", "(3, 3, 224, 224) 0", "(3, 8, 224, 224)",
                        "(4, 3, 8, 112, 112) (32, 3, 112, 112)"],
    "how-to/without-mxnet.md": ["ndarray (4, 3, 64, 64) float32 (4,)\nTrue"],
    "how-to/tta.md": ["(8, 10) 10 (8, 10)", "(1, 5, 50, 70) True", "(2, 17, 32, 24)", "True\n2 4",
                      "(32, 32) [1.25, 0.0, -4.0]", "ViewError | view 'RandomCrop(size=32, pad=4)': RandomCrop draws",
                      "ViewError | view 'RandomBrightness(brightness=0.3)': RandomBrightne",
                      "ViewError | unknown view set or transform 'ten-crp'; closest view sets: "],
    "how-to/long-runs.md": ["5 RandomResizedCrop(size=160, scale=[0.35, 1]), RandomFlipLeftRight, RandomColorJitter("
                            "brightness=0.2), RandomErasing, ToTensor",
                            "RandomResizedCrop(size=160, scale=[0.35, 1]), RandomFlipLeftRight, RandomColorJitter("
                            "brightness=0.1), ToTensor",
                            "RandomResizedCrop(size=steps(160, (30, 192))), RandomErasing(active=after(5)), ToTensor\n"
                            "RandomResizedCrop(size=192), RandomErasing, ToTensor",
                            "(3, 160, 160) (3, 192, 192)\n(3, 192, 192)", "Mixup(alpha=0.2) | (no step) | True",
                            "step                         ms/image   share",
                            "['decode (JPEG), input checks', 'RandomResizedCrop', 'RandomFlipLeftRight', 'ToTensor']"],
    "tutorials/write-a-plugin.md": ["(192, 192, 3) (1, 4) (4, 192, 192, 3) (8, 3, 192, 192) (8, 1, 4)\nTrue"],
    "README.md": ["(3, 32, 32)", "(3, 300, 300) (2, 6)", "(8, 3, 224, 224)", "(8, 10)"],
}


def _page_key(page: Path) -> str:
    return str(page.relative_to(DOCS)) if DOCS in page.parents else page.name


# pages whose snippets train, build NDArrays or compare with GluonCV: make test-core (no MXNet) skips them
PINNED_PAGES = {"README.md", "explanation/randomness.md", "how-to/batches.md", "how-to/detection.md",
                "how-to/keypoints.md", "how-to/recordio.md", "tutorials/augment-cifar.md", "how-to/tta.md"}


@pytest.mark.parametrize("page", [pytest.param(p, marks=[pytest.mark.pinned] if _page_key(p) in PINNED_PAGES else [])
                                  for p in SNIPPET_PAGES], ids=_page_key)
def test_every_snippet_runs_as_written(page, tmp_path, monkeypatch):
    """A page's snippets run one after the other in one namespace, in a folder that holds the shared data as
    data/ and a small photo tree as photos/ (what the snippets name)."""
    (tmp_path / "data").symlink_to(SHARED_DATA)
    write_photo_tree(tmp_path / "photos", 6, classes=2)
    monkeypatch.chdir(tmp_path)
    import types

    # a module of its own, as a user's file would be (its classes pickle, for DataLoader workers)
    module = types.ModuleType("docs_snippets")
    monkeypatch.setitem(sys.modules, "docs_snippets", module)
    namespace = module.__dict__
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i, code in enumerate(_snippets(page)):
            exec(compile(code, f"{page.name} snippet {i + 1}", "exec"), namespace)
    printed = out.getvalue()
    for expected in PRINTED.get(_page_key(page), []):
        assert expected in printed, (expected, printed)
    if page.name == "README.md":  # its plugin passes the harness, as its text says
        from gluon_augplug.testing import check_plugin

        check_plugin(module)


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.pinned
def test_a_person_navigates_searches_and_reads_code_in_chromium(served, tmp_path):
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(f"{served}/index.html")
        sections = browser.evaluate("Array.from(document.querySelectorAll('.md-nav__item--section > label, "
                                    ".md-nav__item--section > .md-nav__link')).map(e => e.textContent.trim())")
        assert {"Tutorials", "How-to guides", "Reference", "Explanations"} <= set(sections), sections
        # search: the web worker indexes the site; typing a word gives pages that hold it
        browser.open(f"{served}/index.html?q=output_hw")
        found = browser.wait_for("Array.from(document.querySelectorAll('.md-search-result__item h1, "
                                 ".md-search-result__item h2')).map(e => e.textContent)")
        assert found and "Python API" in found and any("output_hw" in t for t in found), found
        browser.screenshot(tmp_path / "search.png")
        # a tutorial: highlighted code with a copy button, and the figure drawn by today's code
        browser.open(f"{served}/tutorials/augment-cifar.html")
        assert browser.wait_for("document.querySelectorAll('.highlight code span.kn').length") > 3
        assert browser.wait_for("document.querySelectorAll('pre button.md-code__button, button.md-clipboard').length >= 5")
        size = browser.wait_for("(() => { const i = document.querySelector('img[src$=\"cat-grid.png\"]'); "
                                "return i && i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight] : null })()")
        assert size == [820, 412], size
        browser.screenshot(tmp_path / "tutorial.png")
        if os.environ.get("AUGPLUG_SCREENSHOTS"):  # to look at them: AUGPLUG_SCREENSHOTS=DIR
            for name in ("search.png", "tutorial.png"):
                (Path(os.environ["AUGPLUG_SCREENSHOTS"]) / name).write_bytes((tmp_path / name).read_bytes())
    finally:
        browser.close()


def test_the_deprecation_page_lists_every_deprecated_name():
    from gluon_augplug._deprecation import DEPRECATIONS

    page = (DOCS / "explanation" / "deprecations.md").read_text()
    for row in DEPRECATIONS.values():
        assert f"| `{row.old}` | {row.new} | {row.since} |" in page, row.old


def test_the_plugin_page_lists_every_optional_hook():
    from gluon_augplug.contract import OPTIONAL_HOOKS

    page = (DOCS / "tutorials" / "write-a-plugin.md").read_text()
    assert all(f"| `{name}" in page for name in OPTIONAL_HOOKS), [n for n in OPTIONAL_HOOKS if f"| `{n}" not in page]
