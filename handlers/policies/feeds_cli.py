"""`chamberbot policy add | list | search | fetch`: the policy library from the shell.

Wired into bot/cli.py with `register(sub)`. Every command takes `--config` (default: the
demo config) and `--db` (default: the config's database; for the demo, ./data/demo.db, the
file `chamberbot demo` uses).
"""

from __future__ import annotations

import argparse
import sys
from datetime import tzinfo

from bot.feature import command_options, with_services
from bot.services import Services
from policy_feeds.ingest import SourceReport, ingest_all
from policy_feeds.library import PolicyLibrary
from policy_feeds.manual import add_manual
from policy_feeds.model import Item, Policy, Status, clean_text, parse_date, split_tags

__all__ = ["format_policy", "register"]


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def format_policy(policy: Policy, tz: tzinfo) -> str:
    """`#12  2026-11-10  国务院办公厅  标题  #融资 #浙江` and the URL on the next line."""
    day = f"{policy.published_at.astimezone(tz):%Y-%m-%d}" if policy.published_at else "—"
    line = f"#{policy.id}  {day}  {policy.issuer or '—'}  {policy.title}"
    if policy.tags:
        line += "  " + " ".join(f"#{t}" for t in policy.tags)
    return line + (f"\n    {policy.url}" if policy.url else "")


def _add(app: Services, args: argparse.Namespace) -> int:
    published = parse_date(args.date, app.config.tz) if args.date else None
    if args.date and published is None:
        sys.stderr.write(f"policy add: --date: cannot read {args.date!r}, use YYYY-MM-DD\n")
        return 2
    item = Item(
        title=clean_text(args.title, 300),
        url=args.url.strip(),
        issuer=clean_text(args.issuer, 100),
        published_at=published,
        summary=clean_text(args.summary),
        tags=split_tags(args.tags),
    )
    if not item.title:
        sys.stderr.write("policy add: --title is empty\n")
        return 2
    stored, policy = add_manual(app, item)
    _write(f"{stored.outcome}: {format_policy(policy, app.config.tz)}")
    return 0


def _list(app: Services, args: argparse.Namespace) -> int:
    policies = app.service(PolicyLibrary).store.recent(args.limit, source=args.source)
    for policy in policies:
        _write(format_policy(policy, app.config.tz))
    if not policies:
        _write("no policies stored yet (try: chamberbot policy fetch)")
    return 0


def _search(app: Services, args: argparse.Namespace) -> int:
    found = app.service(PolicyLibrary).search(args.words, args.limit)
    for policy in found:
        _write(format_policy(policy, app.config.tz))
    if not found:
        _write(f"no policy matches {' '.join(args.words)!r}")
    return 0


_FAILED = frozenset({Status.ERROR, Status.GONE, Status.WARNING, Status.DISABLED})


def _fetch(app: Services, args: argparse.Namespace) -> int:
    """A line per source as soon as it is stored (template policy_fetch_cli), then the
    total. Exit 1 when there were sources and not one of them could be read."""
    sources = app.service(PolicyLibrary).sources()
    if not sources:
        _write(app.templates.render("policy_fetch_cli", kind="none"))
        return 0
    width = max(len(s.id) for s in sources)
    over_http = {s.id: s.url.startswith(("http://", "https://")) for s in sources}

    def show(source: SourceReport) -> None:
        http = over_http[source.source]
        _write(
            app.templates.render(
                "policy_fetch_cli", kind="source", r=source, width=width, http=http
            )
        )

    report = ingest_all(app, sources=sources, progress=show)
    _write(app.templates.render("policy_fetch_cli", kind="total", report=report))
    if all(s.status in _FAILED for s in report.sources):
        sys.stderr.write("policy fetch: every policy source failed\n")
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `policy add | list | search | fetch` to the `chamberbot` command."""
    policy = subparsers.add_parser("policy", help="the policy library: add, list, search, fetch")
    sub = policy.add_subparsers(dest="policy_command", required=True)
    common = command_options()

    add = sub.add_parser("add", parents=[common], help="store one policy by hand (source: manual)")
    add.add_argument("--title", required=True, help="the policy's title")
    add.add_argument("--url", required=True, help="where the policy is published")
    add.add_argument("--issuer", default="", help="发文机关")
    add.add_argument("--date", help="publish date, YYYY-MM-DD")
    add.add_argument("--tags", default="", help="comma-separated, e.g. 融资,制造业")
    add.add_argument("--summary", default="", help="a short summary")
    add.set_defaults(**with_services(_add))

    show = sub.add_parser("list", parents=[common], help="stored policies, newest first")
    show.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    show.add_argument("--source", help="only this source (a feed id, folder or manual)")
    show.set_defaults(**with_services(_list))

    search = sub.add_parser(
        "search", parents=[common], help="policies matching every word, newest first"
    )
    search.add_argument("words", nargs="+", help="keywords to look for")
    search.add_argument("--limit", type=int, help="default: policies.search_limit")
    search.set_defaults(**with_services(_search))

    fetch = sub.add_parser(
        "fetch", parents=[common], help="run every source once and report per source"
    )
    fetch.set_defaults(**with_services(_fetch))
