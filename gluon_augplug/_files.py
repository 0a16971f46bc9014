"""Reading files whose size an attacker may choose: regular files only, at most a given number of bytes."""
from __future__ import annotations

import os
import stat


def check_size(size: int, limit: int, name: str, what: str, error: type[Exception]) -> None:
    """Raise ``error`` naming ``name`` when ``size`` bytes exceed what a ``what`` may hold."""
    if size > limit:
        raise error(f"{name} holds {size:,} bytes, more than the limit of {limit:,} for a {what}: not read")


def read_bounded(path: str, limit: int, what: str, error: type[Exception], name: str | None = None) -> bytes:
    """Read the regular file ``path`` of at most ``limit`` bytes.

    Raises
    ------
    error
        ``path`` cannot be read, is not a regular file (a device, a pipe, a folder), or is larger
        than ``limit`` (checked before reading and again on what was read, for a file that grows).
    """
    name = name or path
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{name} is not a regular file (a device, a pipe or a folder?): not read")
        check_size(info.st_size, limit, name, what, error)
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror or exc}") from None
    check_size(len(data), limit, name, what, error)
    return data
