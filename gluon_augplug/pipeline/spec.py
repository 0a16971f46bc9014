"""Parsing pipeline specs: strings of literal calls, YAML/JSON files, lists and dicts.

The normal form is a list of :class:`Node`. Strings are parsed with :mod:`ast` and only
literal values are evaluated (:func:`ast.literal_eval`); YAML with a safe loader.

Specs may come from strangers, so what is parsed is bounded: a spec string holds at most
``MAX_SPEC_CHARS`` characters and ``MAX_DEPTH`` levels of brackets, a file at most
``MAX_FILE_BYTES`` bytes, ``MAX_DEPTH`` levels of nesting and ``MAX_YAML_ALIASES`` aliases;
a repeated keyword or key is an error. Errors about a file's content give positions, never
the content itself.
"""
from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError, SpecFileError, SpecSyntaxError, brief

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")
MAX_SPEC_CHARS = 100_000
MAX_FILE_BYTES = 2**20
MAX_DEPTH = 32
MAX_YAML_ALIASES = 100
MAX_NUMBER_CHARS = 64  # a number's text in a spec or file (a float's 17 significant digits and then some)
MAX_INT_BITS = 128  # a seed or a size: past 2**128 an integer is a mistake (and slow to print)
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
    home: str | None = None  # a preset's plugin: its bare names mean that plugin's transforms first
    from_file: bool = False  # read from a pipeline file: it may not name further files

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


def _bracket_depth(masked: str) -> tuple[int, int]:
    """The deepest bracket nesting of ``masked`` (strings skipped) and the offset where it is first reached."""
    depth = deepest = where = 0
    quote = None
    i = 0
    while i < len(masked):
        c = masked[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, i
        elif c in ")]}":
            depth -= 1
        i += 1
    return deepest, where


def parse_spec_string(text: str, echo: bool = True) -> list[Node]:
    """Parse ``"Name, Name(arg, key=value), plugin:Name(...)"`` into nodes.

    Parameters
    ----------
    text : str
    echo : bool
        Show the offending line in error messages (False for text read from a file).

    Raises
    ------
    SpecSyntaxError
        With the position of the first problem.
    """
    if not text.strip():
        raise SpecSyntaxError("empty spec: name at least one transform (e.g. 'ToTensor')", text, 0, echo)
    undecodable = re.search("[\ud800-\udfff]", text)  # bytes of a command line that were not UTF-8
    if undecodable:
        raise SpecSyntaxError("a byte that is not UTF-8 text (a file name or argument in another encoding?)",
                              text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"),
                              undecodable.start(), echo)
    if len(text) > MAX_SPEC_CHARS:
        raise SpecSyntaxError(f"the spec is {len(text):,} characters long, more than the limit of "
                              f"{MAX_SPEC_CHARS:,}", text, MAX_SPEC_CHARS, echo)
    masked, names = _mask_qualified(text)
    deepest, where = _bracket_depth(masked)
    if deepest > MAX_DEPTH:
        raise SpecSyntaxError(f"brackets nest {deepest} deep, more than the limit of {MAX_DEPTH}", text, where, echo)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset_of(node: ast.AST) -> int:
        line, col = node.lineno - 1, node.col_offset  # type: ignore[attr-defined]
        return line_starts[line] + col - (1 if line == 0 else 0)

    try:
        if "\0" in masked:  # Python before 3.12 raises ValueError for it, not SyntaxError
            raise SyntaxError("null byte", ("<spec>", 1, masked.index("\0") + 2, masked))
        tree = ast.parse("[" + masked + "\n]", mode="eval")
    except SyntaxError as exc:
        line = (exc.lineno or 1) - 1
        if line >= len(line_starts):  # the error is in the closing bracket we added: the spec ended early
            raise SpecSyntaxError("malformed spec (unexpected end: an unclosed parenthesis or bracket?)",
                                  text, len(text.rstrip()), echo) from None
        col = (exc.offset or 1) - 1
        pos = line_starts[line] + col - (1 if line == 0 else 0)
        long_number = re.search(r"(?<![\w.])\d[\w.]{%d,}" % MAX_NUMBER_CHARS, masked)
        if long_number and "limit" in (exc.msg or ""):  # Python's own limit on an integer's digits
            raise SpecSyntaxError(str(_NumberTooLong(long_number.group())), text, long_number.start(), echo) from None
        raise SpecSyntaxError(f"malformed spec ({exc.msg})", text, pos, echo) from None

    def name_of(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return names.get(node.id, node.id)
        raise SpecSyntaxError("expected a transform name (such as RandomFlipLeftRight or plugin:Name)",
                              text, offset_of(node), echo)

    def value_of(node: ast.AST) -> Any:
        if isinstance(node, (ast.Call, ast.Name)) and not (isinstance(node, ast.Name) and node.id in ("True", "False", "None")):
            return transform_of(node)
        if isinstance(node, (ast.List, ast.Tuple)) and any(isinstance(e, (ast.Call, ast.Name)) for e in node.elts):
            values = [value_of(e) for e in node.elts]
            return values if isinstance(node, ast.List) else tuple(values)
        try:
            value = ast.literal_eval(node)
        except (ValueError, SyntaxError, TypeError):
            raise SpecSyntaxError("only literal values are allowed (numbers, strings, tuples, lists, dicts, "
                                  "None, True, False) or nested transforms", text, offset_of(node), echo) from None
        problem = oversized_number(value)
        if problem:
            raise SpecSyntaxError(problem, text, offset_of(node), echo)
        return value

    def transform_of(node: ast.AST) -> Node:
        if isinstance(node, ast.Name):
            return Node(name_of(node), offset=offset_of(node), source=text)
        if not isinstance(node, ast.Call):
            raise SpecSyntaxError("expected a transform, Name or Name(...)", text, offset_of(node), echo)
        result = Node(name_of(node.func), offset=offset_of(node), source=text)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise SpecSyntaxError("*args is not allowed in a spec", text, offset_of(arg), echo)
            result.args.append(value_of(arg))
        for kw in node.keywords:
            if kw.arg is None:
                raise SpecSyntaxError("**kwargs is not allowed in a spec", text, offset_of(kw.value) - 2, echo)
            if kw.arg in result.params:
                raise SpecSyntaxError(f"keyword {kw.arg!r} is repeated", text, offset_of(kw.value) - len(kw.arg) - 1,
                                      echo)
            result.params[kw.arg] = value_of(kw.value)
        return result

    elements = tree.body.elts  # type: ignore[attr-defined]
    return [transform_of(e) for e in elements]


def looks_like_file(spec: str) -> bool:
    """A spec names a file only when it clearly is a path: a .yaml/.yml/.json suffix or a path separator
    (a bare word such as ``ToTensor`` is a transform name even if a file of that name exists)."""
    text = spec.strip()
    if "\n" in text or "(" in text or "," in text:
        return False
    return text.lower().endswith(SPEC_FILE_SUFFIXES) or "/" in text or os.sep in text


def load_spec_file(path: str) -> Any:
    """Read a YAML or JSON pipeline file.

    Raises
    ------
    SpecFileError
        The file is missing, unreadable, or not valid YAML/JSON (with the line and column).
    """
    from .._files import read_bounded

    if os.path.isdir(path):
        raise SpecFileError(f"pipeline file {path!r} is a folder")
    data = read_bounded(path, MAX_FILE_BYTES, "pipeline file", SpecFileError, name=f"pipeline file {path!r}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecFileError(f"pipeline file {path!r} is not UTF-8 text (byte offset {exc.start})") from None
    if path.lower().endswith(".json"):
        try:
            value = json.loads(text, object_pairs_hook=_unique_pairs, parse_int=_bounded(int),
                               parse_float=_bounded(float))
        except _NumberTooLong as exc:
            raise SpecFileError(f"pipeline file {path!r}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise SpecFileError(f"pipeline file {path!r} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno} (offset {exc.pos})") from None
        except RecursionError:
            raise SpecFileError(f"pipeline file {path!r} nests deeper than the limit of {MAX_DEPTH}") from None
        except _DuplicateKey as exc:
            raise SpecFileError(f"pipeline file {path!r} repeats the key {exc.key!r} in one object") from None
    else:
        value = _load_yaml(text, path)
    check_structure(value, f"pipeline file {path!r}")
    return value


class _NumberTooLong(Exception):
    def __init__(self, text: str, mark: Any = None):
        self.mark = mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        super().__init__(f"a number written with {len(text):,} characters{where}, more than the limit of "
                         f"{MAX_NUMBER_CHARS} (no parameter takes such a number)")


def _bounded(convert: Any) -> Any:
    """``convert`` (int or float) of a number's text, refused before conversion when the text is too long."""
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise _NumberTooLong(text)
        return convert(text)

    return parse


def oversized_number(value: Any) -> str | None:
    """What is wrong with the first integer in ``value`` (a literal, or lists, tuples and dicts of them) that is
    larger than ``2**MAX_INT_BITS``, or None."""
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if id(item) in seen:  # a structure that holds itself: each container once
                continue
            seen.add(id(item))
        if isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > MAX_INT_BITS:
            return (f"an integer of {item.bit_length():,} bits ({brief(item)}), more than the limit of "
                    f"{MAX_INT_BITS} bits (no parameter takes such a number)")
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return None


class _DuplicateKey(Exception):
    def __init__(self, key: str, mark: Any = None):
        self.key, self.mark = key, mark


def _unique_pairs(pairs: list) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(str(key)[:60])
        result[key] = value
    return result


def _load_yaml(text: str, path: str) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        """yaml's SafeLoader with a bound on aliases and an error for a repeated key."""

        aliases = 0

        def compose_node(self, parent, index):  # type: ignore[override]
            if self.check_event(yaml.AliasEvent):
                Loader.aliases += 1
                if Loader.aliases > MAX_YAML_ALIASES:
                    mark = self.peek_event().start_mark
                    raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} aliases at line {mark.line + 1}")
            return super().compose_node(parent, index)

        def construct_yaml_int(self, node):  # type: ignore[override]
            _check_number_text(self, node)
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node):  # type: ignore[override]
            _check_number_text(self, node)
            return super().construct_yaml_float(node)

        def construct_mapping(self, node, deep=False):  # type: ignore[override]
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise _DuplicateKey(str(key)[:60], key_node.start_mark)
                if isinstance(key, (str, int, float, bool)):
                    seen.add(key)
            return super().construct_mapping(node, deep)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except _NumberTooLong as exc:
        raise SpecFileError(f"pipeline file {path!r}: {exc}") from None
    except _DuplicateKey as exc:
        where = f" at line {exc.mark.line + 1}, column {exc.mark.column + 1}" if exc.mark else ""
        raise SpecFileError(f"pipeline file {path!r} repeats the key {exc.key!r} in one mapping{where}") from None
    except RecursionError:
        raise SpecFileError(f"pipeline file {path!r} nests deeper than the limit of {MAX_DEPTH}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1} (offset {mark.index})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecFileError(f"pipeline file {path!r} is not valid YAML: {problem}{where}") from None


def _check_number_text(loader: Any, node: Any) -> None:
    text = loader.construct_scalar(node)
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLong(text, node.start_mark)


def check_structure(value: Any, where: str, max_items: int = 10_000) -> None:
    """Refuse structures nested deeper than ``MAX_DEPTH``, holding a cycle, with more than
    ``max_items`` values (what aliases can blow up to), or an integer past ``2**MAX_INT_BITS``."""
    count = 0
    stack: list[tuple[Any, int, tuple[int, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, parents = stack.pop()
        if not isinstance(item, (list, tuple, dict)):
            problem = oversized_number(item)
            if problem:
                raise SpecError(f"{where} holds {problem}")
            continue
        if id(item) in parents:
            raise SpecError(f"{where} contains itself (a recursive alias?)")
        if depth > MAX_DEPTH:
            raise SpecError(f"{where} nests deeper than the limit of {MAX_DEPTH}")
        children = list(item.keys()) + list(item.values()) if isinstance(item, dict) else list(item)
        count += len(children)
        if count > max_items:
            raise SpecError(f"{where} holds more than {max_items:,} values (aliases that expand?)")
        stack.extend((child, depth + 1, (*parents, id(item))) for child in children)


def node_from_dict(item: dict, where: str) -> Node:
    """``{"name": ..., "params": {...}, "args": [...]}`` (or the one-key form ``{Name: {params}}``)."""
    params = item.get("params") if "name" in item else next(iter(item.values())) if len(item) == 1 else None
    for mapping in (item, params if isinstance(params, dict) else {}):
        for odd in (k for k in mapping if not isinstance(k, str)):  # None included
            raise SpecError(f"{where}: keys of a transform item and of its parameters are names (strings), got "
                            f"{brief(odd, 60)} ({type(odd).__name__})")
    if "name" not in item:
        if len(item) == 1 and not set(item) & {"params", "args"}:
            (name, params), = item.items()
            if params is None:
                params = {}
            if isinstance(name, str) and isinstance(params, dict):
                return Node(name, params=dict(params))
        raise SpecError(f"{where}: a transform item needs a 'name' key (and optional 'params'), got a mapping "
                        f"with the keys {', '.join(sorted(brief(k, 40) for k in item))[:160]}")
    unknown = set(item) - {"name", "params", "args"}
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(brief(k, 40) for k in unknown))[:200]} in "
                        f"transform item {brief(item.get('name'), 60)}; allowed: name, params, args")
    name, params, args = item["name"], item.get("params") or {}, item.get("args") or []
    if not isinstance(name, str):
        raise SpecError(f"{where}: 'name' must be a string, got {type(name).__name__}")
    if not isinstance(params, dict):
        raise SpecError(f"{where}: 'params' of {name!r} must be a mapping, got {type(params).__name__}")
    if not isinstance(args, (list, tuple)):
        raise SpecError(f"{where}: 'args' of {name!r} must be a list, got {type(args).__name__}")
    return Node(name, list(args), dict(params))


def render_spec(item: Any) -> str:
    from .schedule import is_schedule_spec, render_schedule

    if is_schedule_spec(item):
        return render_schedule(item)
    if isinstance(item, dict) and "name" in item:
        params = item.get("params") or {}
        if not params:
            return item["name"]
        return f"{item['name']}({', '.join(f'{k}={render_spec(v)}' for k, v in params.items())})"
    if isinstance(item, list):
        return "[" + ", ".join(render_spec(v) for v in item) + "]"
    return repr(item)

