"""JSON endpoints: where the list is and what each key means comes from `fields`.

    feeds:
      - id: fgw-api
        kind: json
        url: https://fgw.example.gov.cn/api/policies?page=1
        fields: {items: data.list, title: docTitle, url: link, id: docId,
                 date: pubDate, summary: abstract, issuer: org, tags: keywords}

Paths are dotted (`data.list`, `meta.org.name`; a number picks a list element). Keys not
mapped default to their own name (`title`, `url`, `id`, `date`, `summary`, `issuer`,
`tags`); without `items` the answer itself must be the list, or hold it under `items`,
`list`, `data` or `results`. Relative item URLs are resolved against the endpoint.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from policy_feeds.http import HttpFeed, ParseError, Response, is_local
from policy_feeds.model import Item, clean_text, parse_date, split_tags

__all__ = ["FIELDS", "JsonSource", "lookup"]

FIELDS = ("items", "title", "url", "id", "date", "summary", "issuer", "tags")
_LIST_KEYS = ("items", "list", "data", "results")


def lookup(data: Any, path: str) -> Any:
    """`data.list.0.title` through dicts and lists; None where the path leads nowhere."""
    for part in path.split(".") if path else ():
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.lstrip("-").isdigit():
            index = int(part)
            data = data[index] if -len(data) <= index < len(data) else None
        else:
            return None
    return data


def _entries(data: Any, path: str | None) -> list[Any]:
    if path:
        found = lookup(data, path)
    elif isinstance(data, list):
        found = data
    else:
        found = next(
            (
                data[k]
                for k in _LIST_KEYS
                if isinstance(data, dict) and isinstance(data.get(k), list)
            ),
            None,
        )
    if not isinstance(found, list):
        raise ParseError(f"no list of items at {path or 'the top level'!r}")
    return found


class JsonSource(HttpFeed):
    kind = "json"
    accept = "application/json, */*;q=0.5"

    def _key(self, name: str) -> str:
        return self.feed.fields.get(name, name)

    def _parse(self, answer: Response) -> tuple[list[Item], list[str]]:
        try:
            data = json.loads(answer.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ParseError(f"not JSON ({exc})") from None
        items: list[Item] = []
        problems: list[str] = []
        base = "" if is_local(answer.url) else answer.url
        for n, entry in enumerate(_entries(data, self.feed.fields.get("items")), 1):
            title = clean_text(lookup(entry, self._key("title")), 300)
            if not title:
                problems.append(f"item {n}: no title at {self._key('title')!r}")
                continue
            link = str(lookup(entry, self._key("url")) or "").strip()
            entry_id = lookup(entry, self._key("id"))
            items.append(
                Item(
                    title=title,
                    url=urljoin(base, link) if link and base else link,
                    issuer=clean_text(lookup(entry, self._key("issuer")), 100) or self.feed.issuer,
                    published_at=parse_date(lookup(entry, self._key("date")), self.tz),
                    summary=clean_text(lookup(entry, self._key("summary"))),
                    tags=(*split_tags(lookup(entry, self._key("tags"))), *self.feed.tags),
                    entry_id=str(entry_id) if entry_id not in (None, "") else (link or None),
                )
            )
        return items, problems
