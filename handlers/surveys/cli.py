"""`chamberbot surveys …`: the secretariat's surveys from the shell.

    chamberbot surveys load FILE.yaml                       define (or replace a draft by key)
    chamberbot surveys list | show N | results N | close N
    chamberbot surveys send N [--groups EXPR] [--industry X …] [--size X …] [--region X …]
                              [--qualification X …] [--everyone]
    chamberbot surveys export N --out FILE.xlsx

A definition that cannot be used prints `FILE: key: reason` and exits 2; an unknown survey
exits 1; a survey that cannot be sent (closed, no one matches) exits 2. Output goes through
handlers/surveys/templates/surveys_cli.j2. Sends are queued in the bot's SQLite file; a
running bot sends them within about a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.feature import SubParsers, command_options, with_services
from bot.people import Actor
from bot.services import Services
from handlers.enterprises.service import ProfileFilter
from handlers.surveys.model import DefinitionError
from handlers.surveys.results import labels, results, write_export
from handlers.surveys.service import Audience, SurveyRefused, SurveyService
from handlers.surveys.store import Survey

__all__ = ["CLI", "register"]

OK, NOT_FOUND, INVALID = 0, 1, 2
CLI = Actor("cli", "命令行")


def _say(app: Services, kind: str, *, error: bool = False, **context: Any) -> None:
    stream = sys.stderr if error else sys.stdout
    text = app.templates.render("surveys_cli", kind=kind, now=app.clock.now(), **context)
    stream.write(text + "\n")
    stream.flush()


def _problem(path: Path, key: str, reason: str) -> None:
    """A definition that cannot be used, as every bad file is reported: file: key: reason."""
    sys.stderr.write(f"{path}: {key}: {reason}\n")


def _load(app: Services, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _problem(path, "(file)", str(exc.strerror or exc))
        return INVALID
    except yaml.YAMLError as exc:
        _problem(path, "(top level)", f"not valid YAML: {getattr(exc, 'problem', exc)}")
        return INVALID
    try:
        survey = app.service(SurveyService).define(data, CLI)
    except DefinitionError as exc:
        _problem(path, exc.key, exc.reason)
        return INVALID
    except SurveyRefused as exc:
        _say(app, "refused", error=True, code=exc.code, **exc.context)
        return INVALID
    _say(app, "loaded", survey=survey)
    return OK


def _list(app: Services, args: argparse.Namespace) -> int:
    svc = app.service(SurveyService)
    rows = [(s, results(svc.store, s)) for s in svc.all()]
    _say(app, "list", rows=rows)
    return OK


def _show(app: Services, survey: Survey, args: argparse.Namespace) -> int:
    _say(app, "show", survey=survey, r=results(app.service(SurveyService).store, survey))
    return OK


def _send(app: Services, survey: Survey, args: argparse.Namespace) -> int:
    dims = {
        "industries": tuple(args.industry or ()),
        "sizes": tuple(args.size or ()),
        "regions": tuple(args.region or ()),
        "qualifications": tuple(args.qualification or ()),
    }
    profile = ProfileFilter(**dims) if any(dims.values()) else None
    if not (args.groups or profile or args.everyone):
        _say(app, "no_audience", error=True)
        return INVALID
    audience = Audience(groups=args.groups, profile=profile, everyone=args.everyone)
    try:
        sent = app.service(SurveyService).send(survey.id, audience, CLI)
    except SurveyRefused as exc:
        _say(app, "refused", error=True, code=exc.code, **exc.context)
        return INVALID
    _say(app, "sent", survey=survey, sent=sent)
    return OK


def _close(app: Services, survey: Survey, args: argparse.Namespace) -> int:
    try:
        survey = app.service(SurveyService).close(survey.id, CLI)
    except SurveyRefused as exc:
        _say(app, "refused", error=True, code=exc.code, **exc.context)
        return INVALID
    _say(app, "closed", survey=survey)
    return OK


def _export(app: Services, survey: Survey, args: argparse.Namespace) -> int:
    out = Path(args.out)
    svc = app.service(SurveyService)
    write_export(svc.store, survey, labels(app.templates.render), app.config.tz, out)
    _say(app, "exported", survey=survey, path=str(out), r=results(svc.store, survey))
    return OK


def _run(action: Callable[..., int], *, needs_survey: bool = True) -> dict[str, Any]:
    def run(app: Services, args: argparse.Namespace) -> int:
        if not needs_survey:
            return action(app, args)
        survey = app.service(SurveyService).get(args.number)
        if survey is None:
            _say(app, "not_found", error=True, number=args.number)
            return NOT_FOUND
        return action(app, survey, args)

    return with_services(run)


def register(subparsers: SubParsers) -> None:
    """Add `surveys` to the `chamberbot` command."""
    common = command_options()
    numbered = argparse.ArgumentParser(add_help=False, parents=[common])
    numbered.add_argument("number", type=int, help="the survey's number")
    surveys = subparsers.add_parser("surveys", help="问卷: define, send, results, export")
    actions = surveys.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", parents=[common], help="define a survey from YAML")
    load.add_argument("file", help="the survey's YAML (see handlers/surveys/examples)")
    load.set_defaults(**_run(_load, needs_survey=False))
    listing = actions.add_parser("list", parents=[common], help="every survey and its counts")
    listing.set_defaults(**_run(_list, needs_survey=False))
    for name, action, text in (
        ("show", _show, "one survey: its questions and per-question results"),
        ("results", _show, "the same as show"),
        ("close", _close, "stop taking answers now"),
    ):
        sub = actions.add_parser(name, parents=[numbered], help=text)
        sub.set_defaults(**_run(action))
    sender = actions.add_parser("send", parents=[numbered], help="send it (once per place)")
    sender.add_argument("--groups", help="member groups: all, or a tag expression: 制造业 | 外贸")
    for option, text in (
        ("industry", "enterprises of this industry (repeatable)"),
        ("size", "enterprises of this size (repeatable)"),
        ("region", "enterprises in this region (repeatable)"),
        ("qualification", "enterprises with this qualification (repeatable)"),
    ):
        sender.add_argument(f"--{option}", action="append", help=text)
    sender.add_argument(
        "--everyone", action="store_true", help="every member group and every enterprise"
    )
    sender.set_defaults(**_run(_send))
    export = actions.add_parser("export", parents=[numbered], help="one row per enterprise")
    export.add_argument("--out", required=True, help="the .xlsx file to write")
    export.set_defaults(**_run(_export))
