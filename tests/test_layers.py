"""The package's layers, in a declared order, and no import cycles: every import counts, at any depth (inside
functions and ``TYPE_CHECKING`` blocks too), so a lazy import cannot hide an upward dependency.

A module may import its own layer and the layers below it; a package's ``__init__`` re-exporting its modules is
not an edge into the package (importing ``..targets.modes`` runs ``targets/__init__`` first, which imports nothing
above targets either: its own edges are checked like any module's)."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gluon_augplug"

#: lowest first; a name is a top-level module or sub-package of gluon_augplug
LAYERS: list[set[str]] = [
    {"errors", "constants", "_version", "_lazy", "_optional", "_validate", "_files", "_locks", "_mxnet",
     "_deprecation", "contract", "params", "randomness"},
    {"io", "targets", "plugins"},        # decoding and file formats; targets' geometry; the plugin system
    {"transforms"},                      # Transform and the built-ins
    {"compat"},                          # the contract of earlier releases, over the transforms
    {"pipeline"},                        # specs, Pipeline, the fused decode
    {"batch", "adapters", "presets", "tta"},  # tta: test-time views over pipelines and the one geometry
    {"data"},                            # datasets and loaders, which augment through pipelines
    {"visual", "testing"},
    {"train"},
    {"cli", "__main__", "__init__"},
]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its source (package ``__init__`` targets excluded)."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)] + ([node.module] if node.module else [])
                    module = ".".join(base)
                else:
                    module = node.module or ""
                targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in files else module
                           for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            found |= {t for t in targets if t in files and t != name and files[t].name != "__init__.py"}
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"{module} belongs to no declared layer: add {top!r} to LAYERS")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {d} (layer {layer_of(d)} above {layer_of(m)})"
                  for m, deps in graph.items() for d in deps if layer_of(d) > layer_of(m))


def test_no_import_cycles_at_any_depth():
    assert cycles(import_graph(PACKAGE)) == []


def test_every_import_goes_down_the_declared_layers():
    assert upward_imports(import_graph(PACKAGE)) == []


def test_the_io_layer_imports_only_the_leaves():
    graph = import_graph(PACKAGE)
    io = {d for m, deps in graph.items() if m.startswith("gluon_augplug.io") for d in deps}
    assert {layer_of(d) for d in io} <= {0, 1} and not any(d.startswith(("gluon_augplug.targets",
                                                                          "gluon_augplug.plugins")) for d in io)


@pytest.fixture()
def copy_of_the_package(tmp_path: Path) -> Path:
    root = tmp_path / "gluon_augplug"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_a_planted_upward_import_is_found_even_inside_a_function(copy_of_the_package: Path):
    errors = copy_of_the_package / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _planted():\n    from .cli import main  # noqa\n")
    found = upward_imports(import_graph(copy_of_the_package))
    assert found == ["gluon_augplug.errors imports gluon_augplug.cli.main (layer 9 above 0)"]


def test_a_planted_cycle_is_found(copy_of_the_package: Path):
    base = copy_of_the_package / "transforms" / "base.py"
    base.write_text(base.read_text() + "\n\ndef _planted():\n    from .composition import Compose  # noqa\n")
    assert any({"gluon_augplug.transforms.base", "gluon_augplug.transforms.composition"} <= set(c)
               for c in cycles(import_graph(copy_of_the_package)))


def test_the_transforms_all_names_every_registered_builtin():
    """``gluon_augplug.transforms.__all__`` is the reference's list: every transform the builtin plugin registers is
    in it, under its registered name, and nothing in it is missing."""
    import gluon_augplug.transforms as transforms
    from gluon_augplug.plugins.manager import PluginSystem

    registry = PluginSystem(load_entry_points=False).registry
    builtin = {info.name for info in registry if info.plugin == "builtin" and isinstance(info.factory, type)}
    assert builtin and builtin - set(transforms.__all__) == set()
    assert all(hasattr(transforms, name) for name in transforms.__all__)
