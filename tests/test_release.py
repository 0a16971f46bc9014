"""What a person installing the package meets: the Pythons and extras its metadata declares, pip's refusal of
the MXNet extras on Python 3.12+, the interpreter search of `make demo` / `make test`, and the CHANGELOG."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from gluon_augplug import __version__

ROOT = Path(__file__).resolve().parents[1]
FIND_PYTHON = ROOT / "tools" / "find-python"


def _version_of(python: str) -> tuple[int, int]:
    out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), int(out[1])


@pytest.fixture(scope="module")
def newer_python() -> str:
    """A Python 3.12 or newer (MXNet's extras refuse it), found as `make test-core` finds one."""
    proc = subprocess.run(["sh", str(FIND_PYTHON), "core"], capture_output=True, text=True)
    python = proc.stdout.strip()
    if proc.returncode != 0 or _version_of(python) < (3, 12):
        message = f"no Python 3.12+ on this machine (found {python or 'none'})"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI's machine has pyenv's 3.13")
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def mxnet_python() -> str:
    """A Python 3.8-3.11, found as `make test` finds one (this one, in the pinned environment)."""
    proc = subprocess.run(["sh", str(FIND_PYTHON), "mxnet"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(proc.stderr) if os.environ.get("CI") else pytest.skip("no Python 3.8-3.11 on this machine")
    # the interpreter itself (a pyenv shim would not run from another folder)
    return subprocess.run([proc.stdout.strip(), "-c", "import sys; print(sys.executable)"], capture_output=True,
                          text=True, check=True).stdout.strip()


def _bin_with(tmp_path: Path, **names: str) -> str:
    """A PATH of one folder holding the given interpreters under the given names, and what the script needs."""
    folder = tmp_path / f"bin-{len(list(tmp_path.glob('bin-*')))}"
    folder.mkdir()
    for tool in ("cat", "sh"):
        (folder / tool).symlink_to(subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True,
                                                  text=True).stdout.strip())
    for name, target in names.items():
        (folder / name.replace("_", ".")).symlink_to(target)
    return str(folder)


def _find(tmp_path: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": path, "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    return subprocess.run(["/bin/sh", str(FIND_PYTHON), *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_host_whose_only_python_is_too_new_gets_the_reason_and_the_ways_out(tmp_path, newer_python):
    path = _bin_with(tmp_path, python3=newer_python)
    proc = _find(tmp_path, path, "mxnet")
    major, minor = _version_of(newer_python)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "no Python 3.8-3.11 found for the MXNet environment" in proc.stderr
    assert "numpy<1.24 has no wheel for Python 3.12" in proc.stderr
    assert f"python3: Python {major}.{minor} (not 3.8-3.11)" in proc.stderr
    for way in ("apt install python3.11 python3.11-venv", "pyenv install 3.11", "uv python install 3.11",
                "make demo PYTHON=/path/to/python3.11", "make test-core"):
        assert way in proc.stderr
    # the core takes it
    assert _find(tmp_path, path, "core").stdout.strip() == f"{path}/python3"


def test_the_search_prefers_a_python_mxnet_runs_on(tmp_path, newer_python, mxnet_python):
    newer = "python%d_%d" % _version_of(newer_python)
    path = _bin_with(tmp_path, **{newer: newer_python, "python3_11": mxnet_python})
    assert _find(tmp_path, path, "mxnet").stdout.strip() == f"{path}/python3.11"
    assert _find(tmp_path, path, "core").stdout.strip() == f"{path}/{newer.replace('_', '.')}"  # the newest
    # a named interpreter is the only candidate: used if it fits, refused with the reason if not
    assert _find(tmp_path, path, "mxnet", mxnet_python).stdout.strip() == mxnet_python
    refused = _find(tmp_path, path, "mxnet", newer_python)
    assert refused.returncode == 1 and f"{newer_python}: Python" in refused.stderr and "(not 3.8-3.11)" in refused.stderr


def test_make_stops_before_making_a_venv_with_a_python_mxnet_cannot_run_on(tmp_path, newer_python):
    venv = tmp_path / "venv"
    proc = subprocess.run(["make", "-C", str(ROOT), "venv", f"VENV={venv}", f"PYTHON={newer_python}"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and not venv.exists()
    assert "no Python 3.8-3.11 found for the MXNet environment" in proc.stderr


def test_the_metadata_says_which_pythons_and_which_extras_need_mxnet():
    meta = metadata.metadata("gluon-augplug")
    assert meta["Version"] == __version__
    assert meta["Requires-Python"] == ">=3.8"
    requires = meta.get_all("Requires-Dist")
    for extra, wheel in (("cpu", "mxnet==1.9.1"), ("cu112", "mxnet-cu112==1.9.1")):
        mine = [r.replace(" ", "") for r in requires if f'extra=="{extra}"' in r.replace(" ", "")]
        assert any(r.startswith(wheel + ';python_version<"3.12"') for r in mine), mine
        assert any(r.startswith('numpy<1.24;python_version<"3.12"') for r in mine), mine
        assert any(r.startswith('gluon-augplug<0;python_version>="3.12"') for r in mine), mine
    assert not any(r.startswith("mxnet") and "extra" not in r for r in requires)  # never a hard requirement


def _stub_wheel(folder: Path, name: str, version: str) -> None:
    """A wheel of ``name`` that holds only its metadata (enough for pip's resolver)."""
    dist = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        whl.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                "Tag: py3-none-any\n")
        whl.writestr(f"{dist}.dist-info/RECORD", "")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    """This package's wheel, built as a release is, beside metadata-only wheels of what it depends on."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    built = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(folder), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    for name, version in (("numpy", "1.23.5"), ("numpy", "2.0.0"), ("opencv-python-headless", "4.8.1.78"),
                          ("pluggy", "1.5.0"), ("PyYAML", "6.0.1"), ("Pillow", "10.0.0"), ("tqdm", "4.66.0"),
                          ("simplejpeg", "1.7.0"), ("mxnet", "1.9.1")):
        _stub_wheel(folder, name, version)
    return folder


@pytest.mark.pinned  # `build` is in the pinned environment's release extra
def test_the_release_files_hold_the_package_its_data_and_its_license(wheelhouse):
    import tarfile

    wheel = zipfile.ZipFile(wheelhouse / f"gluon_augplug-{__version__}-py3-none-any.whl").namelist()
    assert "gluon_augplug/py.typed" in wheel and any(n.startswith("gluon_augplug/testing/data/") for n in wheel)
    assert f"gluon_augplug-{__version__}.dist-info/licenses/LICENSE" in wheel
    assert not any(n.startswith("tests/") for n in wheel)
    with tarfile.open(wheelhouse / f"gluon_augplug-{__version__}.tar.gz") as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "constraints.txt", "setup.cfg", "gluon_augplug/py.typed"} <= names
    assert not any(n.startswith("tests/") for n in names)  # a partial suite without its conftest would mislead


def _dry_run(python: str, folder: Path, requirement: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links", str(folder),
                           "--ignore-installed", "--disable-pip-version-check", requirement],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.pinned  # `build` is in the pinned environment's release extra
def test_pip_refuses_the_cpu_extra_on_python_312_and_newer_at_once_and_says_why(wheelhouse, newer_python):
    proc = _dry_run(newer_python, wheelhouse, "gluon-augplug[cpu]")
    assert proc.returncode != 0
    assert re.search(r'gluon-augplug\[cpu\] \S+ depends on gluon-augplug<0; python_version >= "3.12"', proc.stdout +
                     proc.stderr), proc.stdout + proc.stderr
    core = _dry_run(newer_python, wheelhouse, "gluon-augplug")  # the core installs there
    assert core.returncode == 0 and f"gluon-augplug-{__version__}" in core.stdout, core.stderr
    assert "numpy-2.0.0" in core.stdout
    here = _dry_run(sys.executable, wheelhouse, "gluon-augplug[cpu]")  # and on 3.11 the extra is MXNet's
    assert here.returncode == 0 and "mxnet-1.9.1" in here.stdout and "numpy-1.23.5" in here.stdout, here.stderr


def test_the_changelog_has_this_version_first():
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## (\d+\.\d+\.\d+)", text, re.M)
    assert versions[0] == __version__ and len(versions) == len(set(versions)) >= 3
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)
