"""Backups of the one SQLite file while the bot runs, and a restore that refuses a live bot.

- `backup` copies the database through SQLite's online backup API
  (`sqlite3.Connection.backup`, all pages in one step, so the copy is one consistent
  snapshot even in WAL mode with the bot writing), checks the copy with
  `PRAGMA integrity_check` and only then moves it into place.
- `RunLock` is held by a running bot (`chamberbot run` / `demo`): an exclusive `flock` on
  `<database>.lock`, which also records the pid for the message. The kernel drops the
  lock when the process ends, however it ends, so a crashed bot never blocks a restore.
- `restore` takes the same lock (so no bot can start meanwhile), checks the backup, keeps
  the current database as `<database>.before-restore-<time>`, and writes the backup into
  place through the backup API (which also resets the WAL).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

__all__ = ["BackupError", "RunLock", "backup", "integrity", "restore"]


class BackupError(Exception):
    """Printed as is; exit code 1."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class RunLock:
    """An exclusive, crash-safe claim on a database file (see the module docstring)."""

    def __init__(self, db_path: Path) -> None:
        self.path = lock_path(db_path)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise BackupError naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise BackupError(
                f"{self.path.with_suffix('')} is in use by a running bot (pid {holder}); "
                "stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def integrity(path: Path) -> str:
    """`ok`, or what PRAGMA integrity_check found (also when the file is not a database)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            rows = con.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in con.execute("select name from sqlite_master")}
    except sqlite3.DatabaseError as exc:
        return str(exc)
    result = "; ".join(str(r[0]) for r in rows)
    if result == "ok" and "cases" not in tables:
        return "not a chamberbot database (no cases table)"
    return result


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(path)
    try:
        yield con
    finally:
        con.close()


def backup(db_path: Path, out: Path) -> None:
    """A consistent copy of a (possibly running) database at `out`."""
    if not db_path.exists():
        raise BackupError(f"{db_path}: no such database")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    with _connect(db_path) as source, _connect(partial) as target:
        source.execute("PRAGMA busy_timeout=5000")
        source.backup(target)  # pages=-1: one step, one snapshot
        target.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    found = integrity(partial)
    if found != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"{out}: the copy failed its integrity check: {found}")
    partial.replace(out)


def restore(backup_file: Path, db_path: Path, now: datetime) -> Path | None:
    """Put `backup_file` in place of `db_path`; returns where the old database was kept."""
    found = integrity(backup_file)
    if found != "ok":
        raise BackupError(f"{backup_file}: not restored: {found}")
    with RunLock(db_path):
        kept: Path | None = None
        if db_path.exists():
            kept = db_path.with_name(f"{db_path.name}.before-restore-{now:%Y%m%d-%H%M%S}")
            backup(db_path, kept)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with _connect(backup_file) as source, _connect(db_path) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        return kept
