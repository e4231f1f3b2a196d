"""Which category and aspect a description belongs to: keyword rules from the config's
`categories`, matched on words, not on substrings.

The description is normalised (bot/normalize.py) and cut into words by rjieba (jieba-rs,
the jieba dictionary) with every configured keyword added to the dictionary, so 电费 is a
word of 交电费 but 用电 is not one of 使用电脑 (使用 / 电脑), nor 停车 of 暂停车间. A keyword
hits when it equals one word, a run of neighbouring words (缴费 + 基数 = 缴费基数), or a
dictionary word inside a longer one (jieba's search mode: 用地 in 工业用地, 专利 in 专利产品);
never characters that straddle two words.

Score: an aspect scores the distinct hits of its own keywords plus those of its category's
keywords (the category's words back its aspects); a category's own keywords alone pick the
category without an aspect. The most hits win; between as many hits, the longer words (more
characters hit: 著作权 outweighs 登记, 劳动仲裁 outweighs 赔偿); then the rule listed first in
the config. No hit: `cases.default_category` (其他).

The segmenter (~0.16-0.35 s) is loaded on the first classification, never at import (many
commands and tests never classify), one per set of keywords, so two configs in one process
never share a dictionary. The running bot loads it at its start (`warm`, the cases
feature's on_start), before a channel connects: loading it on the first 诉求 of a burst
would stall the event loop while messages wait unread, and a kill then would lose them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Config
from bot.normalize import normalize
from handlers.cases.model import Classification
from handlers.cases.settings import case_settings, categories

if TYPE_CHECKING:
    from rjieba import Jieba

__all__ = ["classify", "warm", "warmed"]


@dataclass(frozen=True)
class _Rule:
    found: Classification
    keywords: frozenset[str]  # normalised
    backing: frozenset[str]  # the category's own keywords, when this rule is an aspect


@dataclass(frozen=True)
class _Rules:
    rules: tuple[_Rule, ...]
    vocabulary: frozenset[str]
    longest: int


_RULES: dict[int, tuple[Config, _Rules]] = {}
_SEGMENTERS: dict[frozenset[str], Jieba] = {}
_LOCK = threading.Lock()


def _rules(config: Config) -> _Rules:
    """Each category and aspect with its normalised keywords, worked out once per config."""
    cached = _RULES.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    rules = []
    for cat in categories(config):
        own = frozenset(normalize(w) for w in cat.keywords if normalize(w))
        rules.append(_Rule(Classification(cat.name, "", cat.department, cat.limit_days), own, own))
        for aspect in cat.aspects:
            found = Classification(cat.name, aspect.name, cat.department, cat.limit_days)
            keywords = frozenset(normalize(w) for w in aspect.keywords if normalize(w))
            rules.append(_Rule(found, keywords, own))
    vocabulary = frozenset(w for r in rules for w in r.keywords)
    built = _Rules(tuple(rules), vocabulary, max(map(len, vocabulary), default=0))
    _RULES[id(config)] = (config, built)
    return built


def _segmenter(vocabulary: frozenset[str]) -> Jieba:
    """The jieba dictionary with these keywords added, built on first use."""
    with _LOCK:
        found = _SEGMENTERS.get(vocabulary)
        if found is None:
            import rjieba  # ~0.2 s: only when a description is first classified

            # Importing rjieba already loads one dictionary (its module default, which
            # nothing else here uses): the first keyword set takes it instead of loading
            # a second; another keyword set gets a fresh one.
            found = rjieba.Jieba() if _SEGMENTERS else rjieba._DEFAULT_JIEBA
            for word in sorted(vocabulary):
                found.add_word(word, None, None)
            _SEGMENTERS[vocabulary] = found
        return found


def warm(config: Config) -> None:
    """Load the segmenter for this config's keywords now, if it has any."""
    vocabulary = _rules(config).vocabulary
    if vocabulary:
        _segmenter(vocabulary)


def warmed(config: Config) -> bool:
    """Whether the segmenter for this config's keywords is loaded."""
    return _rules(config).vocabulary in _SEGMENTERS


def _phrases(tokens: list[str], longest: int) -> set[str]:
    """Every word and every run of neighbouring words up to `longest` characters."""
    found: set[str] = set()
    for start in range(len(tokens)):
        run = ""
        for token in tokens[start:]:
            run += token
            if len(run) > longest:
                break
            found.add(run)
    return found


def classify(description: str, config: Config) -> Classification:
    """The rule with the highest score (see the module's doc); else the default category."""
    rules = _rules(config)
    c = case_settings(config)
    default = Classification(c.default_category, "", c.default_department, c.default_limit_days)
    if not rules.vocabulary:
        return default
    segmenter = _segmenter(rules.vocabulary)
    text = normalize(description)
    phrases = _phrases(segmenter.cut(text, False), rules.longest)
    phrases.update(segmenter.cut_for_search(text, False))  # 用地 of 工业用地
    best: tuple[tuple[int, int], Classification] | None = None
    for rule in rules.rules:
        hit = rule.keywords & phrases
        if not hit:
            continue
        if rule.found.aspect:
            hit |= rule.backing & phrases
        score = (len(hit), sum(map(len, hit)))
        if best is None or score > best[0]:
            best = (score, rule.found)
    return best[1] if best else default
