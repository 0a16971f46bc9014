"""Files: reading those whose size an attacker may choose (regular files only, at most a given number
of bytes), writing atomically, and telling a dead writer's temporaries from a live one's."""
from __future__ import annotations

import os
import stat
from typing import Callable


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
        # opened without blocking and checked on the descriptor: a path swapped for a FIFO after a stat
        # cannot make the open wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise error(f"{name} is not a regular file (a device, a pipe or a folder?): not read")
            check_size(info.st_size, limit, name, what, error)
            data = f.read(limit + 1)
    except IsADirectoryError:
        raise error(f"{name} is not a regular file (a device, a pipe or a folder?): not read") from None
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror or exc}") from None
    check_size(len(data), limit, name, what, error)
    return data


def read_text_bounded(path: str, limit: int, what: str, error: type[Exception], name: str | None = None) -> str:
    """:func:`read_bounded`, decoded as UTF-8 (a byte-order mark allowed); ``error`` names the offset of the
    first byte that is not UTF-8."""
    data = read_bounded(path, limit, what, error, name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{name or path} is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}): "
                    f"not a {what}") from None


def atomic_write(path: str, write: Callable[[str], None], verify: Callable[[str], None] | None = None) -> None:
    """Write ``path`` through ``write(temporary)`` (then ``verify(temporary)``), synced, then renamed over
    ``path``: a reader never sees half a file, and on any error ``path`` is untouched and the temporary
    file removed. The one way gluon_augplug writes files."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if verify is not None:
            verify(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def alive_elsewhere(pid: int) -> bool:
    """Whether another process ``pid`` is running (its ``*.tmp-PID`` files are then not to be removed)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # someone else's process, or no pid at all: leave its files
        return pid > 0
    return True
