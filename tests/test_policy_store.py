"""The policy store: dedupe across sources, search, digest candidates; tagging; the CLI."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.services import Services
from chamberbot.cli import main
from policy_feeds import Item, Outcome, PolicyLibrary, PolicyStore, Source, Tagger, ingest_all
from policy_feeds.folder import FolderSource
from policy_feeds.identity import canonical_url, squash
from policy_feeds.rss import RssSource
from policy_feeds.settings import Feed, TagRule
from tests.conftest import START, TZ, demo_config, make_services
from tests.test_policy_feeds import rss, write

# -- identity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.gov.cn/zhengce/content/1.htm",
        "HTTPS://WWW.GOV.CN/zhengce/content/1.htm",
        "http://www.gov.cn/zhengce/content/1.htm",
        "https://www.gov.cn:443/zhengce/content/1.htm/",
        "https://www.gov.cn/zhengce/content/1.htm#print",
        "https://www.gov.cn/zhengce/content/1.htm?utm_source=wx&utm_medium=share&from=timeline",
    ],
)
def test_spellings_of_one_url_share_a_canonical_form(url: str) -> None:
    assert canonical_url(url) == "https://www.gov.cn/zhengce/content/1.htm"


def test_canonical_url_sorts_the_query_and_keeps_real_parameters() -> None:
    assert canonical_url("https://a.gov.cn/art?id=7&utm_campaign=x&cat=2") == (
        "https://a.gov.cn/art?cat=2&id=7"
    )
    assert canonical_url("https://a.gov.cn/art?id=7") != canonical_url("https://a.gov.cn/art?id=8")
    assert canonical_url("") == ""


def test_titles_squash_across_script_width_and_punctuation() -> None:
    assert squash("關於《促進民營經濟發展》的若干措施 ") == squash(
        "关于促进民营经济发展的若干措施"
    )
    assert squash("ＡＩ＋制造") == "ai制造"


# -- dedupe -----------------------------------------------------------------------------------


def test_same_policy_from_the_folder_and_a_feed_is_stored_once(
    app: Services, tmp_path: Path
) -> None:
    write(
        tmp_path,
        "policies/a.md",
        "---\ntitle: 国务院办公厅关于进一步优化营商环境的意见\n"
        "url: https://www.gov.cn/zhengce/content/2026-11/03/content_1.htm\n"
        "issuer: 国务院办公厅\ntags: [营商环境]\n---\n清理规范涉企收费。\n",
    )
    write(
        tmp_path,
        "policies/b.md",
        "---\ntitle: 关于促进民营经济发展的若干措施\nurl: https://fzggw.zj.gov.cn/art/1.html\n---\n",
    )
    items = [
        (
            "g1",
            "国务院办公厅关于进一步优化营商环境的意见（全文）",
            "HTTP://WWW.GOV.CN/zhengce/content/2026-11/03/content_1.htm/?utm_source=rss&amp;utm_medium=feed#top",
            "要点解读",
        ),
        (
            "g2",
            "關於《促進民營經濟發展》的若干措施",
            "https://www.zj.gov.cn/art/2.html",
            "二十五条",
        ),
        (
            "g3",
            "关于印发《中小企业融资促进专项行动方案》的通知",
            "https://www.miit.gov.cn/3.html",
            "",
        ),
    ]
    write(tmp_path, "feed.xml", rss(items))
    sources: list[Source] = [
        FolderSource("policies", TZ, tmp_path),
        RssSource(Feed(id="gov", url="feed.xml", tags=["国务院文件"]), TZ, tmp_path),
    ]
    report = ingest_all(app, sources=sources).by_source()
    assert report["folder"].added == 2
    assert (report["gov"].added, report["gov"].updated) == (1, 2)

    store = PolicyStore(app.db)
    assert store.count() == 3
    [first] = store.search("营商环境")
    # The folder's row keeps its title and URL; the feed adds its tags only.
    assert first.title == "国务院办公厅关于进一步优化营商环境的意见"
    assert first.url == "https://www.gov.cn/zhengce/content/2026-11/03/content_1.htm"
    assert (first.source, first.summary) == ("folder", "清理规范涉企收费。")
    assert "国务院文件" in first.tags
    [second] = store.search("民营经济")
    assert (second.source, second.url) == ("folder", "https://fzggw.zj.gov.cn/art/1.html")
    assert second.summary == "二十五条"  # the folder had none: the feed fills it in

    # Reading both again changes nothing: the two sources do not take turns.
    os.utime(tmp_path / "feed.xml", (1_900_000_000, 1_900_000_000))
    again = ingest_all(app, sources=sources).by_source()
    assert again["folder"].unchanged == 2
    assert again["gov"].unchanged == 3


def test_a_changed_entry_updates_instead_of_adding(app: Services, clock: FrozenClock) -> None:
    store = PolicyStore(app.db)
    item = Item(
        "关于开展2026年中小企业服务月活动的通知", "https://www.miit.gov.cn/a/2.html", entry_id="g2"
    )
    first = store.upsert(item, "miit", clock.now())
    assert first.outcome is Outcome.ADDED
    assert store.upsert(item, "miit", clock.now()).outcome is Outcome.UNCHANGED
    later = Item(
        "关于开展2026年中小企业服务月活动的通知（延期）",
        "https://www.miit.gov.cn/a/2-new.html",
        published_at=datetime(2026, 11, 20, tzinfo=TZ),
        summary="活动延期至12月",
        entry_id="g2",
    )
    changed = store.upsert(later, "miit", clock.now())
    assert changed == first.__class__(Outcome.UPDATED, first.policy_id)
    assert store.count() == 1
    policy = store.get(first.policy_id)
    assert policy is not None
    assert (policy.title, policy.url, policy.summary) == (later.title, later.url, "活动延期至12月")
    assert policy.published_at == datetime(2026, 11, 20, tzinfo=TZ)


def test_short_titles_do_not_merge_different_policies(app: Services, clock: FrozenClock) -> None:
    store = PolicyStore(app.db)
    store.upsert(Item("通知", "https://a.gov.cn/1.html"), "a", clock.now())
    store.upsert(Item("通知", "https://b.gov.cn/2.html"), "b", clock.now())
    assert store.count() == 2


# -- search and digest candidates -------------------------------------------------------------


def _library(app: Services, clock: FrozenClock) -> dict[str, int]:
    store = PolicyStore(app.db)
    tagger = app.service(PolicyLibrary).tagger
    rows = [
        ("工业和信息化部关于推进AI+制造行动的通知", "工业和信息化部", 1, ["人工智能"]),
        ("浙江省关于支持专精特新企业融资的若干措施", "浙江省发展和改革委员会", 5, []),
        ("杭州市关于外贸企业稳订单拓市场的通知", "杭州市商务局", 3, []),
        ("财政部关于小微企业税费优惠政策的公告", "财政部", 10, []),
    ]
    ids: dict[str, int] = {}
    for title, issuer, days_ago, tags in rows:
        item = Item(
            title,
            f"https://example.gov.cn/{len(ids)}.html",
            issuer,
            published_at=clock.now() - timedelta(days=days_ago),
            tags=tuple(tags),
        )
        ids[title[:4]] = store.upsert(tagger.tag(item), "manual", clock.now()).policy_id
    return ids


def test_search_matches_every_word_however_it_is_typed(app: Services, clock: FrozenClock) -> None:
    ids = _library(app, clock)
    store = PolicyStore(app.db)
    assert [p.id for p in store.search("融資")] == [ids["浙江省关"]]
    assert [p.id for p in store.search("ＡＩ")] == [ids["工业和信"]]
    assert [p.id for p in store.search("《专精特新》 浙江")] == [ids["浙江省关"]]
    assert store.search("专精特新 财政部") == []
    assert store.search("  ，") == []
    # Issuer and tags are searched too; newest first; the limit holds.
    assert [p.id for p in store.search("浙江")] == [ids["杭州市关"], ids["浙江省关"]]
    assert [p.id for p in store.search("浙江", limit=1)] == [ids["杭州市关"]]
    assert [p.id for p in store.search("人工智能")] == [ids["工业和信"]]


def test_candidates_filter_by_time_tags_and_what_a_group_already_got(
    app: Services, clock: FrozenClock
) -> None:
    ids = _library(app, clock)
    store = PolicyStore(app.db)
    newest_first = [ids["工业和信"], ids["杭州市关"], ids["浙江省关"], ids["财政部关"]]
    assert [p.id for p in store.candidates()] == newest_first
    week = [p.id for p in store.candidates(since=clock.now() - timedelta(days=7))]
    assert week == newest_first[:3]
    # Any of the tags; tags are compared normalised (Traditional 融資 is 融资).
    assert [p.id for p in store.candidates(tags={"融資", "外贸"})] == newest_first[1:3]
    assert [p.id for p in store.candidates(tags=set())] == newest_first
    assert [p.id for p in store.candidates(limit=2)] == newest_first[:2]
    app.db.table("policy_sent").insert(
        {
            "conversation_id": "room_members",
            "policy_id": ids["杭州市关"],
            "run_id": 1,
            "sent_at": "",
        }
    )
    unsent = store.candidates(tags={"浙江"}, not_sent_to="room_members")
    assert [p.id for p in unsent] == [ids["浙江省关"]]
    assert len(store.candidates(tags={"浙江"}, not_sent_to="room_members2")) == 2


# -- tagging ----------------------------------------------------------------------------------


def test_tag_rules_match_normalised_title_and_summary_and_region_by_issuer() -> None:
    tagger = Tagger(
        [
            TagRule(tag="融资", keywords=["贷款", "担保"]),
            TagRule(tag="人才", keywords=["人才"]),
            TagRule(tag="制造业", kind="industry", keywords=["制造"]),
            TagRule(tag="杭州", kind="region", keywords=["杭州"]),
        ]
    )
    item = Item(
        "關於支持企業貸款貼息的通知",
        issuer="杭州市人才办",
        summary="面向ＡＩ+製造企业",
        tags=("融资", " #小微企业", "融資"),
    )
    # Feed tags first (normalised, once), then the rules in order; 人才 is only in the issuer.
    assert tagger.tags(item) == ("融资", "小微企业", "制造业", "杭州")
    assert tagger.kinds["杭州"] == "region"


# -- the CLI -------------------------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    return main(argv)


def test_cli_add_list_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(tmp_path / "cli.db")]
    add = [
        "policy", "add",
        "--title", "关于印发《制造业技术改造升级贷款贴息实施细则》的通知",
        "--url", "https://www.miit.gov.cn/zwgk/art_3be8f610.html",
        "--issuer", "工业和信息化部",
        "--date", "2026-11-11",
        "--tags", "技改,中小企业",
    ]  # fmt: skip
    assert run_cli([*add, *db]) == 0
    out = capsys.readouterr().out
    assert out == (
        "added: #1  2026-11-11  工业和信息化部  "
        "关于印发《制造业技术改造升级贷款贴息实施细则》的通知"
        "  #技改 #中小企业 #融资 #制造业 #全国\n"
        "    https://www.miit.gov.cn/zwgk/art_3be8f610.html\n"
    )
    assert run_cli([*add, *db]) == 0
    assert capsys.readouterr().out.startswith("unchanged: #1  2026-11-11")

    other = [
        "policy",
        "add",
        "--title",
        "浙江省人才发展专项资金管理办法",
        "--url",
        "https://www.zj.gov.cn/1.html",
    ]
    assert run_cli([*other, *db]) == 0
    capsys.readouterr()
    assert run_cli(["policy", "list", *db]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("#2  —  —  浙江省人才发展专项资金管理办法  #人才 #浙江")
    assert listed[2].startswith("#1  2026-11-11")

    assert run_cli(["policy", "search", "貼息", "製造業", *db]) == 0
    found = capsys.readouterr().out.splitlines()
    assert len(found) == 2
    assert found[0].startswith("#1  2026-11-11  工业和信息化部")
    assert run_cli(["policy", "search", "用地", *db]) == 0
    assert capsys.readouterr().out == "no policy matches '用地'\n"


def test_cli_add_refuses_a_date_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["policy", "add", "--title", "某通知", "--url", "https://a.gov.cn/1", "--date", "下周"]
    assert run_cli([*argv, "--db", str(tmp_path / "cli.db")]) == 2
    assert capsys.readouterr().err == "policy add: --date: cannot read '下周', use YYYY-MM-DD\n"


def test_cli_fetch_reads_the_bundled_demo_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(tmp_path / "demo.db")]
    assert run_cli(["policy", "fetch", *db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "folder    5 条新政策",
        "miit      7 条新政策，1 条已收录",
        "zhejiang  7 条新政策，1 条已收录",
        "共 19 条新政策，0 条更新。",
    ]
    assert run_cli(["policy", "fetch", *db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "folder    0 条新政策，5 条已收录",
        "miit      未变化",  # local files: unchanged since the last fetch (no HTTP, no 304)
        "zhejiang  未变化",
        "共 0 条新政策，0 条更新。",
    ]
    assert run_cli(["policy", "search", "用地", "浙江", *db]) == 0
    out = capsys.readouterr().out
    assert "浙江省人民政府办公厅关于进一步降低企业用地成本的若干意见  #用地 #浙江" in out


def test_cli_fetch_exits_1_when_every_source_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "policies:\n  feeds:\n"
        "    - {id: gone, url: missing.xml}\n    - {id: lost, url: lost.xml}\n",
        encoding="utf-8",
    )
    argv = ["policy", "fetch", "--config", str(config), "--db", str(tmp_path / "p.db")]

    assert run_cli(argv) == 1
    captured = capsys.readouterr()
    assert [line.split("：")[0] for line in captured.out.splitlines()] == [
        "gone  错误",
        "lost  错误",
        "共 0 条新政策，0 条更新。",
    ]
    assert captured.err.endswith("\npolicy fetch: every policy source failed\n")
    assert "ERROR policy_feeds.ingest: policy source gone" in captured.err  # the log line

    item = ("g1", "关于支持中小企业发展的通知", "https://a.gov.cn/1", "摘要")
    (tmp_path / "lost.xml").write_text(rss([item]), encoding="utf-8")
    assert run_cli(argv) == 0  # one source read: not a failure of the command


def test_the_store_tables_keep_their_migration_names_from_the_core(tmp_path: Path) -> None:
    """m004–m006 moved from the core's set into policy_feeds/migrations.py under the same
    set name: a database that applied them as the core's (the same rows as below) opens
    without applying them again, and a new one gets them after the core's."""
    path = tmp_path / "bot.db"
    make_services(demo_config(), path, FrozenClock(START)).close()
    db = sqlite3.connect(path)
    rows = db.execute(
        "select name from _sqlite_migrations where migration_set = 'chamberbot' order by rowid"
    ).fetchall()
    names = [r[0] for r in rows]
    assert names[-3:] == ["m004_policies", "m005_broadcasts", "m006_policy_search"]
    assert names.index("m003_cases") < names.index("m014_outbox_choices")
    db.close()
    again = make_services(demo_config(), path, FrozenClock(START))  # nothing applied twice
    assert again.db.table("policies").exists()
    again.close()
