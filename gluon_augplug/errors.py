"""Exceptions raised by gluon_augplug; each message names the problem and the fix."""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, Sequence


class AugplugError(Exception):
    """Base class of every error raised by gluon_augplug."""


class MXNetMissingError(AugplugError, ModuleNotFoundError):
    """A part of the package that runs on MXNet was used where MXNet is not installed (the core, numpy arrays
    in and out, needs no MXNet). An ``ImportError``, so ``except ImportError`` around it keeps working."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"{what} needs MXNet, which is not installed here: {MXNET_INSTALL_HINT}", name="mxnet")

    def __str__(self) -> str:
        return self.msg


MXNET_INSTALL_HINT = ("pip install 'gluon-augplug[cpu]' (or [cu112] for NVIDIA GPUs; MXNet 1.9.1 needs Python "
                      "3.8-3.11 and numpy<1.24); the core, numpy arrays in and out, works without it")


class UnknownTransformError(AugplugError, LookupError):
    """A transform or preset name that no loaded plugin registered."""

    def __init__(self, name: str, known: Iterable[str], kind: str = "transform", note: str | None = None):
        self.name = name
        self.suggestions = closest_names(name, known) if len(name) <= 200 else []  # a name of a megabyte: none
        if note:  # the name is known, but not where it was used
            super().__init__(note)
            return
        hint = f"; closest registered names: {', '.join(self.suggestions)}" if self.suggestions else ""
        listing = {"transform": " (`augplug transforms` lists them all)", "preset": " (`augplug presets` lists them)"}
        super().__init__(f"unknown {kind} {brief(name, 120)}{hint}{listing.get(kind, '')}")

    def __str__(self) -> str:  # LookupError would quote the message
        return self.args[0]


class AmbiguousTransformError(AugplugError, LookupError):
    """Two plugins registered the same name and none of them claimed it with override=True."""

    def __init__(self, name: str, plugins: Sequence[str]):
        self.name = name
        self.plugins = list(plugins)
        qualified = " or ".join(f"'{p}:{name}'" for p in plugins)
        super().__init__(
            f"transform name {name!r} is registered by several plugins "
            f"({', '.join(plugins)}); write {qualified}, or let one plugin register "
            f"it with override=True"
        )

    def __str__(self) -> str:
        return self.args[0]


class ParameterError(AugplugError, ValueError):
    """A transform parameter outside its allowed values, rejected at build time."""

    def __init__(self, transform: str, param: str, value: Any, allowed: str):
        self.transform = transform
        self.param = param
        self.value = value
        self.allowed = allowed
        super().__init__(f"{transform}: parameter {param}={brief(value)} is invalid; allowed: {allowed}")


class SpecError(AugplugError, ValueError):
    """A pipeline spec that cannot be understood (structure, layout or order of steps)."""


class SpecSyntaxError(SpecError):
    """A spec string that is not a comma-separated list of literal calls.

    Attributes
    ----------
    spec : str
        The text that was parsed.
    offset : int
        0-based character offset of the problem in ``spec``.
    """

    def __init__(self, message: str, spec: str, offset: int, echo: bool = True):
        self.spec = spec
        self.offset = max(0, min(offset, len(spec)))
        if not echo:  # text from a file: its position only, never its content
            super().__init__(f"{message} at position {self.offset + 1} of a spec string read from the file")
            return
        line_start = spec.rfind("\n", 0, self.offset) + 1
        line_end = spec.find("\n", self.offset)
        line = spec[line_start : None if line_end < 0 else line_end]
        start = max(line_start, self.offset - 60)  # a long line is shown around the problem only
        shown = line[start - line_start : start - line_start + 120]
        caret = " " * (self.offset - start) + "^"
        super().__init__(f"{message} at position {self.offset + 1} of the spec:\n  {shown}\n  {caret}")


class SpecFileError(SpecError):
    """A YAML or JSON pipeline file that cannot be read or parsed."""


class InputError(AugplugError, ValueError):
    """Data a pipeline, a batch transform or a command cannot take (shape, dtype, values), named."""


class InputTypeError(InputError, TypeError):
    """Input of a type or pixel type that cannot be taken."""


class ReplayError(AugplugError):
    """Recorded parameters that cannot be replayed on this pipeline."""


class PluginError(AugplugError):
    """A plugin that failed to import, to validate against the hook specs, or to register."""

    def __init__(self, plugin: str, distribution: str | None, version: str | None, error: BaseException | str):
        self.plugin = plugin
        self.distribution = distribution
        self.version = version
        self.error = error
        where = f" from {distribution} {version}" if distribution else ""
        detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"plugin {plugin!r}{where} failed to load: {detail}")


def brief(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: messages name a value, they do not echo a file.

    Never raises: an integer too long to print (Python refuses past 4,300 digits) is described by its
    size, and a value whose ``repr`` fails by its type.
    """
    if isinstance(value, int) and value.bit_length() > 256:
        return f"<an integer of about {int(value.bit_length() * 0.30103):,} digits>"
    try:
        text = repr(value)
    except Exception:  # a huge integer inside a list, a plugin's broken __repr__
        return f"<a {type(value).__name__} that cannot be printed>"
    return text if len(text) <= limit else text[: limit - 5] + " ...>"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str, lines: bool = False) -> str:
    """``text`` with control characters (a newline in a file name, an escape sequence) shown escaped, so a
    message stays on its line(s) and cannot rewrite the terminal; ``lines`` keeps the newlines of a message
    laid out on several (a spec error's caret)."""
    def escape(match: "re.Match[str]") -> str:
        return match.group().encode("unicode_escape").decode("ascii")

    if lines:
        return "\n".join(_CONTROL.sub(escape, line) for line in text.split("\n"))
    return _CONTROL.sub(escape, text)


def short_reason(exc: BaseException, limit: int = 200) -> str:
    """The one line of an exception that says what went wrong (MXNet's messages start with a C++ trace)."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("Traceback", "File ", "[bt]", "Stack trace"))]
    text = (lines[-1] if lines else type(exc).__name__).replace("MXNetError: ", "")
    return getattr(exc, "strerror", None) or text[:limit]


def closest_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` names from ``known`` that look like ``name`` (case-insensitive)."""
    known = sorted(set(known))
    by_lower: dict = {}
    for k in known:
        by_lower.setdefault(k.lower(), k)
    query = name.lower()
    # names that contain what was typed ("RandomFlip", "flip") first, shortest first; then look-alikes
    containing = sorted((k for k in known if query in k.lower()), key=len)
    similar = [by_lower[f] for f in difflib.get_close_matches(query, list(by_lower), n=n, cutoff=0.6)]
    result: list[str] = []
    for k in containing + similar:
        if k not in result:
            result.append(k)
    return result[:n]
