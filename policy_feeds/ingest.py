"""Run every policy source once: fetch (I/O, in threads), then store (one transaction each).

`ingest_all(app)` is the one place that writes fetch results: the `feeds` row (validators,
moved URL, status, last error), the policies through the library's store, and, when a
feed answers 410 Gone, the staff-room notice (template policy_feed_gone) into the outbox —
all in the same transaction per source. A source that fails is logged with its reason and
kept in `feeds.last_error`; the others go on. A disabled feed is skipped until its URL in
the config changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.db import to_db
from bot.messages import Outgoing
from policy_feeds.library import PolicyLibrary
from policy_feeds.model import FeedState, FetchResult, Source, Status
from policy_feeds.store import Outcome
from policy_feeds.tagging import Tagger

if TYPE_CHECKING:
    from bot.services import Services

__all__ = [
    "IngestReport",
    "SourceReport",
    "fetch_in_order",
    "ingest_all",
    "ingest_async",
    "ingest_job",
    "store_result",
]

log = logging.getLogger(__name__)

ACTIVE, DISABLED = "active", "disabled"
MAX_WORKERS = 4


@dataclass
class SourceReport:
    source: str
    kind: str
    status: Status
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    message: str = ""
    problems: tuple[str, ...] = ()
    notices: list[Outgoing] = field(default_factory=list)  # already queued in the outbox
    reason: str = ""  # the source's own answer (message adds what ingest did about it)
    moved_to: str | None = None  # a permanent redirect: the URL stored from now on


@dataclass
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def notices(self) -> list[Outgoing]:
        return [n for s in self.sources for n in s.notices]

    @property
    def added(self) -> int:
        return sum(s.added for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    def by_source(self) -> dict[str, SourceReport]:
        return {s.source: s for s in self.sources}


def _feed_state(app: Services, source: Source) -> tuple[FeedState, str, str]:
    """The stored state (created, or reset when the configured URL changed)."""
    table = app.db.table("feeds")
    rows = list(table.rows_where("id = ?", [source.id]))
    fresh = {
        "id": source.id,
        "kind": source.kind,
        "url": source.url,
        "config_url": source.url,
        "etag": None,
        "last_modified": None,
        "status": ACTIVE,
        "last_error": None,
    }
    if not rows:
        table.insert(fresh)
        return FeedState(source.url), ACTIVE, ""
    row = rows[0]
    if row["config_url"] is None:
        table.update(source.id, {"config_url": source.url, "kind": source.kind})
    elif row["config_url"] != source.url:
        table.update(source.id, fresh)
        return FeedState(source.url), ACTIVE, ""
    state = FeedState(row["url"], row["etag"], row["last_modified"])
    return state, row["status"] or ACTIVE, row["last_error"] or ""


def _fetch(source: Source, state: FeedState) -> FetchResult:
    try:
        return source.fetch(state)
    except Exception as exc:  # a bug in one source must not stop the others
        log.exception("policy source %s failed", source.id)
        return FetchResult(Status.ERROR, message=f"{type(exc).__name__}: {exc}")


Job = tuple[Source, FeedState]
Progress = Callable[[SourceReport], None]


def fetch_in_order(jobs: Sequence[Job]) -> Iterator[FetchResult]:
    """Fetch in parallel (I/O only: no database here, safe in worker threads), yielding the
    results in the order of `jobs`, each as soon as it and the ones before it are done."""
    if len(jobs) <= 1:
        yield from (_fetch(s, st) for s, st in jobs)
        return
    with ThreadPoolExecutor(min(MAX_WORKERS, len(jobs)), "policy-fetch") as pool:
        yield from pool.map(lambda job: _fetch(*job), jobs)


def fetch_sources(jobs: Sequence[Job]) -> list[FetchResult]:
    return list(fetch_in_order(jobs))


def _log(report: SourceReport, url: str) -> None:
    if report.status is Status.ERROR:
        log.error("policy source %s (%s): %s", report.source, url, report.message)
    elif report.status in (Status.WARNING, Status.GONE):
        log.warning("policy source %s (%s): %s", report.source, url, report.message)
    for problem in report.problems:
        log.warning("policy source %s: skipped %s", report.source, problem)


def store_result(
    app: Services,
    source: Source,
    state: FeedState,
    result: FetchResult,
    tagger: Tagger,
    now: datetime,
) -> SourceReport:
    """Write one source's fetch result and notices in one transaction."""
    report = SourceReport(
        source.id,
        source.kind,
        result.status,
        message=result.message,
        problems=result.problems,
        reason=result.message,
        moved_to=result.moved_to,
    )
    url = result.moved_to or state.url
    changes: dict[str, Any] = {"url": url, "last_checked_at": to_db(now)}
    if result.status in (Status.OK, Status.NOT_MODIFIED):
        changes.update(etag=result.etag, last_modified=result.last_modified, last_error=None)
    else:
        changes["last_error"] = result.message
    if result.status is Status.GONE:
        changes["status"] = DISABLED
        report.message = f"{result.message}: feed disabled, staff told"
        report.notices = app.notices.to_staff(
            "policy_feed_gone", feed=source.id, url=url, reason=result.message
        )
    if result.moved_to:
        moved = f"moved permanently to {result.moved_to}"
        report.message = f"{moved}; {report.message}" if report.message else moved
    store = app.service(PolicyLibrary).store
    with app.db.atomic():
        app.db.table("feeds").update(source.id, changes)
        for item in result.items:
            outcome = store.upsert(tagger.tag(item), source.id, now).outcome
            if outcome is Outcome.ADDED:
                report.added += 1
            elif outcome is Outcome.UPDATED:
                report.updated += 1
            else:
                report.unchanged += 1
        if report.notices:
            app.outbox.enqueue(report.notices, dedupe_key=f"policy_feed_gone:{source.id}:{url}")
    _log(report, url)
    return report


def _prepare(
    app: Services, sources: Sequence[Source] | None, base_dir: Path | None
) -> tuple[list[Source], list[Job], dict[str, SourceReport]]:
    if sources is None:
        sources = app.service(PolicyLibrary).sources(base_dir)
    jobs: list[Job] = []
    skipped: dict[str, SourceReport] = {}
    with app.db.atomic():
        for source in sources:
            state, status, last_error = _feed_state(app, source)
            if status == DISABLED:
                skipped[source.id] = SourceReport(
                    source.id, source.kind, Status.DISABLED, message=last_error, reason=last_error
                )
            else:
                jobs.append((source, state))
    return list(sources), jobs, skipped


def _finish(
    app: Services,
    sources: list[Source],
    jobs: list[Job],
    results: list[FetchResult],
    done: dict[str, SourceReport],
) -> IngestReport:
    tagger = app.service(PolicyLibrary).tagger
    now = app.clock.now()
    for (source, state), result in zip(jobs, results, strict=True):
        done[source.id] = store_result(app, source, state, result, tagger, now)
    return IngestReport([done[s.id] for s in sources])


def ingest_all(
    app: Services,
    *,
    sources: Sequence[Source] | None = None,
    base_dir: Path | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetch every source once and store what came back; returns a per-source report,
    in the order of `sources`.

    sources: defaults to the configured folder and feeds (`PolicyLibrary.sources`), with
    relative paths resolved against `base_dir` (default: the config file's folder,
    `app.base_dir`).
    progress: called with each source's report as soon as it is stored. The fetches run
    in parallel, but are stored (and reported) in the order of `sources`, a result
    waiting for the slower sources before it: the first source to store a policy owns it
    (policy_feeds.store), so the curated folder keeps precedence over the feeds, and the
    stored rows do not depend on which server answered first.
    """
    every, jobs, done = _prepare(app, sources, base_dir)
    tagger = app.service(PolicyLibrary).tagger
    fetched = zip(jobs, fetch_in_order(jobs), strict=True)
    for source in every:
        if source.id not in done:  # not disabled: the next fetch in order is this one's
            (_, state), result = next(fetched)
            done[source.id] = store_result(app, source, state, result, tagger, app.clock.now())
        if progress:
            progress(done[source.id])
    for _ in fetched:  # nothing left; ends the generator, which shuts its thread pool down
        pass
    return IngestReport([done[s.id] for s in every])


async def ingest_async(
    app: Services, *, sources: Sequence[Source] | None = None, base_dir: Path | None = None
) -> IngestReport:
    """`ingest_all` with the network part in a worker thread, for the running bot."""
    every, jobs, done = _prepare(app, sources, base_dir)
    results = await asyncio.to_thread(fetch_sources, jobs)
    return _finish(app, every, jobs, results, done)


async def ingest_job() -> None:
    """What APScheduler runs every `policies.fetch_interval_minutes`."""
    from bot.scheduler import running_services

    report = await ingest_async(running_services())
    log.info("policy fetch: %d new, %d updated", report.added, report.updated)
