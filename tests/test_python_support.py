"""setup.cfg says python_requires >= 3.8: the package must not use what 3.8 lacks.

Only Python 3.11 runs here, so this is a static check of every module: its syntax parses as 3.8's,
and nothing evaluated at run time uses 3.9/3.10 typing (``X | None``, ``list[int]`` outside
annotations, which ``from __future__ import annotations`` leaves unevaluated) or newer APIs.
"""
from __future__ import annotations

import ast
import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "gluon_augplug").rglob("*.py"))
BUILTIN_GENERICS = {"list", "dict", "tuple", "set", "frozenset", "type"}
NEWER_APIS = {"removeprefix", "removesuffix", "bit_count", "cache", "pairwise", "kw_only", "slots",
              "BooleanOptionalAction"}  # argparse 3.9+


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
        if isinstance(node, ast.Attribute) and node.attr in NEWER_APIS:
            problems.append(f"line {node.lineno}: .{node.attr} (3.9+)")
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
    assert problems_in("'x'.removeprefix('y')\n") == ["line 1: .removeprefix (3.9+)"]
    with pytest.raises(SyntaxError):
        problems_in("match x:\n    case 1: pass\n")


def test_argparse_3_9_actions_are_caught():
    assert problems_in("import argparse\nargparse.BooleanOptionalAction\n") == ["line 2: .BooleanOptionalAction (3.9+)"]
