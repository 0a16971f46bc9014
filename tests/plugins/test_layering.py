"""gluon_augplug/plugins/ imports nothing above it: the plugin system does not know the transforms,
the pipelines or the command line (built-ins are named there as module strings, as datasette does)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gluon_augplug"
# leaf modules: they import nothing of the package at import time
ALLOWED = {"errors", "_version", "params", "contract", "_deprecation"}


def imported_package_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 2:  # from ..x import y
            names.add((node.module or "").split(".")[0] or node.names[0].name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("gluon_augplug"):
            names.add(node.module.split(".")[1] if "." in node.module else node.names[0].name)
    return names


def test_the_plugin_system_imports_only_leaf_modules():
    for path in sorted((PACKAGE / "plugins").glob("*.py")):
        above = imported_package_modules(path) - ALLOWED
        assert not above, f"{path.name} imports {sorted(above)} from above plugins/"


def test_the_leaf_modules_import_nothing_of_the_package_at_import_time():
    for name in ALLOWED:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        top_level = {(n.module or "") for n in tree.body if isinstance(n, ast.ImportFrom) and n.level >= 1}
        assert top_level <= {"errors", "_validate", ""}, f"{name}.py imports {top_level} at import time"


def test_training_does_not_import_the_command_line():
    for path in sorted((PACKAGE / "train").glob("*.py")):
        assert "cli" not in imported_package_modules(path), f"train/{path.name} imports the CLI"


def test_no_circles_between_the_targets_the_parameters_and_the_transforms():
    """The targets layer and the declared parameters sit below the transforms: neither imports them, not even
    inside a function (they were circles: targets/state.py and params.Transforms imported transforms/)."""
    for path in sorted((PACKAGE / "targets").glob("*.py")):
        assert "transforms" not in imported_package_modules(path), f"{path.relative_to(PACKAGE)} imports transforms/"
    top_level = [n.module or "" for n in ast.walk(ast.parse((PACKAGE / "params.py").read_text()))
                 if isinstance(n, ast.ImportFrom) and n.level == 1]  # params.py sits at the package's top
    assert not [m for m in top_level if m.split(".")[0] == "transforms"], top_level
