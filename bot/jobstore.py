"""APScheduler's jobs in the bot's SQLite file, through the standard library's sqlite3.

The table is the one APScheduler's SQLAlchemy store wrote (`id`, `next_run_time` in UTC
seconds, `job_state` the pickled job), so a database of an older version keeps its jobs;
SQLAlchemy cost a third of a CPU second at every start for one table of a dozen rows. The
store has its own connection, usable from APScheduler's threads: a lock keeps one statement
at a time on it, and every write is its own transaction.
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
        self.path, self.table = str(path), table
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
        t = self.table
        conn.execute(
            f"create table if not exists {t} (id VARCHAR(191) NOT NULL PRIMARY KEY,"
            " next_run_time FLOAT, job_state BLOB NOT NULL)"
        )
        conn.execute(f"create index if not exists ix_{t}_next_run_time on {t} (next_run_time)")
        self._conn = conn

    def shutdown(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection, alone; with `write`, inside BEGIN IMMEDIATE … COMMIT."""
        with self._lock:
            if self._conn is None:
                raise RuntimeError("the job store is not started")
            if not write:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def lookup_job(self, job_id: str) -> Job | None:
        with self._db() as db:
            row = db.execute(f"select job_state from {self.table} where id = ?", (job_id,))
            found = row.fetchone()
        return self._job(found[0]) if found else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return self._jobs("where next_run_time <= ?", (datetime_to_utc_timestamp(now),))

    def get_next_run_time(self) -> datetime | None:
        with self._db() as db:
            (first,) = db.execute(f"select min(next_run_time) from {self.table}").fetchone()
        return utc_timestamp_to_datetime(first)  # None stays None

    def get_all_jobs(self) -> list[Job]:
        jobs = self._jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        try:
            with self._db(write=True) as db:
                sql = f"insert into {self.table} (id, next_run_time, job_state) values (?, ?, ?)"
                db.execute(sql, (job.id, *self._state(job)))
        except sqlite3.IntegrityError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        with self._db(write=True) as db:
            sql = f"update {self.table} set next_run_time = ?, job_state = ? where id = ?"
            if not db.execute(sql, (*self._state(job), job.id)).rowcount:
                raise JobLookupError(job.id)

    def remove_job(self, job_id: str) -> None:
        with self._db(write=True) as db:
            if not db.execute(f"delete from {self.table} where id = ?", (job_id,)).rowcount:
                raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        with self._db(write=True) as db:
            db.execute(f"delete from {self.table}")

    @staticmethod
    def _state(job: Job) -> tuple[float | None, bytes]:
        state = pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)
        return datetime_to_utc_timestamp(job.next_run_time), state

    def _job(self, state: bytes) -> Job:
        fields = {**pickle.loads(state), "jobstore": self}
        job = Job.__new__(Job)
        job.__setstate__(fields)
        job._scheduler, job._jobstore_alias = self._scheduler, self._alias
        return job

    def _jobs(self, where: str = "", params: tuple[Any, ...] = ()) -> list[Job]:
        """In order of their next run; one that cannot be read is logged and removed, as
        APScheduler's own stores do."""
        with self._db() as db:
            sql = f"select id, job_state from {self.table} {where} order by next_run_time"
            rows = db.execute(sql, params).fetchall()
        jobs, broken = [], []
        for job_id, state in rows:
            try:
                jobs.append(self._job(state))
            except Exception:
                self._logger.exception('Unable to restore job "%s" -- removing it', job_id)
                broken.append((job_id,))
        if broken:
            with self._db(write=True) as db:
                db.executemany(f"delete from {self.table} where id = ?", broken)
        return jobs
