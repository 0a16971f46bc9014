"""augplug pack publishes all or nothing and has one writer: a second pack to the same output is refused, a
publish that fails midway (a folder in the way, a rename that fails, kill -9) leaves the previous outputs
exactly as they were, and a full disk or a file-size limit names the file and leaves no temporaries."""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest

from gluon_augplug._locks import OutputBusyError, acquire
from gluon_augplug.data import publish
from gluon_augplug.data.pack import pack
from gluon_augplug.io.recordio import RecordIOError
from gluon_augplug.data.streaming import RecordDataset
from gluon_augplug.errors import InputError
from tests.cli_helpers import AUGPLUG

SHARDS = [f"out-0000{i}-of-00003.{s}" for i in range(3) for s in ("rec", "idx")]


def _contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def previous(photo_tree, tmp_path):
    """A folder holding a finished 3-shard pack of the photos (what a failed repack must leave as it is)."""
    out = tmp_path / "out"
    out.mkdir()
    pack(str(photo_tree), str(out / "out"), shards=3)
    return out


def test_two_packs_to_one_output_at_once_one_wins_whole(photo_tree, tmp_path):
    out = str(tmp_path / "o")
    procs = [subprocess.Popen([AUGPLUG, "pack", str(photo_tree), out, "--resize", str(size)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for size in (48, 64)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "is being written by another process" in refused or "exists; pass --overwrite" in refused
    data = RecordDataset(out + ".rec")  # the .rec and .idx of one pack
    assert {min(data[i][0].shape[:2]) for i in range(len(data))} in ({48}, {64})
    assert sorted(os.listdir(tmp_path)) == ["o.idx", "o.rec"]


def test_a_pack_into_an_output_another_pack_holds_is_refused_at_once(photo_tree, tmp_path):
    with acquire(str(tmp_path / "o.pack-lock"), "pack: the output 'o'"):
        proc = subprocess.run([AUGPLUG, "pack", str(photo_tree), str(tmp_path / "o"), "--overwrite"],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert f"is being written by another process (pid {os.getpid()} " in proc.stderr
    assert sorted(os.listdir(tmp_path)) == []
    with pytest.raises(OutputBusyError):
        with acquire(str(tmp_path / "o.pack-lock"), "pack: the output 'o'"):
            pack(str(photo_tree), str(tmp_path / "o"))


def test_an_output_name_that_is_a_folder_is_refused_before_anything_is_written(previous, photo_tree):
    before = _contents(previous)
    os.remove(previous / SHARDS[4])
    os.mkdir(previous / SHARDS[4])
    del before[SHARDS[4]]
    with pytest.raises(publish.PublishError, match=rf"cannot write .*{SHARDS[4]}.*not a regular file"):
        pack(str(photo_tree), str(previous / "out"), shards=3, resize=40, overwrite=True)
    assert _contents(previous) == before


def test_a_rename_failing_midway_puts_every_shard_back(previous, photo_tree, monkeypatch):
    before = _contents(previous)
    real, calls = os.replace, []

    def failing(src, dst):
        if not dst.endswith("pack-journal"):
            calls.append(dst)
            if len(calls) == 4:  # the idx and rec of shard 0 and the idx of shard 1 are new by now
                raise OSError(16, "Device or resource busy")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(publish.PublishError, match=r"cannot publish .*out-00001-of-00003.rec.*Device or resource busy; "
                                                   r"the previous outputs are as they were"):
        pack(str(photo_tree), str(previous / "out"), shards=3, resize=40, overwrite=True)
    monkeypatch.undo()
    assert _contents(previous) == before  # no temporaries, backups or journal left; every byte as before


KILL_MIDWAY = """
import os, signal, sys
real = os.replace
count = [0]
def replace(src, dst):
    if ".tmp-" in src and not dst.endswith("journal"):
        count[0] += 1
        if count[0] == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
os.replace = replace
from gluon_augplug.data.pack import pack
pack(sys.argv[1], sys.argv[2], shards=3, resize=40, overwrite=True)
"""


def test_a_pack_killed_between_its_renames_is_refused_by_readers_and_undone_by_the_next(previous, photo_tree):
    before = _contents(previous)
    proc = subprocess.run([sys.executable, "-c", KILL_MIDWAY, str(photo_tree), str(previous / "out")],
                          capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert (previous / "out.pack-journal").exists()
    with pytest.raises(RecordIOError, match=r"augplug pack was stopped while publishing it .*out.pack-journal"):
        RecordDataset(str(previous / SHARDS[2]))
    with pytest.raises(InputError, match="exists; pass --overwrite"):  # the next pack first undoes the half publish
        with pytest.warns(UserWarning, match="was interrupted .* it was undone"):
            pack(str(photo_tree), str(previous / "out"), shards=3)
    assert _contents(previous) == before
    RecordDataset(str(previous / SHARDS[2]))


def test_a_publish_whose_renames_all_happened_before_the_kill_is_completed(tmp_path, monkeypatch):
    pairs = []
    for name in ("a.rec", "a.idx"):
        (tmp_path / name).write_text("old")
        (tmp_path / f"{name}.tmp-1").write_text("new")
        pairs.append((str(tmp_path / f"{name}.tmp-1"), str(tmp_path / name)))
    journal = str(tmp_path / "a.pack-journal")

    def killed(path):  # the process "dies" after its renames: none of its clean-up runs
        raise SystemExit("killed")

    monkeypatch.setattr(os, "remove", killed)
    with pytest.raises(SystemExit):
        publish.publish_together(pairs, journal)
    monkeypatch.undo()
    assert publish.recover(journal) == "completed"
    assert _contents(tmp_path) == {"a.idx": b"new", "a.rec": b"new"}


def _limited(limit):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("extra", [[], ["--shards", "3"], ["--resize", "80"]])
def test_a_file_size_limit_names_the_file_and_leaves_no_temporaries(previous, photo_tree, extra):
    before = _contents(previous)
    proc = subprocess.run([AUGPLUG, "pack", str(photo_tree), str(previous / "out"), "--overwrite", *extra],
                          capture_output=True, text=True, timeout=300, preexec_fn=_limited(20_000))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "pack: cannot write " in proc.stderr and ".tmp-" in proc.stderr and "File too large" in proc.stderr
    assert "nothing was published and the temporary files were removed" in proc.stderr
    assert _contents(previous) == before


def test_abort_removes_the_temporaries_when_closing_fails_again(tmp_path):
    script = f"""
import os
from gluon_augplug.io.recordio import RecordWriter
w = RecordWriter({str(tmp_path / 'x.rec')!r})
try:
    w.write_image(0, 1.0, b"x" * 50_000)  # buffered: the limit is hit here or at the flush
    w.finish()
except OSError as exc:
    print("error names", exc.filename)
    w.abort()
print(sorted(os.listdir({str(tmp_path)!r})))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          preexec_fn=_limited(10_000))
    assert proc.returncode == 0, proc.stderr
    assert f"error names {tmp_path / 'x.rec'}.tmp-" in proc.stdout and proc.stdout.strip().endswith("[]")


def test_a_prefix_that_names_another_packs_shard_shares_its_lock(photo_tree, tmp_path):
    with acquire(str(tmp_path / "z-00000-of-00003.pack-lock"), "pack: the output 'z-00000-of-00003'"):
        with pytest.raises(OutputBusyError, match="z-00000-of-00003' is already being written by this process"):
            pack(str(photo_tree), str(tmp_path / "z"), shards=3)
    assert os.listdir(tmp_path) == []


KILL_IN_RECOVERY = """
import os, signal, sys
real = os.replace
def replace(src, dst):
    if ".old-" in src:  # the first file put back: killed again
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
os.replace = replace
from gluon_augplug.data.pack import pack
pack(sys.argv[1], sys.argv[2], shards=3)
"""


def test_a_recovery_killed_midway_is_finished_by_the_next_pack(previous, photo_tree):
    before = _contents(previous)
    for script in (KILL_MIDWAY, KILL_IN_RECOVERY):
        proc = subprocess.run([sys.executable, "-c", script, str(photo_tree), str(previous / "out")],
                              capture_output=True, timeout=300)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert (previous / "out.pack-journal").exists()
    with pytest.raises(InputError, match="exists; pass --overwrite"):
        with pytest.warns(UserWarning, match="it was undone"):
            pack(str(photo_tree), str(previous / "out"), shards=3)
    assert _contents(previous) == before


@pytest.mark.parametrize("content, message", [
    ("[" * 100_000 + "]" * 100_000, "RecursionError"),
    ('{"files": [{"temporary": "%(v)s/victim1", "final": "%(v)s/victim2", "backup": null}]}',
     "names '.*victim2', not a .rec or .idx of this output"),
    ('{"files": [{"temporary": "%(o)s/out.rec.tmp-1", "final": "%(o)s/out.rec", "backup": "%(v)s/victim1"}]}',
     "the temporary or backup of 'out.rec' is not named as a pack names them"),
    ('{"files": 5}', "TypeError"),
    ('{"undo": true, "files": [{"temporary": "%(o)s/out_v2.rec.tmp-1", "final": "%(o)s/out_v2.rec", "backup": null}]}',
     "names '.*out_v2.rec', not a .rec or .idx of this output"),
])
def test_a_hostile_journal_is_refused_by_name_and_touches_nothing(photo_tree, tmp_path, content, message):
    victims, out = tmp_path / "victims", tmp_path / "out"
    victims.mkdir()
    out.mkdir()
    for name in ("victim1", "victim2"):
        (victims / name).write_text("mine")
    (out / "out.pack-journal").write_text(content % {"v": victims, "o": out} if "%(" in content else content)
    with pytest.raises(publish.PublishError, match=f"an unfinished publish left this journal, but it is unreadable "
                                                   f"or not this output's .*{message}"):
        pack(str(photo_tree), str(out / "out"))
    assert _contents(victims) == {"victim1": b"mine", "victim2": b"mine"}
    assert sorted(os.listdir(out)) == ["out.pack-journal"]


def test_a_journal_never_reaches_a_sibling_output_whose_name_starts_alike(photo_tree, tmp_path):
    pack(str(photo_tree), str(tmp_path / "cats_v2"))
    sibling = _contents(tmp_path)
    journal = {"undo": True, "files": [{"temporary": str(tmp_path / "cats_v2.rec.tmp-1"),
                                        "final": str(tmp_path / "cats_v2.rec"), "backup": None}]}
    (tmp_path / "cats.pack-journal").write_text(json.dumps(journal))
    with pytest.raises(publish.PublishError, match="not a .rec or .idx of this output"):
        pack(str(photo_tree), str(tmp_path / "cats"))
    assert {name: data for name, data in _contents(tmp_path).items() if name.startswith("cats_v2")} == sibling
