"""The secretariat's own folder of policy files: Markdown with front matter, or YAML.

    ---
    title: 关于进一步优化营商环境降低市场主体制度性交易成本的意见
    url: https://www.gov.cn/zhengce/content/2026-11/10/content_000001.htm
    issuer: 国务院办公厅
    date: 2026-11-10
    tags: [营商环境, 减负]
    summary: 一句话摘要（可省略：省略时用正文）
    ---
    正文……

A `.yaml`/`.yml` file holds one such mapping, or a list of them. Keys may also be written
in Chinese (标题, 链接, 发文机关, 日期, 标签, 摘要). A Markdown file without a title in its
front matter takes its first `# heading`. Files whose name starts with `.` or `_`, and
README files, are skipped; a file that cannot be read is reported and the others go on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

import yaml

from policy_feeds.model import (
    FeedState,
    FetchResult,
    Item,
    Status,
    clean_text,
    parse_date,
    split_tags,
)

__all__ = ["FolderSource", "read_policy_file"]

log = logging.getLogger(__name__)

SUFFIXES = (".md", ".markdown", ".yaml", ".yml")
ALIASES = {
    "标题": "title",
    "链接": "url",
    "网址": "url",
    "link": "url",
    "发文机关": "issuer",
    "发布机关": "issuer",
    "date": "date",
    "日期": "date",
    "发布日期": "date",
    "published": "date",
    "标签": "tags",
    "摘要": "summary",
    "id": "id",
}
_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_MARKUP = re.compile(r"^\s{0,3}(#{1,6}\s*|[-*+]\s+|>\s?)|[*_`]+", re.MULTILINE)
# A line break inside Chinese text is no space (Markdown wraps long Chinese lines).
_CJK_BREAK = re.compile(r"(?<=[^\x00-\xff])[ \t]*\n[ \t]*(?=[^\x00-\xff])")


def _fields(data: dict[Any, Any]) -> dict[str, Any]:
    return {ALIASES.get(str(k).strip(), str(k).strip().lower()): v for k, v in data.items()}


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            meta = yaml.safe_load("\n".join(lines[1:end])) or {}
            if not isinstance(meta, dict):
                raise ValueError("front matter is not a mapping")
            return meta, "\n".join(lines[end + 1 :])
    raise ValueError("front matter has no closing ---")


def _item(meta: dict[str, Any], body: str, entry_id: str, tz: tzinfo) -> Item:
    data = _fields(meta)
    title = clean_text(data.get("title"), 300)
    if not title and body:
        heading = _HEADING.search(body)
        title = clean_text(heading.group(1), 300) if heading else ""
    if not title:
        raise ValueError("no title")
    summary = data.get("summary")
    if not summary and body:
        summary = _CJK_BREAK.sub("", _MARKUP.sub("", _HEADING.sub("", body, count=1)))
    return Item(
        title=title,
        url=str(data.get("url") or "").strip(),
        issuer=clean_text(data.get("issuer"), 100),
        published_at=parse_date(data.get("date"), tz),
        summary=clean_text(summary),
        tags=split_tags(data.get("tags")),
        entry_id=entry_id,
    )


def read_policy_file(path: Path, entry_id: str, tz: tzinfo) -> list[Item]:
    """The policies one file describes; raises OSError/ValueError/yaml.YAMLError."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".md", ".markdown"):
        meta, body = _front_matter(text)
        return [_item(meta, body, entry_id, tz)]
    data = yaml.safe_load(text)
    if isinstance(data, dict):
        return [_item(data, "", entry_id, tz)]
    if isinstance(data, list) and all(isinstance(d, dict) for d in data):
        items = []
        for entry in data:
            fields = _fields(entry)
            key = fields.get("id") or fields.get("url") or fields.get("title")
            items.append(_item(entry, "", f"{entry_id}#{key}", tz))
        return items
    raise ValueError("expected a mapping or a list of mappings")


def _skipped(path: Path) -> bool:
    name = path.name
    return name.startswith((".", "_")) or name.lower().startswith("readme")


@dataclass(frozen=True)
class FolderSource:
    folder: str
    tz: tzinfo
    base_dir: Path | None = None

    @property
    def id(self) -> str:
        return "folder"

    @property
    def kind(self) -> str:
        return "folder"

    @property
    def url(self) -> str:
        return self.folder

    def path(self) -> Path:
        path = Path(self.folder).expanduser()
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path

    def fetch(self, state: FeedState) -> FetchResult:
        root = self.path()
        if not root.is_dir():
            return FetchResult(Status.ERROR, message=f"no such folder: {root}")
        items: list[Item] = []
        problems: list[str] = []
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES)
        for path in files:
            relative = path.relative_to(root)
            if not path.is_file() or any(_skipped(Path(p)) for p in relative.parts):
                continue
            try:
                items += read_policy_file(path, relative.as_posix(), self.tz)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                problems.append(f"{relative.as_posix()}: {reason}")
                log.warning("policy folder %s: %s: %s", root, relative.as_posix(), reason)
        return FetchResult(Status.OK, tuple(items), problems=tuple(problems))
