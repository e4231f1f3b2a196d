"""APScheduler's jobs in the bot's SQLite file, through the standard library's sqlite3.

The same table as APScheduler's SQLAlchemy job store wrote before (`id`, `next_run_time` as
UTC seconds, `job_state` as the pickled job), so a database of an older version keeps its
jobs. SQLAlchemy cost a third of a CPU second at every start (its import and engine) for
one table of a dozen rows.

The store has its own connection, opened for use from APScheduler's threads; a lock keeps
one statement at a time on it, and every write is its own transaction.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

__all__ = ["SQLiteJobStore"]


class SQLiteJobStore(BaseJobStore):
    def __init__(self, path: Path | str, table: str) -> None:
        super().__init__()
        self.path = str(path)
        self.table = table
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        # autocommit off by hand: each `with self._write()` is one transaction
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
        conn.execute(
            f"create table if not exists {self.table} (id VARCHAR(191) NOT NULL PRIMARY KEY,"
            " next_run_time FLOAT, job_state BLOB NOT NULL)"
        )
        conn.execute(
            f"create index if not exists ix_{self.table}_next_run_time"
            f" on {self.table} (next_run_time)"
        )
        self._conn = conn

    def shutdown(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the job store is not started")
        return self._conn

    def lookup_job(self, job_id: str) -> Job | None:
        rows = self._read(f"select job_state from {self.table} where id = ?", (job_id,))
        return self._job(rows[0][0]) if rows else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return self._jobs("where next_run_time <= ?", (datetime_to_utc_timestamp(now),))

    def get_next_run_time(self) -> datetime | None:
        rows = self._read(
            f"select min(next_run_time) from {self.table} where next_run_time is not null"
        )
        return utc_timestamp_to_datetime(rows[0][0])  # None stays None

    def get_all_jobs(self) -> list[Job]:
        jobs = self._jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    f"insert into {self.table} (id, next_run_time, job_state) values (?, ?, ?)",
                    (job.id, *self._state(job)),
                )
        except sqlite3.IntegrityError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        with self._write() as conn:
            changed = conn.execute(
                f"update {self.table} set next_run_time = ?, job_state = ? where id = ?",
                (*self._state(job), job.id),
            ).rowcount
            if not changed:
                raise JobLookupError(job.id)

    def remove_job(self, job_id: str) -> None:
        with self._write() as conn:
            if not conn.execute(f"delete from {self.table} where id = ?", (job_id,)).rowcount:
                raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        with self._write() as conn:
            conn.execute(f"delete from {self.table}")

    @staticmethod
    def _state(job: Job) -> tuple[float | None, bytes]:
        state = pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)
        return datetime_to_utc_timestamp(job.next_run_time), state

    def _job(self, state: bytes) -> Job:
        fields = pickle.loads(state)
        fields["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(fields)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _jobs(self, where: str = "", params: tuple[Any, ...] = ()) -> list[Job]:
        """The jobs in order of their next run; one that cannot be read is logged and
        removed, as APScheduler's own stores do."""
        rows = self._read(
            f"select id, job_state from {self.table} {where} order by next_run_time", params
        )
        jobs, broken = [], []
        for job_id, state in rows:
            try:
                jobs.append(self._job(state))
            except Exception:
                self._logger.exception('Unable to restore job "%s" -- removing it', job_id)
                broken.append(job_id)
        if broken:
            with self._write() as conn:
                conn.executemany(f"delete from {self.table} where id = ?", [(b,) for b in broken])
        return jobs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({self.path})>"
