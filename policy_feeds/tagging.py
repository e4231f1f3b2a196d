"""Keyword rules from config tag policies by topic, industry and region.

Topic and industry rules look at the title and summary; region rules also look at the
issuer (`杭州市人民政府办公厅` is about 杭州 whatever the title says). Matching is on
normalised text (full width, Traditional, punctuation and spaces do not matter). The tags a
feed or file gave come first, then the rule tags in rule order; no tag appears twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.normalize import normalize
from policy_feeds.identity import squash
from policy_feeds.model import Item
from policy_feeds.settings import TagRule

__all__ = ["Tagger", "clean_tags"]


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Normalised (NFKC, Simplified, lower case), blanks dropped, first occurrence kept."""
    out = (normalize(t).strip("#＃ ") for t in tags)
    return tuple(dict.fromkeys(t for t in out if t))


class Tagger:
    def __init__(self, rules: Sequence[TagRule] = ()) -> None:
        self.rules = [
            (normalize(r.tag), r.kind, tuple(k for k in (squash(w) for w in r.keywords) if k))
            for r in rules
        ]
        self.kinds = {tag: kind for tag, kind, _ in self.rules}

    def rule_tags(self, title: str, summary: str = "", issuer: str = "") -> list[str]:
        text = squash(title) + "\n" + squash(summary)
        with_issuer = text + "\n" + squash(issuer)
        return [
            tag
            for tag, kind, words in self.rules
            if any(w in (with_issuer if kind == "region" else text) for w in words)
        ]

    def tags(self, item: Item) -> tuple[str, ...]:
        return clean_tags([*item.tags, *self.rule_tags(item.title, item.summary, item.issuer)])

    def tag(self, item: Item) -> Item:
        """The item with its own tags normalised and the rule tags added."""
        return replace(item, tags=self.tags(item))
