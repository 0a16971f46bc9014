"""One writer per output: the lock refuses a second process at once and names the first; the kernel frees it
when the holder dies (kill -9 included); a second writer in the same process is refused too."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from gluon_augplug._locks import OutputBusyError, acquire

HOLD = """
import sys, time
from gluon_augplug._locks import acquire
lock = acquire(sys.argv[1], "the test output")
print("held", flush=True)
time.sleep(120)
"""


def _holder(path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_is_refused_naming_the_first_until_it_is_killed(tmp_path):
    path = tmp_path / "writer.lock"
    proc = _holder(path)
    try:
        with pytest.raises(OutputBusyError, match=rf"the test output is being written by another process \(pid "
                                                  rf"{proc.pid} on .*since .*: .*-c"):
            acquire(str(path), "the test output")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert path.exists()  # a killed holder leaves its file, but not its lock
    with acquire(str(path), "the test output") as lock:
        assert lock.held
    assert not path.exists()  # released: the file goes with it


def test_a_second_writer_in_the_same_process_is_refused(tmp_path):
    path = str(tmp_path / "writer.lock")
    first = acquire(path, "the run folder 'x'")
    with pytest.raises(OutputBusyError, match=rf"already being written by this process \(pid {os.getpid()}\)"):
        acquire(path, "the run folder 'x'")
    assert first.held  # the refusal did not drop the first writer's lock (a POSIX lock dies with any close)
    first.release()
    acquire(path, "the run folder 'x'").release()


FORK_AND_HOLD = """
import os, sys, time
from gluon_augplug._locks import acquire
lock = acquire(sys.argv[1], "the test output")
child = os.fork()
if child == 0:
    time.sleep(120)
    os._exit(0)
print(child, flush=True)
time.sleep(120)
"""


def test_a_forked_worker_that_outlives_a_killed_writer_does_not_keep_the_lock(tmp_path):
    path = str(tmp_path / "writer.lock")
    proc = subprocess.Popen([sys.executable, "-c", FORK_AND_HOLD, path], stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    try:
        with pytest.raises(OutputBusyError):
            acquire(path, "the test output")
        proc.send_signal(signal.SIGKILL)  # the trainer dies; its DataLoader worker lives on
        proc.wait()
        os.kill(child, 0)
        acquire(path, "the test output").release()
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_lock_in_a_folder_that_cannot_hold_it_names_the_file(tmp_path):
    with pytest.raises(OSError) as info:
        acquire(str(tmp_path / "missing" / "writer.lock"), "out")
    assert "writer.lock" in str(info.value.filename)


def test_a_lock_file_planted_as_a_link_is_refused_and_its_target_kept(tmp_path):
    (tmp_path / "precious.txt").write_text("precious")
    os.symlink("precious.txt", tmp_path / "writer.lock")
    with pytest.raises(OutputBusyError, match="its lock file .*writer.lock' is a symbolic link"):
        acquire(str(tmp_path / "writer.lock"), "out")
    assert (tmp_path / "precious.txt").read_text() == "precious" and os.path.islink(tmp_path / "writer.lock")


def test_a_full_disk_while_describing_the_holder_still_locks_and_leaves_nothing(tmp_path, monkeypatch):
    def full(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    lock = acquire(str(tmp_path / "writer.lock"), "out")
    monkeypatch.undo()
    with pytest.raises(OutputBusyError, match="already being written by this process"):
        acquire(str(tmp_path / "writer.lock"), "out")
    lock.release()
    assert os.listdir(tmp_path) == []


def test_a_lock_file_planted_as_a_hard_link_is_refused_and_its_other_name_kept(tmp_path):
    (tmp_path / "precious.txt").write_text("precious")
    os.link(tmp_path / "precious.txt", tmp_path / "writer.lock")
    with pytest.raises(OutputBusyError, match="writer.lock' has other names \\(a hard link\\), not written to"):
        acquire(str(tmp_path / "writer.lock"), "out")
    assert (tmp_path / "precious.txt").read_text() == "precious"


@pytest.mark.parametrize("content", [b'{"pid": 1e400}', b"[" * 4000, b'{"pid": -1}', b"\xff\xfe", b'{"pid": "' +
                                     b"9" * 4000 + b'"}'])
def test_whatever_a_live_lock_file_holds_the_refusal_is_one_line(tmp_path, content):
    path = tmp_path / "writer.lock"
    proc = _holder(path)
    try:
        with open(path, "r+b") as f:  # anyone may write the file; the lock is the kernel's, not its content
            f.truncate(0)
            f.write(content)
        with pytest.raises(OutputBusyError) as info:
            acquire(str(path), "the test output")
        assert "(it has not said which yet)" in str(info.value) and "\n" not in str(info.value)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
