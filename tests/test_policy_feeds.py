"""Policy sources against a real HTTP server on 127.0.0.1: conditional GET, redirects,
gone feeds, bad answers, slow and failing feeds; the JSON mapping; the curated folder."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.services import Services
from chamberbot.cli import main
from policy_feeds import PolicyStore, Status, ingest_all
from policy_feeds.folder import FolderSource
from policy_feeds.jsonapi import JsonSource
from policy_feeds.model import FeedState
from policy_feeds.rss import RssSource
from policy_feeds.settings import Feed
from tests.conftest import STAFF_ROOM, TZ

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class FeedServer:
    """Paths → answers; every request is recorded with its headers."""

    routes: dict[str, Callable[[dict[str, str]], Reply]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    gates: list[threading.Event] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    def serve(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body

        def answer(headers: dict[str, str]) -> Reply:
            fresh = {k: v for k, v in (("ETag", etag), ("Last-Modified", last_modified)) if v}
            if etag and headers.get("If-None-Match") == etag:
                return 304, fresh, b""
            if last_modified and headers.get("If-Modified-Since") == last_modified:
                return 304, fresh, b""
            return 200, {"Content-Type": content_type, **fresh}, data

        self.routes[path] = answer

    def status(self, path: str, code: int, location: str | None = None) -> None:
        headers = {"Location": location} if location else {}
        self.routes[path] = lambda _: (code, headers, b"")

    def slow(self, path: str) -> threading.Event:
        """An answer that waits until the test sets the returned event."""
        gate = threading.Event()
        self.gates.append(gate)

        def answer(_: dict[str, str]) -> Reply:
            gate.wait(10)
            return 200, {"Content-Type": "application/rss+xml"}, rss([]).encode()

        self.routes[path] = answer
        return gate


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = dict(self.headers.items())
            feeds.requests.append((self.path, headers))
            route = feeds.routes.get(self.path)
            code, extra, body = route(headers) if route else (404, {}, b"")
            try:
                self.send_response(code)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    feeds.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield feeds
    for gate in feeds.gates:
        gate.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def rss(items: list[tuple[str, str, str, str]], title: str = "工业和信息化部 - 政策文件") -> str:
    """RSS 2.0 with (guid, title, link, description) items."""
    entries = "".join(
        f"<item><guid isPermaLink='false'>{g}</guid><title>{t}</title><link>{link}</link>"
        f"<pubDate>Tue, 10 Nov 2026 09:00:00 +0800</pubDate><description>{d}</description></item>"
        for g, t, link, d in items
    )
    head = (
        f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>{title}</title>"
    )
    return f"{head}{entries}</channel></rss>"


ITEMS = [
    (
        "g1",
        "关于印发《制造业技术改造升级贷款贴息实施细则》的通知",
        "https://www.miit.gov.cn/a/1.html",
        "贴息支持",
    ),
    (
        "g2",
        "关于开展2026年中小企业服务月活动的通知",
        "https://www.miit.gov.cn/a/2.html",
        "人才招聘",
    ),
    (
        "g3",
        "工业和信息化部关于公布第七批国家级工业设计中心名单的通告",
        "https://www.miit.gov.cn/a/3.html",
        "",
    ),
]


def source(server: FeedServer, path: str, **settings: Any) -> RssSource:
    feed = Feed(id=settings.pop("id", "miit"), url=server.url(path), **settings)
    return RssSource(feed, TZ)


def feed_row(app: Services, feed_id: str) -> dict[str, Any]:
    return dict(app.db.table("feeds").get(feed_id))


def staff_messages(app: Services) -> list[dict[str, Any]]:
    return list(app.db.table("outbox").rows_where("conversation_id = ?", [STAFF_ROOM]))


# -- conditional GET -------------------------------------------------------------------------


def test_etag_second_fetch_sends_if_none_match_and_stores_nothing_new(
    app: Services, server: FeedServer
) -> None:
    server.serve("/miit.xml", rss(ITEMS), etag='"v1"')
    feeds = [source(server, "/miit.xml")]
    first = ingest_all(app, sources=feeds).by_source()["miit"]
    assert (first.status, first.added) == (Status.OK, 3)
    assert feed_row(app, "miit")["etag"] == '"v1"'

    second = ingest_all(app, sources=feeds).by_source()["miit"]
    assert (second.status, second.added, second.updated) == (Status.NOT_MODIFIED, 0, 0)
    assert server.requests[-1][1]["If-None-Match"] == '"v1"'
    assert "If-None-Match" not in server.requests[0][1]
    assert PolicyStore(app.db).count() == 3


def test_last_modified_is_sent_back_as_if_modified_since(
    app: Services, server: FeedServer
) -> None:
    stamp = "Tue, 10 Nov 2026 01:00:00 GMT"
    server.serve("/miit.xml", rss(ITEMS), last_modified=stamp)
    feeds = [source(server, "/miit.xml")]
    assert ingest_all(app, sources=feeds).added == 3
    assert ingest_all(app, sources=feeds).by_source()["miit"].status is Status.NOT_MODIFIED
    assert server.requests[-1][1]["If-Modified-Since"] == stamp
    assert feed_row(app, "miit")["last_modified"] == stamp


# -- redirects and gone feeds ----------------------------------------------------------------


def test_permanent_redirect_updates_the_stored_url(app: Services, server: FeedServer) -> None:
    server.status("/old.xml", 301, "/new.xml")
    server.serve("/new.xml", rss(ITEMS))
    feeds = [source(server, "/old.xml")]
    report = ingest_all(app, sources=feeds).by_source()["miit"]
    assert (report.status, report.added) == (Status.OK, 3)
    assert report.message == f"moved permanently to {server.url('/new.xml')}"
    assert feed_row(app, "miit")["url"] == server.url("/new.xml")

    ingest_all(app, sources=feeds)
    assert server.paths() == ["/old.xml", "/new.xml", "/new.xml"]


def test_temporary_redirect_is_followed_without_moving_the_feed(
    app: Services, server: FeedServer
) -> None:
    server.status("/feed.xml", 302, server.url("/mirror.xml"))
    server.serve("/mirror.xml", rss(ITEMS[:1]))
    feeds = [source(server, "/feed.xml")]
    assert ingest_all(app, sources=feeds).added == 1
    ingest_all(app, sources=feeds)
    assert feed_row(app, "miit")["url"] == server.url("/feed.xml")
    assert server.paths() == ["/feed.xml", "/mirror.xml", "/feed.xml", "/mirror.xml"]


def test_gone_feed_is_disabled_and_the_staff_room_told_once(
    app: Services, server: FeedServer
) -> None:
    server.status("/retired.xml", 410)
    feeds = [source(server, "/retired.xml", id="old-miit")]
    report = ingest_all(app, sources=feeds).by_source()["old-miit"]
    assert report.status is Status.GONE
    row = feed_row(app, "old-miit")
    assert (row["status"], row["last_error"]) == ("disabled", "HTTP 410 Gone")
    [notice] = staff_messages(app)
    assert notice["text"].startswith("【政策源已下线】政策订阅源「old-miit」返回“HTTP 410 Gone”")
    assert server.url("/retired.xml") in notice["text"]

    # Disabled: not asked again, nobody told again.
    again = ingest_all(app, sources=feeds).by_source()["old-miit"]
    assert again.status is Status.DISABLED
    assert server.paths() == ["/retired.xml"]
    assert len(staff_messages(app)) == 1

    # The admin puts the new address in the config: the feed is active again.
    server.serve("/v2.xml", rss(ITEMS))
    fixed = ingest_all(app, sources=[source(server, "/v2.xml", id="old-miit")])
    assert fixed.by_source()["old-miit"].added == 3
    assert feed_row(app, "old-miit")["status"] == "active"


# -- answers that are no feed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<!DOCTYPE html><html><body>网站维护中</body></html>", "an HTML page, not a feed"),
        ("", "empty body"),
    ],
)
def test_html_page_or_empty_body_is_a_warning_and_the_feed_is_kept(
    app: Services, server: FeedServer, caplog: pytest.LogCaptureFixture, body: str, reason: str
) -> None:
    server.serve("/miit.xml", body, content_type="text/html; charset=utf-8", etag='"maint"')
    with caplog.at_level(logging.WARNING, logger="policy_feeds"):
        report = ingest_all(app, sources=[source(server, "/miit.xml")]).by_source()["miit"]
    assert (report.status, report.message) == (Status.WARNING, reason)
    assert f"policy source miit ({server.url('/miit.xml')}): {reason}" in caplog.messages
    row = feed_row(app, "miit")
    assert (row["status"], row["last_error"], row["etag"]) == ("active", reason, None)
    assert PolicyStore(app.db).count() == 0
    assert staff_messages(app) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_slow_and_failing_feeds_do_not_stop_the_others(
    app: Services, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    gate = server.slow("/slow.xml")
    server.status("/broken.xml", 500)
    server.serve("/good.xml", rss(ITEMS))
    refused = Feed(id="refused", url=f"http://127.0.0.1:{_closed_port()}/feed.xml")
    feeds = [
        source(server, "/slow.xml", id="slow", timeout_seconds=0.2),
        source(server, "/broken.xml", id="broken"),
        RssSource(refused, TZ),
        source(server, "/good.xml", id="good"),
    ]
    with caplog.at_level(logging.ERROR, logger="policy_feeds"):
        report = ingest_all(app, sources=feeds).by_source()
    gate.set()
    assert report["slow"].status is Status.ERROR
    assert report["slow"].message == "timed out after 0.2 s"
    assert report["broken"].message == "HTTP 500 Internal Server Error"
    assert report["refused"].message.startswith("cannot connect:")
    assert (report["good"].status, report["good"].added) == (Status.OK, 3)
    assert feed_row(app, "slow")["last_error"] == "timed out after 0.2 s"
    assert feed_row(app, "broken")["status"] == "active"
    logged = " ".join(caplog.messages)
    assert "policy source slow" in logged
    assert "policy source broken" in logged
    assert "policy source refused" in logged


# -- changed entries -------------------------------------------------------------------------


def test_a_changed_entry_updates_its_row(app: Services, server: FeedServer) -> None:
    server.serve("/miit.xml", rss(ITEMS), etag='"v1"')
    feeds = [source(server, "/miit.xml")]
    ingest_all(app, sources=feeds)
    fixed = [
        (
            "g1",
            "关于印发《制造业技术改造升级贷款贴息实施细则（修订）》的通知",
            ITEMS[0][2],
            "贴息比例提高",
        )
    ]
    server.serve("/miit.xml", rss([*fixed, *ITEMS[1:]]), etag='"v2"')
    report = ingest_all(app, sources=feeds).by_source()["miit"]
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    store = PolicyStore(app.db)
    assert store.count() == 3
    [policy] = store.search("修订")
    assert policy.summary == "贴息比例提高"
    assert store.search("贴息支持") == []


# -- JSON endpoints --------------------------------------------------------------------------


def test_json_endpoint_fields_mapping(app: Services, server: FeedServer) -> None:
    payload = {
        "code": 0,
        "data": {
            "list": [
                {
                    "docId": 101,
                    "docTitle": "浙江省发展改革委关于促进民营经济高质量发展的若干措施",
                    "link": "/art/2026/11/10/art_101.html",
                    "pubDate": "2026年11月10日",
                    "abstract": "<p>设立民营企业<b>贷款</b>风险补偿资金&nbsp;</p>",
                    "org": {"name": "浙江省发展和改革委员会"},
                    "keywords": "民营经济，要素保障",
                },
                {"docId": 102, "docTitle": "", "link": "/art/102.html"},
            ]
        },
    }
    server.serve("/api/list", json.dumps(payload, ensure_ascii=False), "application/json")
    fields = {
        "items": "data.list",
        "title": "docTitle",
        "url": "link",
        "id": "docId",
        "date": "pubDate",
        "summary": "abstract",
        "issuer": "org.name",
        "tags": "keywords",
    }
    feed = Feed(id="zj-fgw", kind="json", url=server.url("/api/list"), fields=fields)
    report = ingest_all(app, sources=[JsonSource(feed, TZ)]).by_source()["zj-fgw"]
    assert (report.status, report.added) == (Status.OK, 1)
    assert report.problems == ("item 2: no title at 'docTitle'",)
    [policy] = PolicyStore(app.db).recent()
    assert policy.url == server.url("/art/2026/11/10/art_101.html")
    assert policy.issuer == "浙江省发展和改革委员会"
    assert policy.published_at == datetime(2026, 11, 10, tzinfo=TZ)
    assert policy.summary == "设立民营企业贷款风险补偿资金"
    # Tags from the endpoint first, then the demo config's rules (融资 from 贷款, region 浙江).
    assert policy.tags == ("民营经济", "要素保障", "融资", "浙江")


def test_json_answer_that_is_not_json_is_a_warning(app: Services, server: FeedServer) -> None:
    server.serve("/api/list", "oops", "application/json")
    feed = Feed(id="api", kind="json", url=server.url("/api/list"))
    report = ingest_all(app, sources=[JsonSource(feed, TZ)]).by_source()["api"]
    assert report.status is Status.WARNING
    assert report.message.startswith("not JSON")


# -- the curated folder ----------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_folder_reads_markdown_and_yaml_and_reports_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    write(
        folder,
        "a.md",
        "---\ntitle: 国务院办公厅关于进一步优化营商环境的意见\nurl: https://www.gov.cn/zhengce/1.htm\n"
        "issuer: 国务院办公厅\ndate: 2026-11-03\ntags: [营商环境]\n---\n"
        "# 标题\n\n推行“高效办成一件事”，\n清理规范涉企收费。\n",
    )
    write(
        folder,
        "sub/b.yaml",
        "title: 财政部 税务总局关于小微企业税费政策的公告\nissuer: 财政部 税务总局\n"
        "date: 2026-10-20\ntags: 税费, 小微企业\nsummary: 减半征收。\n",
    )
    write(
        folder,
        "c.yml",
        "- {title: 杭州市工商联关于开展万企评营商活动的通知, url: https://www.hzgsl.gov.cn/1.html}\n"
        "- {标题: 宁波市关于支持跨境电商高质量发展的若干政策, 日期: 2026年11月2日}\n",
    )
    write(folder, "d.md", "# 浙江省人才发展专项资金管理办法\n\n最高资助1000万元。\n")
    write(folder, "broken.md", "---\ntitle: [unclosed\n---\n")
    write(folder, "untitled.yaml", "url: https://example.gov.cn/x.html\n")
    write(folder, "README.md", "# 说明\n")
    write(folder, "_draft.md", "---\ntitle: 草稿\n---\n")
    write(folder, "notes.txt", "not a policy")

    result = FolderSource("policies", TZ, tmp_path).fetch(FeedState("policies"))
    assert result.status is Status.OK
    by_title = {i.title: i for i in result.items}
    assert len(by_title) == 5
    a = by_title["国务院办公厅关于进一步优化营商环境的意见"]
    assert (a.issuer, a.tags, a.entry_id) == ("国务院办公厅", ("营商环境",), "a.md")
    assert a.published_at == datetime(2026, 11, 3, tzinfo=TZ)
    assert a.summary == "推行“高效办成一件事”，清理规范涉企收费。"
    b = by_title["财政部 税务总局关于小微企业税费政策的公告"]
    assert (b.tags, b.summary, b.url, b.entry_id) == (
        ("税费", "小微企业"),
        "减半征收。",
        "",
        "sub/b.yaml",
    )
    ningbo = by_title["宁波市关于支持跨境电商高质量发展的若干政策"]
    assert ningbo.published_at == datetime(2026, 11, 2, tzinfo=TZ)
    assert by_title["浙江省人才发展专项资金管理办法"].summary == "最高资助1000万元。"
    assert [p.split(":")[0] for p in result.problems] == ["broken.md", "untitled.yaml"]
    assert result.problems[1] == "untitled.yaml: no title"


def test_missing_folder_is_an_error_for_that_source_only(tmp_path: Path) -> None:
    result = FolderSource("nowhere", TZ, tmp_path).fetch(FeedState("nowhere"))
    assert (result.status, result.message) == (
        Status.ERROR,
        f"no such folder: {tmp_path / 'nowhere'}",
    )


def test_local_feed_file_is_not_modified_until_it_changes(app: Services, tmp_path: Path) -> None:
    write(tmp_path, "feeds/miit.xml", rss(ITEMS))
    feeds = [RssSource(Feed(id="local", url="feeds/miit.xml"), TZ, tmp_path)]
    assert ingest_all(app, sources=feeds).added == 3
    assert ingest_all(app, sources=feeds).by_source()["local"].status is Status.NOT_MODIFIED
    file_url = (tmp_path / "feeds" / "miit.xml").as_uri()
    other = [RssSource(Feed(id="local", url=file_url), TZ)]
    assert ingest_all(app, sources=other).by_source()["local"].unchanged == 3


# -- `chamberbot policy fetch`: a line per source as it goes ---------------------------------


def _fetch_config(tmp_path: Path, feeds: list[tuple[str, str]]) -> list[str]:
    """`policy fetch` arguments for a config with these (id, url) feeds."""
    lines = "".join(f"    - {{id: {name}, url: '{url}'}}\n" for name, url in feeds)
    config = tmp_path / "config.yaml"
    config.write_text(f"policies:\n  feeds:\n{lines}", encoding="utf-8")
    return ["policy", "fetch", "--config", str(config), "--db", str(tmp_path / "p.db")]


def test_policy_fetch_prints_each_source_before_the_slower_ones_finish(
    tmp_path: Path, server: FeedServer
) -> None:
    server.serve("/a.xml", rss(ITEMS[:2]))
    gate = server.slow("/slow.xml")
    server.serve("/c.xml", rss(ITEMS[2:]))
    feeds = [("a", "/a.xml"), ("slow", "/slow.xml"), ("c", "/c.xml")]
    argv = _fetch_config(tmp_path, [(name, server.url(path)) for name, path in feeds])
    fetch = subprocess.Popen(
        [sys.executable, "-m", "chamberbot.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert fetch.stdout is not None
        # Read while the server still holds the slow feed's answer: a's line is out already.
        assert fetch.stdout.readline() == "a     2 条新政策\n"
        assert fetch.poll() is None
        gate.set()
        # Stored (and printed) in the config's order: c waits for the slow source before it.
        assert fetch.stdout.read().splitlines() == [
            "slow  0 条新政策",
            "c     1 条新政策",
            "共 3 条新政策，0 条更新。",
        ]
        assert fetch.wait(timeout=20) == 0
    finally:
        gate.set()
        fetch.kill()
        fetch.wait()
        if fetch.stdout:
            fetch.stdout.close()


def test_policy_fetch_says_per_source_what_happened(
    tmp_path: Path, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve("/miit.xml", rss(ITEMS), etag='"v1"')
    server.status("/retired.xml", 410)
    server.status("/broken.xml", 500)
    server.serve("/page.xml", "<!DOCTYPE html><html><body>网站维护中</body></html>", "text/html")
    feeds = [("miit", "/miit.xml"), ("retired", "/retired.xml")]
    feeds += [("broken", "/broken.xml"), ("page", "/page.xml")]
    argv = _fetch_config(tmp_path, [(name, server.url(path)) for name, path in feeds])

    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "miit     3 条新政策",
        "retired  已停用：HTTP 410 Gone，已通知秘书处（在配置中改正地址后恢复）",
        "broken   错误：HTTP 500 Internal Server Error",
        "page     警告：an HTML page, not a feed",
        "共 3 条新政策，0 条更新。",
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "miit     304 未变化",
        "retired  已停用（HTTP 410 Gone），在配置中改正地址后恢复",
        "broken   错误：HTTP 500 Internal Server Error",
        "page     警告：an HTML page, not a feed",
        "共 0 条新政策，0 条更新。",
    ]
    assert server.paths().count("/retired.xml") == 1  # a disabled feed is not asked again
