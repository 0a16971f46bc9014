"""Parsing pipeline specs: strings of literal calls, YAML/JSON files, lists and dicts.

The normal form is a list of :class:`Node`. Strings are parsed with :mod:`ast` and only
literal values are evaluated (:func:`ast.literal_eval`); YAML with ``yaml.safe_load``.
"""
from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError, SpecFileError, SpecSyntaxError

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")
# plugin-qualified names ("my-plugin:GridMask") are not Python syntax; they are swapped for
# same-length identifiers before parsing, so that error offsets stay exact
_TOKEN = re.compile(
    r"""(?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(?P<qual>(?<![\w.\-])[A-Za-z_][\w.\-]*:[A-Za-z_]\w*)"""
)
_PLACEHOLDER = "\u01c2"  # 'ǂ', a letter, so valid in identifiers, and never typed by users


@dataclass
class Node:
    """One transform in a spec: ``name(*args, **params)``; nested transforms are Nodes too."""

    name: str
    args: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    offset: int | None = None  # position in the spec string, for error messages
    source: str | None = None

    def describe(self) -> str:
        return self.name if self.offset is None else f"{self.name} (position {self.offset + 1})"


def _mask_qualified(text: str) -> tuple[str, dict[str, str]]:
    names: dict[str, str] = {}

    def swap(match: re.Match) -> str:
        if match.group("str"):
            return match.group("str")
        qualified = match.group("qual")
        token = f"{_PLACEHOLDER}{len(names)}"
        # padded to the same length (offsets stay exact), unless too short to hold the counter
        token = token + _PLACEHOLDER * (len(qualified) - len(token))
        names[token] = qualified
        return token

    return _TOKEN.sub(swap, text), names


def parse_spec_string(text: str) -> list[Node]:
    """Parse ``"Name, Name(arg, key=value), plugin:Name(...)"`` into nodes.

    Raises
    ------
    SpecSyntaxError
        With the position of the first problem.
    """
    if not text.strip():
        raise SpecSyntaxError("empty spec: name at least one transform (e.g. 'ToTensor')", text, 0)
    masked, names = _mask_qualified(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset_of(node: ast.AST) -> int:
        line, col = node.lineno - 1, node.col_offset  # type: ignore[attr-defined]
        return line_starts[line] + col - (1 if line == 0 else 0)

    try:
        tree = ast.parse("[" + masked + "\n]", mode="eval")
    except SyntaxError as exc:
        line = (exc.lineno or 1) - 1
        if line >= len(line_starts):  # the error is in the closing bracket we added: the spec ended early
            raise SpecSyntaxError("malformed spec (unexpected end: an unclosed parenthesis or bracket?)",
                                  text, len(text.rstrip())) from None
        col = (exc.offset or 1) - 1
        pos = line_starts[line] + col - (1 if line == 0 else 0)
        raise SpecSyntaxError(f"malformed spec ({exc.msg})", text, pos) from None

    def name_of(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return names.get(node.id, node.id)
        raise SpecSyntaxError("expected a transform name (such as RandomFlipLeftRight or plugin:Name)",
                              text, offset_of(node))

    def value_of(node: ast.AST) -> Any:
        if isinstance(node, (ast.Call, ast.Name)) and not (isinstance(node, ast.Name) and node.id in ("True", "False", "None")):
            return transform_of(node)
        if isinstance(node, (ast.List, ast.Tuple)) and any(isinstance(e, (ast.Call, ast.Name)) for e in node.elts):
            values = [value_of(e) for e in node.elts]
            return values if isinstance(node, ast.List) else tuple(values)
        try:
            return ast.literal_eval(node)
        except (ValueError, SyntaxError, TypeError):
            raise SpecSyntaxError("only literal values are allowed (numbers, strings, tuples, lists, dicts, "
                                  "None, True, False) or nested transforms", text, offset_of(node)) from None

    def transform_of(node: ast.AST) -> Node:
        if isinstance(node, ast.Name):
            return Node(name_of(node), offset=offset_of(node), source=text)
        if not isinstance(node, ast.Call):
            raise SpecSyntaxError("expected a transform, Name or Name(...)", text, offset_of(node))
        result = Node(name_of(node.func), offset=offset_of(node), source=text)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise SpecSyntaxError("*args is not allowed in a spec", text, offset_of(arg))
            result.args.append(value_of(arg))
        for kw in node.keywords:
            if kw.arg is None:
                raise SpecSyntaxError("**kwargs is not allowed in a spec", text, offset_of(kw.value) - 2)
            result.params[kw.arg] = value_of(kw.value)
        return result

    elements = tree.body.elts  # type: ignore[attr-defined]
    return [transform_of(e) for e in elements]


def looks_like_file(spec: str) -> bool:
    return spec.strip().lower().endswith(SPEC_FILE_SUFFIXES) or (
        "\n" not in spec and "(" not in spec and "," not in spec and os.path.isfile(spec)
    )


def load_spec_file(path: str) -> Any:
    """Read a YAML or JSON pipeline file.

    Raises
    ------
    SpecFileError
        The file is missing, unreadable, or not valid YAML/JSON (with the line and column).
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise SpecFileError(f"cannot read pipeline file {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SpecFileError(f"pipeline file {path!r} is not UTF-8 text (byte offset {exc.start})") from None
    if path.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecFileError(f"pipeline file {path!r} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno} (offset {exc.pos})") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1} (offset {mark.index})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecFileError(f"pipeline file {path!r} is not valid YAML: {problem}{where}") from None


def node_from_dict(item: dict, where: str) -> Node:
    """``{"name": ..., "params": {...}, "args": [...]}`` (or the one-key form ``{Name: {params}}``)."""
    if "name" not in item:
        if len(item) == 1 and not set(item) & {"params", "args"}:
            (name, params), = item.items()
            if params is None:
                params = {}
            if isinstance(name, str) and isinstance(params, dict):
                return Node(name, params=dict(params))
        raise SpecError(f"{where}: a transform item needs a 'name' key (and optional 'params'), got {item!r}")
    unknown = set(item) - {"name", "params", "args"}
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {sorted(unknown)} in transform item {item.get('name')!r}; "
                        f"allowed: name, params, args")
    name, params, args = item["name"], item.get("params") or {}, item.get("args") or []
    if not isinstance(name, str):
        raise SpecError(f"{where}: 'name' must be a string, got {name!r}")
    if not isinstance(params, dict):
        raise SpecError(f"{where}: 'params' of {name!r} must be a mapping, got {type(params).__name__}")
    if not isinstance(args, (list, tuple)):
        raise SpecError(f"{where}: 'args' of {name!r} must be a list, got {type(args).__name__}")
    return Node(name, list(args), dict(params))
