"""setup.cfg says python_requires >= 3.8: the package must not use what 3.8 lacks.

Only Python 3.11 runs here, so this is static. The tool is vermin (``make lint``, part of ``make test``:
syntax, standard-library modules and members such as ``argparse.BooleanOptionalAction``); these tests
run it, and add what vermin does not see: 3.9/3.10 typing evaluated at run time (``X | None``,
``list[int]`` outside annotations, which ``from __future__ import annotations`` leaves unevaluated).
"""
from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "gluon_augplug").rglob("*.py"))
BUILTIN_GENERICS = {"list", "dict", "tuple", "set", "frozenset", "type"}


def test_python_requires_is_declared_as_checked():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["options"]["python_requires"].strip() == ">=3.8"


def _runtime_nodes(tree: ast.AST):
    """Every node outside annotations (arguments', returns' and variables' annotations are skipped)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    skip.update(id(n) for n in ast.walk(arg.annotation))
            if node.returns is not None:
                skip.update(id(n) for n in ast.walk(node.returns))
        elif isinstance(node, ast.AnnAssign):
            skip.update(id(n) for n in ast.walk(node.annotation))
    return [n for n in ast.walk(tree) if id(n) not in skip]


def problems_in(source: str) -> list[str]:
    tree = ast.parse(source, feature_version=(3, 8))  # raises on 3.9+ syntax
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                 any(a.name == "annotations" for a in n.names) for n in tree.body)
    nodes = _runtime_nodes(tree) if future else list(ast.walk(tree))
    problems = []
    for node in nodes:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and any(
                isinstance(side, ast.Constant) and side.value is None or
                isinstance(side, ast.Name) and side.id in {"int", "str", "float", "bool", *BUILTIN_GENERICS}
                for side in (node.left, node.right)):
            problems.append(f"line {node.lineno}: a runtime X | Y type union (3.10+)")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in BUILTIN_GENERICS:
            problems.append(f"line {node.lineno}: a runtime {node.value.id}[...] generic (3.9+)")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_runs_on_python_3_8(path):
    problems = problems_in(path.read_text())
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_check_catches_what_broke_3_8():
    # data/datasets.py of 0.1 built this type at import time
    old = "from __future__ import annotations\nChooser = Callable[[np.ndarray], np.ndarray] | None\n"
    assert problems_in(old) == ["line 2: a runtime X | Y type union (3.10+)"]
    assert problems_in("from __future__ import annotations\ndef f(x: int | None) -> list[int]: ...\n") == []
    assert problems_in("Table = dict[str, int]\n") == ["line 1: a runtime dict[...] generic (3.9+)"]
    with pytest.raises(SyntaxError):
        problems_in("match x:\n    case 1: pass\n")


VERMIN = Path(sys.executable).parent / "vermin"


def _vermin(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VERMIN), "--target=3.8-", "--violations", "--no-tips", *paths],
                          capture_output=True, text=True)


@pytest.mark.skipif(not VERMIN.exists(), reason="vermin comes with the lint extra (make venv installs it)")
def test_vermin_finds_the_package_3_8_clean_and_catches_what_broke_it(tmp_path):
    assert _vermin(str(ROOT / "gluon_augplug")).returncode == 0
    old = tmp_path / "old.py"
    old.write_text("import argparse\nflag = argparse.BooleanOptionalAction\nname = 'x'.removeprefix('y')\n")
    found = _vermin(str(old))
    assert found.returncode != 0 and "BooleanOptionalAction" in found.stdout and "removeprefix" in found.stdout
