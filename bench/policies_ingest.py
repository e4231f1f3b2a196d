"""Policy ingest throughput: generated feed items through the real ingest path.

    .venv/bin/python bench/policies_ingest.py [--items 10000] [--feeds 20]

Items (about 10 % duplicates: half the same URL spelled differently in another feed, half
the same title under another URL) come from in-memory sources, so no network is
measured; everything after the fetch is real: `ingest_all` → tagging with the demo
config's rules → `PolicyStore.upsert` (dedupe lookups, insert or update) → the `feeds`
row, one transaction per source, into a temporary SQLite file (WAL, synchronous=NORMAL).
Prints items per second and microseconds per item for a first pass (everything new) and
a second pass over the same items (everything already stored).

Then digests: `--groups` member groups (a third untagged, the rest with two topic tags
each) get the demo's weekly broadcast run once through `run_broadcast` — targeting,
unsent policies per group, rendering with the real template, splitting, and the outbox,
delivery and policy_sent rows in one transaction per group. Prints ms per group.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import FrozenClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.db import to_db  # noqa: E402
from bot.services import Services  # noqa: E402
from chamberbot.root import sections  # noqa: E402
from chamberbot.root import services as build_services  # noqa: E402
from handlers.policies.broadcast_defs import sync_broadcasts  # noqa: E402
from handlers.policies.broadcasts import run_broadcast  # noqa: E402
from policy_feeds import FeedState, FetchResult, Item, PolicyLibrary, Status, ingest_all  # noqa: E402

START = datetime.fromisoformat("2026-11-16T09:00:00+08:00")
ISSUERS = [
    "国务院办公厅",
    "工业和信息化部",
    "浙江省发展和改革委员会",
    "杭州市工商业联合会",
    "财政部",
]
SUBJECTS = [
    "中小企业融资",
    "研发费用加计扣除",
    "外贸稳订单",
    "人才引进",
    "工业用地供应",
    "数字化转型",
]
KINDS = ["若干措施", "实施细则", "指导意见", "通知", "管理办法"]


@dataclass(frozen=True)
class MemorySource:
    """A feed whose answer is already in memory: the bench measures storing, not fetching."""

    id: str
    items: tuple[Item, ...]
    kind: str = "rss"

    @property
    def url(self) -> str:
        return f"memory:{self.id}"

    def fetch(self, state: FeedState) -> FetchResult:
        return FetchResult(Status.OK, self.items)


def generate(count: int, feeds: int, seed: int = 7) -> list[MemorySource]:
    rng = random.Random(seed)
    items: list[Item] = []
    for n in range(count):
        if n and rng.random() < 0.10:
            original = items[rng.randrange(len(items))]
            if rng.random() < 0.5:  # same URL, other spelling
                url = original.url.replace("https://", "HTTP://") + "?utm_source=feed#top"
                items.append(Item(original.title + " ", url, original.issuer, entry_id=f"d{n}"))
            else:  # same title, another URL
                url = f"https://mirror.example.gov.cn/{n}.html"
                items.append(Item(original.title, url, original.issuer, entry_id=f"d{n}"))
            continue
        subject, kind = rng.choice(SUBJECTS), rng.choice(KINDS)
        items.append(
            Item(
                title=f"关于支持{subject}的{kind}（第{n}号）",
                url=f"https://www.example.gov.cn/zhengce/2026/{n:06d}.html",
                issuer=rng.choice(ISSUERS),
                published_at=START - timedelta(minutes=n),
                summary=f"为进一步支持{subject}，对符合条件的企业给予贷款贴息、税费减免和人才补贴。",
                tags=("政策文件",),
                entry_id=f"e{n}",
            )
        )
    size = -(-count // feeds)
    return [
        MemorySource(f"feed{i:02d}", tuple(items[i * size : (i + 1) * size])) for i in range(feeds)
    ]


def _pass(app: Services, sources: list[MemorySource], count: int, label: str) -> None:
    started = time.perf_counter()
    report = ingest_all(app, sources=sources)
    elapsed = time.perf_counter() - started
    print(
        f"{label}: {count} items in {elapsed:.2f} s = {count / elapsed:,.0f} items/s,"
        f" {elapsed / count * 1e6:.0f} µs per item"
        f" ({report.added} added, {report.updated} updated,"
        f" {sum(s.unchanged for s in report.sources)} unchanged)"
    )


TOPICS = ["融资", "税费", "科技创新", "人才", "用地", "外贸"]


def _digests(app: Services, groups: int) -> None:
    now = to_db(START)
    rng = random.Random(11)
    app.db.table("conversations").insert_all(
        {
            "id": f"room{g:04d}@chatroom",
            "is_group": 1,
            "topic": f"会员{g}群",
            "kind": "member",
            "tags": "[]" if g % 3 == 0 else json.dumps(rng.sample(TOPICS, 2), ensure_ascii=False),
            "first_seen": now,
            "updated_at": now,
        }
        for g in range(groups)
    )
    sync_broadcasts(app)
    started = time.perf_counter()
    report = run_broadcast(app, "weekly", START)
    elapsed = time.perf_counter() - started
    assert report is not None
    assert not report.failed
    sent = sum(report.messages.values())
    print(
        f"digests    : {groups} groups in {elapsed:.2f} s = {elapsed / groups * 1e3:.2f} ms per"
        f" group ({len(report.messages)} groups got {sent} messages)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--groups", type=int, default=1000)
    args = parser.parse_args()
    config = parse_config(
        yaml.safe_load((ROOT / "bot/demo/config.yaml").read_text("utf-8")), "demo", sections()
    )
    sources = generate(args.items, args.feeds)
    with tempfile.TemporaryDirectory() as folder:
        app = build_services(config, db_path=Path(folder) / "bench.db", clock=FrozenClock(START))
        _pass(app, sources, args.items, "first pass ")
        _pass(app, sources, args.items, "second pass")
        print(f"stored policies: {app.service(PolicyLibrary).store.count()}")
        _digests(app, args.groups)
        app.db.close()


if __name__ == "__main__":
    main()
