"""One writer per output: an advisory lock that a run folder or a pack output holds while it is written.

The lock is a POSIX record lock (``fcntl.lockf``) on a small file beside (or in) what is written. The
kernel releases it when the holding process ends, however it ends (a ``kill -9`` included), so a folder
is never left locked by the dead; forked DataLoader workers do not inherit it. The file holds the
holder's pid, host, start time and command line, which a refused second writer is told.

A POSIX lock belongs to a process, not to a file descriptor: a second writer in the same process would be
granted it, and closing any descriptor of the file would drop it. So a process also keeps the set of the
locks it holds, and refuses a second writer of its own the same way.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import sys
import threading
import time
from typing import Any

from .errors import AugplugError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_HELD: dict[str, "WriterLock"] = {}
_HELD_GUARD = threading.Lock()
_BUSY = (errno.EACCES, errno.EAGAIN)


class OutputBusyError(AugplugError):
    """Another process (or another writer in this one) is writing to the same run folder or pack output."""


class WriterLock:
    """The held lock on one output; :meth:`release` (or leaving a ``with`` block) frees it and removes its file.

    Use :func:`acquire` to take one.
    """

    def __init__(self, path: str, fd: int, what: str):
        self.path, self.what = path, what
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Free the lock. The file is removed while still locked, so a writer that opened it just before sees
        that it is gone and takes a fresh one."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with _HELD_GUARD:
            _HELD.pop(self.path, None)
        try:
            if _same_file(fd, self.path):  # never another file put under its name
                os.remove(self.path)
        except OSError:  # a read-only or vanished folder: the kernel frees the lock anyway
            pass
        os.close(fd)

    def __enter__(self) -> "WriterLock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def acquire(path: str, what: str) -> WriterLock:
    """Take the writer lock ``path`` for ``what`` (e.g. ``"the run folder 'runs/x'"``), or refuse at once.

    Raises
    ------
    OutputBusyError
        Another process holds it (its pid, host, start time and command are named), or this process does.
    OSError
        The lock file cannot be created (a missing or read-only folder), naming it.
    """
    # the folder resolved, the file itself never followed: a planted link must not make us write or remove
    # another file
    key = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(path))), os.path.basename(path))
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    with _HELD_GUARD:
        if key in _HELD:
            raise OutputBusyError(f"{what} is already being written by this process (pid {os.getpid()}): one "
                                  f"writer at a time")
        for _ in range(20):  # another writer may release (and remove the file) between our open and our lock
            if os.path.islink(key):
                raise OutputBusyError(f"{what}: its lock file {key!r} is a symbolic link, not written through: "
                                      f"remove it if no augplug process is running")
            fd = os.open(key, flags, 0o644)
            try:
                _lock(fd)
            except OSError as exc:
                holder = _holder(fd)
                os.close(fd)
                if exc.errno not in _BUSY:
                    raise
                raise OutputBusyError(f"{what} is being written by another process ({holder}); one writer at "
                                      f"a time: wait for it to finish, stop it, or write elsewhere") from None
            if os.fstat(fd).st_nlink > 1:  # a hard link planted at the lock's name: its other name is someone's file
                os.close(fd)
                raise OutputBusyError(f"{what}: its lock file {key!r} has other names (a hard link), not written "
                                      f"to: remove it if no augplug process is running")
            if _same_file(fd, key):
                break
            os.close(fd)
        else:  # pragma: no cover - a lock file replaced twenty times in a row
            raise OutputBusyError(f"{what}: its lock file {key!r} keeps being replaced; is another writer starting?")
        lock = WriterLock(key, fd, what)
        _HELD[key] = lock
    try:
        _describe_self(fd)
    except OSError:  # a full disk: the lock holds all the same, the refused writer is told less
        pass
    return lock


def _lock(fd: int) -> None:
    if fcntl is not None:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    import msvcrt  # pragma: no cover - Windows

    try:  # pragma: no cover
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    except OSError:  # pragma: no cover
        raise OSError(errno.EACCES, "locked") from None


def _same_file(fd: int, path: str) -> bool:
    try:
        mine, now = os.fstat(fd), os.lstat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _describe_self(fd: int) -> None:
    """Write who holds the lock (read by a refused writer; advisory, never trusted for anything else)."""
    record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "command": " ".join(sys.argv)[:300]}
    data = json.dumps(record).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _holder(fd: int) -> str:
    """The holder as its lock file describes it, on one line (it may not have written itself yet)."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "{}")
        pid = record["pid"]
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2**32:
            raise ValueError
        host, started = str(record.get("host", "?"))[:64], str(record.get("started", "?"))[:32]
        command = str(record.get("command", ""))[:200]
    except Exception:  # whatever the file holds (it is anyone's to write): the refusal still stands, on one line
        return "it has not said which yet"
    text = f"pid {pid} on {host}, since {started}" + (f": {command}" if command else "")
    return text.encode("unicode_escape").decode("ascii")  # a newline in a command line stays on this line
