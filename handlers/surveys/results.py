"""A survey's results: counts, a tally per question (the console's tables and charts), and
the XLSX export — one row per enterprise (its latest submitted response), one column per
question, and a sheet of the tallies.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from bot.db import from_db
from handlers.surveys.answers import shown
from handlers.surveys.model import Question
from handlers.surveys.store import SUBMITTED, Response, Survey, SurveyStore
from sheets import Percent, Sheet, write_xlsx

__all__ = ["Results", "Tally", "by_enterprise", "labels", "results", "write_export"]


@dataclass(frozen=True)
class Tally:
    """One question's answers among the submitted responses."""

    question: Question
    answered: int
    skipped: int
    #: (label, count) for a choice or the scale; empty for number and text
    counts: list[tuple[str, int]] = field(default_factory=list)
    #: number and scale: mean, median, min, max, sum (None without answers)
    stats: dict[str, float | None] = field(default_factory=dict)
    #: text: (who, answer)
    texts: list[tuple[str, str]] = field(default_factory=list)

    def share(self, count: int) -> float:
        return count / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class Results:
    survey: Survey
    started: int  # started and not submitted
    submitted: int
    invited: int  # contacts sent it privately
    groups: int  # member groups told
    tallies: list[Tally]


def labels(render: Callable[..., str]) -> dict[str, str]:
    """surveys_export_labels.j2 as a mapping: key → the column title in words."""
    out: dict[str, str] = {}
    for line in render("surveys_export_labels").splitlines():
        key, sep, label = line.partition("|")
        if sep:
            out[key.strip()] = label.strip()
    return out


def _who(r: Response) -> str:
    return r.enterprise or r.contact_name or r.contact_id


def _tally(q: Question, done: list[Response]) -> Tally:
    values = [(r, r.answers.get(q.id)) for r in done]
    given = [(r, v) for r, v in values if v is not None]
    skipped = len(values) - len(given)
    if q.kind in ("single", "multiple"):
        counts = dict.fromkeys(q.options, 0)
        for _, v in given:
            for option in v if isinstance(v, list) else [v]:
                if option in counts:
                    counts[option] += 1
        return Tally(q, len(given), skipped, list(counts.items()))
    if q.kind in ("number", "scale"):
        numbers = [float(v) for _, v in given if isinstance(v, int | float)]
        stats: dict[str, float | None] = {
            "mean": round(statistics.fmean(numbers), 2) if numbers else None,
            "median": statistics.median(numbers) if numbers else None,
            "min": min(numbers, default=None),
            "max": max(numbers, default=None),
            "sum": sum(numbers) if numbers else None,
        }
        counts_ = [(str(n), sum(1 for x in numbers if x == n)) for n in range(1, 6)]
        return Tally(q, len(given), skipped, counts_ if q.kind == "scale" else [], stats)
    return Tally(q, len(given), skipped, texts=[(_who(r), str(v)) for r, v in given])


def results(store: SurveyStore, survey: Survey) -> Results:
    responses = store.responses(survey.id)
    done = [r for r in responses if r.status == SUBMITTED]
    return Results(
        survey,
        started=len(responses) - len(done),
        submitted=len(done),
        invited=len(store.sends(survey.id, "contact")),
        groups=len(store.sends(survey.id, "group")),
        tallies=[_tally(q, done) for q in survey.definition.questions],
    )


def by_enterprise(store: SurveyStore, survey: Survey) -> list[Response]:
    """The submitted responses, one per enterprise (its latest), by enterprise name."""
    latest: dict[str, Response] = {}
    for r in store.responses(survey.id, SUBMITTED):
        key = r.enterprise or f"#{r.contact_id}"
        if key not in latest or (r.submitted_at or "") >= (latest[key].submitted_at or ""):
            latest[key] = r
    return [latest[k] for k in sorted(latest)]


def _cell(q: Question, value: object) -> Any:
    if q.kind in ("number", "scale") and isinstance(value, int | float):
        return value
    return shown(q, value) or None


def write_export(
    store: SurveyStore,
    survey: Survey,
    heads: dict[str, str],
    tz: tzinfo,
    target: Path | IO[bytes],
) -> None:
    """The workbook: 回答 (one row per enterprise) and 汇总 (each question's tally).
    `heads` are the column titles in words (the caller's template)."""
    questions = survey.definition.questions
    rows: list[list[Any]] = []
    for r in by_enterprise(store, survey):
        at: datetime | None = from_db(r.submitted_at).astimezone(tz) if r.submitted_at else None
        rows.append(
            [r.enterprise or "", r.contact_name or r.contact_id,
             at.replace(tzinfo=None) if at else None]
            + [_cell(q, r.answers.get(q.id)) for q in questions]
        )  # fmt: skip
    header = [heads["enterprise"], heads["contact"], heads["submitted_at"]]
    header += [f"{q.number}. {q.text}" for q in questions]
    summary: list[list[Any]] = []
    for t in results(store, survey).tallies:
        title = f"{t.question.number}. {t.question.text}"
        for label, count in t.counts:
            summary.append([title, label, count, Percent(t.share(count))])
        for name, value in t.stats.items():
            if t.question.kind == "number" and value is not None:
                summary.append([title, heads[name], value, None])
        summary.append([title, heads["skipped"], t.skipped, None])
    write_xlsx(
        [
            Sheet(heads["answers"], header, rows, widths=[24, 10, 16] + [18] * len(questions)),
            Sheet(
                heads["summary"],
                [heads["question"], heads["option"], heads["count"], heads["share"]],
                summary,
                widths=[40, 20, 10, 10],
                filtered="header",
            ),
        ],
        target,
    )
