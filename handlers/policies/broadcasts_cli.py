"""`chamberbot broadcast …` and `chamberbot group …`: digests and group tags from the shell.

    chamberbot broadcast add ID --cron "0 9 * * 1" [--target EXPR] [--template NAME]
                                [--max-items N]                       --config FILE
    chamberbot broadcast list | remove ID | preview ID [--group NAME] | run ID
    chamberbot group list | tag GROUP [TAG …] [--clear]

Broadcasts added here are stored with origin `cli` (the config's own are synced at every
start and cannot be changed here). add/remove also update the scheduler's job store, so a
running bot picks the change up at its next wake-up. `run` queues a run for now; the
running bot's sender delivers it. Output goes through bot/templates/broadcast_cli.j2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.feature import command_options, with_services
from bot.scheduler import cron_trigger, store_jobs
from bot.services import Services
from bot.targeting import split_tags
from handlers.policies.broadcast_defs import (
    BroadcastDef,
    get_broadcast,
    list_broadcasts,
)
from handlers.policies.broadcast_edit import CONFIG_OWNED, remove_broadcast, save_broadcast
from handlers.policies.broadcast_schedule import broadcast_job_id
from handlers.policies.broadcasts import plan_digest, run_broadcast, target_groups

__all__ = ["register"]

OK, NOT_FOUND, INVALID = 0, 1, 2  # exit codes; a failed run exits 1 too


def _say(app: Services, kind: str, *, error: bool = False, **context: Any) -> None:
    text = app.templates.render("broadcast_cli", kind=kind, **context)
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")
    stream.flush()


# -- broadcast ------------------------------------------------------------------------------


def _next_run(app: Services, broadcast: BroadcastDef) -> Any:
    return cron_trigger(broadcast.cron, app.config.tz).get_next_fire_time(None, app.clock.now())


def _add(app: Services, args: argparse.Namespace) -> int:
    wanted = BroadcastDef(args.id, args.cron, args.target, args.template, args.max_items)
    old = get_broadcast(app, args.id)
    problem = save_broadcast(app, wanted)
    if problem == CONFIG_OWNED:
        _say(app, "config_owned", error=True, id=args.id)
        return NOT_FOUND
    if problem is not None:
        _say(app, "invalid", error=True, field=problem[0], reason=problem[1])
        return INVALID
    asyncio.run(store_jobs(app))
    _say(app, "added", broadcast=wanted, replaced=old is not None, next_run=_next_run(app, wanted))
    return OK


def _list(app: Services, args: argparse.Namespace) -> int:
    rows = [
        {"broadcast": b, "next_run": _next_run(app, b), "groups": len(target_groups(app, b))}
        for b in list_broadcasts(app)
    ]
    _say(app, "list", rows=rows, tz=app.config.timezone)
    return OK


def _remove(app: Services, args: argparse.Namespace) -> int:
    broadcast = get_broadcast(app, args.id)
    if broadcast is None:
        _say(app, "not_found", error=True, id=args.id, known=[b.id for b in list_broadcasts(app)])
        return NOT_FOUND
    if not remove_broadcast(app, broadcast):
        _say(app, "config_owned", error=True, id=broadcast.id)
        return NOT_FOUND
    asyncio.run(store_jobs(app))
    _say(app, "removed", id=broadcast.id, job=broadcast_job_id(broadcast.id))
    return OK


def _preview(app: Services, args: argparse.Namespace) -> int:
    broadcast = get_broadcast(app, args.id)
    if broadcast is None:
        _say(app, "not_found", error=True, id=args.id, known=[b.id for b in list_broadcasts(app)])
        return NOT_FOUND
    targets = target_groups(app, broadcast)
    groups = targets
    if args.group:
        group = app.places.find_group(args.group)
        if group is None:
            names = [g.name for g in app.places.member_groups()]
            _say(app, "no_group", error=True, name=args.group, groups=names)
            return NOT_FOUND
        groups = [group]
    if not groups:
        _say(app, "no_targets", id=broadcast.id)
    for group in groups:
        digest = plan_digest(app, broadcast, group)
        _say(
            app,
            "preview",
            broadcast=broadcast,
            group=group.name,
            targeted=group in targets,
            count=len(digest.items),
            parts=len(digest.texts),
            texts=digest.texts,
        )
    return OK


def _run(app: Services, args: argparse.Namespace) -> int:
    broadcast = get_broadcast(app, args.id)
    if broadcast is None or not broadcast.enabled:
        _say(app, "not_found", error=True, id=args.id, known=[b.id for b in list_broadcasts(app)])
        return NOT_FOUND
    now = app.clock.now().replace(microsecond=0)
    report = run_broadcast(app, broadcast.id, now)
    assert report is not None
    names = {g.id: g.name for g in app.places.member_groups()}
    sent = [{"group": names.get(k, k), "messages": v} for k, v in report.messages.items()]
    _say(app, "ran", id=broadcast.id, sent=sent, failed=report.failed)
    return NOT_FOUND if report.failed else OK


# -- group ----------------------------------------------------------------------------------


def _groups(app: Services, args: argparse.Namespace) -> int:
    _say(app, "groups", groups=app.places.member_groups())
    return OK


def _tag(app: Services, args: argparse.Namespace) -> int:
    group = app.places.find_group(args.group)
    if group is None:
        names = [g.name for g in app.places.member_groups()]
        _say(app, "no_group", error=True, name=args.group, groups=names)
        return NOT_FOUND
    tags = [] if args.clear else split_tags(" ".join(args.tags))
    if not tags and not args.clear:
        _say(app, "group_tags", group=group.name, tags=list(group.tags), changed=False)
        return OK
    app.places.set_tags(group.id, tags)
    _say(app, "group_tags", group=group.name, tags=tags, changed=True)
    return OK


# -- wiring -----------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `broadcast` and `group` to the `chamberbot` command."""
    common = command_options()

    broadcast = subparsers.add_parser("broadcast", help="scheduled policy digests")
    actions = broadcast.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[common], help="add (or change) a broadcast")
    add.add_argument("id", help="the broadcast's id, e.g. weekly")
    add.add_argument("--cron", required=True, help='five crontab fields, e.g. "0 9 * * 1"')
    add.add_argument("--target", default="all", help="all, or a tag expression: 融资 & !餐饮")
    add.add_argument("--template", default="digest", help="template name (bot/templates)")
    add.add_argument(
        "--max-items", type=int, default=8, dest="max_items", help="most policies (default 8)"
    )
    add.set_defaults(**with_services(_add))
    listing = actions.add_parser("list", parents=[common], help="every broadcast")
    listing.set_defaults(**with_services(_list))
    remove = actions.add_parser("remove", parents=[common], help="remove a CLI broadcast")
    remove.add_argument("id", help="the broadcast's id")
    remove.set_defaults(**with_services(_remove))
    preview = actions.add_parser("preview", parents=[common], help="render, send nothing")
    preview.add_argument("id", help="the broadcast's id")
    preview.add_argument("--group", help="one group (name or id); default: every target")
    preview.set_defaults(**with_services(_preview))
    run = actions.add_parser("run", parents=[common], help="run a broadcast now")
    run.add_argument("id", help="the broadcast's id")
    run.set_defaults(**with_services(_run))

    group = subparsers.add_parser("group", help="member groups and their tags")
    group_actions = group.add_subparsers(dest="action", required=True)
    glist = group_actions.add_parser("list", parents=[common], help="member groups and tags")
    glist.set_defaults(**with_services(_groups))
    tag = group_actions.add_parser("tag", parents=[common], help="set a group's tags")
    tag.add_argument("group", help="group name or id")
    tag.add_argument("tags", nargs="*", help="the tags (none: show the current ones)")
    tag.add_argument("--clear", action="store_true", help="remove every tag")
    tag.set_defaults(**with_services(_tag))
