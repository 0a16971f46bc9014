"""Shared fixtures: the real data in ../shared/data and isolated plugin systems."""
from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# `make test-core`: the core's tests in an environment without MXNet (and GluonCV), on the newest numpy
CORE_ONLY = os.environ.get("GLUON_AUGPLUG_CORE_TESTS") == "1"
MXNET_PACKAGES = ("mxnet", "gluoncv")
SHARED_DATA = Path(os.environ.get("GLUON_AUGPLUG_SHARED_DATA", ROOT.parent / "shared" / "data"))
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def pytest_report_header(config):
    import numpy

    from gluon_augplug._optional import mxnet_installed

    kind = "the core without MXNet (make test-core)" if CORE_ONLY else "the pinned environment (make test)"
    mxnet = "MXNet installed" if mxnet_installed() else "no MXNet"
    return f"gluon-augplug tests: {kind}; Python {sys.version.split()[0]}, numpy {numpy.__version__}, {mxnet}"


def pytest_configure(config):
    config.addinivalue_line("markers", "pinned: needs what only the pinned environment has: MXNet, GluonCV, the "
                                       "adapters' libraries, the docs tools (skipped by make test-core)")


def pytest_collection_modifyitems(config, items):
    if not CORE_ONLY:
        return
    skip = pytest.mark.skip(reason="needs the pinned environment (MXNet, GluonCV, ...): make test runs it")
    for item in items:
        if item.get_closest_marker("pinned"):
            item.add_marker(skip)


def pytest_pycollect_makemodule(module_path, parent):
    if CORE_ONLY:
        return _CoreModule.from_parent(parent, path=module_path)
    return None


class _CoreModule(pytest.Module):
    """In the core environment, a test module that imports MXNet or GluonCV is skipped with that reason (any
    other import error stays an error). That a core module of the package imports without MXNet is checked
    on its own, module by module (tests/test_core_without_mxnet.py)."""

    def _getobj(self):
        try:
            return super()._getobj()
        except self.CollectError:
            missing = _missing_module(sys.exc_info()[1])
            if missing not in MXNET_PACKAGES:
                raise
            where = os.path.relpath(self.path, ROOT)
            pytest.skip(f"{where} imports {missing}: make test runs it", allow_module_level=True)


def _missing_module(exc: BaseException | None) -> str | None:
    while exc is not None:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return exc.name.split(".")[0]
        exc = exc.__cause__ or exc.__context__
    return None


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.fail(f"real test data {path} is missing: the tests expect ../shared/data beside the project "
                    f"(or GLUON_AUGPLUG_SHARED_DATA pointing at it)")
    return path


@pytest.fixture(scope="session")
def cat_path() -> Path:
    return shared_file("cat1.jpg")


@pytest.fixture(scope="session")
def cat(cat_path) -> np.ndarray:
    """The chapter's 500x400 cat photo as an RGB uint8 HWC array."""
    from gluon_augplug.io.images import read_image

    img = read_image(str(cat_path))
    img.setflags(write=False)  # a transform that writes into its input fails loudly
    return img


def load_cifar_jpg(split: str, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``per_class`` images of each class of the real CIFAR-10 (JPEG archive)."""
    from PIL import Image

    wanted = {c: per_class for c in CIFAR_CLASSES}
    images, labels = [], []
    with tarfile.open(shared_file("cifar10-jpg.tar.gz"), "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) < 4 or parts[-3] != split or wanted.get(parts[-2], 0) == 0:
                continue
            wanted[parts[-2]] -= 1
            data = tar.extractfile(member).read()
            images.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
            labels.append(CIFAR_CLASSES.index(parts[-2]))
            if not any(wanted.values()):
                break
    return np.stack(images), np.asarray(labels, np.int32)


@pytest.fixture(scope="session")
def cifar_test_images() -> tuple[np.ndarray, np.ndarray]:
    """1,000 real CIFAR-10 test images (100 per class), uint8 NHWC, read-only."""
    images, labels = load_cifar_jpg("test", 100)
    images.setflags(write=False)
    return images, labels


@pytest.fixture
def plugin_system(monkeypatch):
    """A fresh plugin system with the built-ins only, installed as the process-wide one."""
    from gluon_augplug.plugins import manager

    for var in (manager.ENV_LOAD, manager.ENV_DISABLE, manager.ENV_STRICT):
        monkeypatch.delenv(var, raising=False)
    system = manager.PluginSystem(load_entry_points=False)
    previous = manager.use_plugin_system(system)
    yield system
    manager.use_plugin_system(previous)


def make_distribution(root: Path, dist: str, version: str, plugins: dict[str, str], modules: dict[str, str]) -> Path:
    """Write an installed distribution (a dist-info folder plus modules) under ``root``.

    ``plugins`` maps entry-point names to ``module`` or ``module:attr``; ``modules`` maps
    module names to source code. Put ``root`` on ``sys.path`` to install it.
    """
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[gluon_augplug]"] + [f"{name} = {target}" for name, target in plugins.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)
    return root


# -- real photographs for the streaming readers: the cat and scikit-image's photos, cut and sized as
# ImageNet's typical 500x375 JPEGs (quality 90), written as an image tree <class>/<image>

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def real_photos() -> list[np.ndarray]:
    import skimage.data

    photos = [getattr(skimage.data, name)()[..., :3] for name in PHOTOS]
    photos.append(cv2.imread(str(shared_file("cat1.jpg")))[:, :, ::-1])
    return [np.ascontiguousarray(p) for p in photos]


def write_photo_tree(root: Path, count: int, classes: int = 3, seed: int = 0, size: tuple[int, int] = (500, 375)) -> Path:
    """``count`` random crops of the real photos, resized to ``size`` (w, h), as root/class_k/NNN.jpg."""
    rng = np.random.default_rng(seed)
    photos = real_photos()
    for k in range(count):
        photo = photos[k % len(photos)]
        h, w = photo.shape[:2]
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = cv2.resize(photo[y:y + ch, x:x + cw], size, interpolation=cv2.INTER_AREA)
        folder = root / f"class_{k % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{k:03d}.jpg"), crop[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return root


@pytest.fixture(scope="session")
def photo_tree(tmp_path_factory) -> Path:
    """13 real photographs in 3 class folders (5, 4 and 4 images)."""
    return write_photo_tree(tmp_path_factory.mktemp("photos") / "tree", 13)


@pytest.fixture(scope="session")
def photo_rec(photo_tree, tmp_path_factory) -> Path:
    """``photo_tree`` packed by ``augplug pack`` (in tree order) into photos.rec + photos.idx."""
    from gluon_augplug.data.pack import pack

    out = tmp_path_factory.mktemp("rec") / "photos"
    pack(str(photo_tree), str(out))
    return Path(str(out) + ".rec")
