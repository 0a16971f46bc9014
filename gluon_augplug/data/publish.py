"""Publishing several finished files under their final names all together, or not at all.

A rename publishes one file atomically; a RecordIO output is two (``.rec`` and ``.idx``) or twice as many
as it has shards. :func:`publish_together` makes the set behave as one file: before the first rename it
writes a journal naming every file and a backup (a hard link) of every file it replaces. If a rename fails
(the name is a folder, a busy file, a full directory) the files already renamed are put back from their
backups, so the previous outputs stay exactly as they were. A process killed between the renames leaves
the journal: :func:`recover` (which ``augplug pack`` runs first, under the output's writer lock) completes
the publish when every new file had been renamed, and undoes it otherwise; readers refuse an output whose
journal is still there (:func:`interrupted_publish`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any, Sequence

from .. import _files
from ..errors import AugplugError, brief, short_reason

JOURNAL_SUFFIX = ".pack-journal"
_SHARD = re.compile(r"^(?P<base>.+)-\d{5}-of-\d{5}$")


class PublishError(AugplugError, OSError):
    """Finished files could not all take their final names; the previous files are as they were."""


def journal_path(base: str) -> str:
    """The journal of the output with prefix ``base`` (``base.rec`` or ``base-0000K-of-0000N.rec``)."""
    return base + JOURNAL_SUFFIX


def interrupted_publish(rec_path: str) -> str | None:
    """The journal of an unfinished publish of the output ``rec_path`` belongs to, if there is one."""
    stem = os.path.splitext(rec_path)[0]
    shard = _SHARD.match(stem)
    for base in (stem, shard["base"] if shard else None):
        if base and os.path.lexists(journal_path(base)):
            return journal_path(base)
    return None


def check_targets(finals: Sequence[str]) -> None:
    """Refuse final names that cannot take a file (a folder, a device), before anything is written."""
    for final in finals:
        if os.path.lexists(final) and not (os.path.isfile(final) or os.path.islink(final)):
            raise PublishError(f"cannot write {final!r}: it exists and is not a regular file (a folder or a link?); "
                               f"nothing was written")


def publish_together(pairs: Sequence[tuple[str, str]], journal: str) -> None:
    """Rename each finished ``temporary`` onto its ``final`` name, all of them or none.

    Raises
    ------
    PublishError
        A final name is not a regular file, or a rename failed; every final name then holds what it held
        before (or nothing, as before), and the temporaries are removed.
    """
    check_targets([final for _, final in pairs])
    entries: list[dict[str, Any]] = []
    record: dict[str, Any] = {"pid": os.getpid(), "files": entries, "undo": False}
    try:
        for temporary, final in pairs:
            final, backup = os.path.abspath(final), None
            if os.path.lexists(final):
                backup = f"{final}.old-{os.getpid()}"
                _keep_copy(final, backup)
            entries.append({"temporary": os.path.abspath(temporary), "final": final, "backup": backup})
        _files.atomic_write(journal, lambda path: _write_json(path, record))
    except OSError as exc:
        _discard([e["backup"] for e in entries] + [t for t, _ in pairs])
        raise PublishError(f"cannot publish {pairs[0][1]!r}: {short_reason(exc)} ({exc.filename or journal}); "
                           f"nothing was published") from None
    done = 0
    try:
        for entry in entries:
            os.replace(entry["temporary"], entry["final"])
            done += 1
    except BaseException as exc:
        try:  # from here on a kill leaves a journal that says "undo", whatever is renamed by then
            _files.atomic_write(journal, lambda path: _write_json(path, {**record, "undo": True}))
            _roll_back(entries)
        except OSError as undo:  # the journal stays: the next `augplug pack` to this output finishes the undo
            raise PublishError(f"cannot publish {entries[done]['final']!r} ({short_reason(exc)}), nor put the previous "
                               f"files back ({short_reason(undo)}): run the same augplug pack again to restore them "
                               f"(journal {journal!r})") from None
        _discard([journal])
        if not isinstance(exc, OSError):
            raise
        raise PublishError(f"cannot publish {entries[done]['final']!r}: {short_reason(exc)}; the previous outputs are as "
                           f"they were (nothing was published)") from None
    _discard([e["backup"] for e in entries])
    os.remove(journal)


def recover(journal: str) -> str | None:
    """Finish or undo the publish a killed process left half done; say which (None: nothing to do).

    Safe to run again if it is itself interrupted: every step checks what is still to do.

    Raises
    ------
    PublishError
        The journal is unreadable, or names files that are not this output's (naming it): remove it by
        hand once the outputs are checked.
    """
    if not os.path.lexists(journal):
        return None
    record = _read_journal(journal)
    entries = record["files"]
    if not record["undo"] and all(not os.path.lexists(e["temporary"]) for e in entries):  # every rename happened
        _discard([e["backup"] for e in entries])
        outcome = "completed"
    else:
        _roll_back(entries)
        outcome = "undone"
    os.remove(journal)
    return outcome


def _read_journal(journal: str) -> dict[str, Any]:
    """The journal's record, each file checked to be one of this output's (beside the journal, its name the
    output's, its temporary and backup the names publish_together gives them)."""
    folder = os.path.dirname(os.path.abspath(journal))
    prefix = os.path.basename(journal)[: -len(JOURNAL_SUFFIX)]
    try:
        record = json.loads(_files.read_text_bounded(journal, 1 << 20, "publish journal", PublishError))
        entries = [{k: e[k] for k in ("temporary", "final", "backup")} for e in record["files"]]
        for e in entries:
            final = e["final"]
            if not (isinstance(final, str) and os.path.dirname(final) == folder
                    and re.fullmatch(re.escape(prefix) + r"(-\d{5}-of-\d{5})?\.(rec|idx)", os.path.basename(final))):
                raise ValueError(f"it names {brief(final, 100)}, not a .rec or .idx of this output")
            if not (isinstance(e["temporary"], str) and re.fullmatch(re.escape(final) + r"\.tmp-\d{1,10}", e["temporary"])
                    and (e["backup"] is None or isinstance(e["backup"], str)
                         and re.fullmatch(re.escape(final) + r"\.old-\d{1,10}", e["backup"]))):
                raise ValueError(f"the temporary or backup of {os.path.basename(final)!r} is not named as a pack names them")
        undo = record.get("undo", False)
        if not isinstance(undo, bool):
            raise ValueError("'undo' is not true or false")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise PublishError(f"{journal}: an unfinished publish left this journal, but it is unreadable or not this "
                           f"output's ({type(exc).__name__}: {str(exc)[:200]}); check the outputs beside it and "
                           f"remove it") from None
    return {"files": entries, "undo": undo}


def remove_stale(finals: Sequence[str]) -> list[str]:
    """Remove the temporaries and backups (``FINAL.tmp-PID``, ``FINAL.old-PID``) of dead writers of ``finals``."""
    removed = []
    for final in finals:
        folder, name = os.path.split(os.path.abspath(final))
        pattern = re.compile(re.escape(name) + r"\.(tmp|old)-(\d{1,10})$")
        for entry in os.listdir(folder) if os.path.isdir(folder) else []:
            match = pattern.match(entry)
            if match and not _files.alive_elsewhere(int(match[2])):
                _discard([os.path.join(folder, entry)])
                removed.append(entry)
    return removed


def _keep_copy(final: str, backup: str) -> None:
    """A backup of ``final`` that leaves it in place: a hard link, or a copy where links are not allowed."""
    try:
        os.link(final, backup)
    except OSError:
        shutil.copy2(final, backup)


def _roll_back(entries: Sequence[dict[str, Any]]) -> None:
    """Undo a publish (a failed one, or one a killed process left half done), then remove its temporaries and
    backups."""
    _undo(entries)
    _discard([e["temporary"] for e in entries] + [e["backup"] for e in entries])


def _undo(entries: Sequence[dict[str, Any]]) -> None:
    """Put back what the renames replaced; entries not renamed yet, or already put back, are left alone."""
    for entry in reversed(entries):
        if os.path.lexists(entry["temporary"]):  # not renamed: its final name still holds the old file
            continue
        if entry["backup"]:
            if os.path.lexists(entry["backup"]):
                os.replace(entry["backup"], entry["final"])
        elif os.path.lexists(entry["final"]):  # new, where nothing was before
            os.remove(entry["final"])


def _discard(paths: Sequence[str | None]) -> None:
    for path in paths:
        if path and os.path.lexists(path):
            try:
                os.remove(path)
            except OSError:
                pass


def _write_json(path: str, record: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(record, f)
