"""Matching quality and speed on a labelled set: precision and recall of policy × profile.

    .venv/bin/python bench/matching.py [--set FILE] [--misses]

Reads every policy of the labelled set (bench/matching_set.yaml: policies a chamber in
宁波 receives and 20 member profiles, each policy labelled by hand with the profiles it
is for and the deadline it states) with the default `matching` rules plus the set's
region rules, matches every policy against every profile, and prints: precision and
recall over the (policy, profile) pairs, the general policies (no private push) the
reader agreed on, the deadlines read right, the time to read all eligibilities and to
match all pairs; with --misses, each wrong pair and deadline. Then the same for the
held-out policies (bench/matching_holdout.yaml, same profiles and region rules), written
after the rules were tuned and never used to tune them.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handlers.policies.matching import matches  # noqa: E402
from handlers.policies.matching_rules import Eligibility, Rules, read_eligibility  # noqa: E402
from handlers.policies.matching_settings import (  # noqa: E402
    EligibilityRule,
    MatchingSettings,
)

SET = Path(__file__).resolve().parent / "matching_set.yaml"
HOLDOUT = Path(__file__).resolve().parent / "matching_holdout.yaml"
TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Profile:
    id: str
    industry: str | None
    size: str | None
    region: str | None
    qualifications: tuple[str, ...]


def _rules(data: dict[str, Any]) -> Rules:
    defaults = MatchingSettings()
    regions = [EligibilityRule.model_validate(r) for r in data.get("regions", [])]
    return Rules(MatchingSettings(rules=[*defaults.rules, *regions]))


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=SET)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    base = yaml.safe_load(SET.read_text(encoding="utf-8"))
    sets = [args.set, HOLDOUT] if args.set == SET else [args.set]
    for path in sets:
        policies = yaml.safe_load(path.read_text(encoding="utf-8"))["policies"]
        run(path.name, base, policies, misses=args.misses)
    return 0


def run(name: str, data: dict[str, Any], policies: list[dict[str, Any]], *, misses: bool) -> None:
    rules = _rules(data)
    profiles = [
        Profile(k, v["industry"], v["size"], v["region"], tuple(v["qualifications"]))
        for k, v in data["profiles"].items()
    ]

    started = time.perf_counter()
    read: list[Eligibility] = []
    for p in policies:
        published = datetime.fromisoformat(str(p["published"])).replace(tzinfo=TZ)
        read.append(read_eligibility(rules, p["title"], p["summary"], p["issuer"], published))
    reading = time.perf_counter() - started

    started = time.perf_counter()
    got = {
        (p["id"], pr.id)
        for p, found in zip(policies, read, strict=True)
        for pr in profiles
        if matches(rules, found, pr)
    }
    matching = time.perf_counter() - started
    expected = {(p["id"], e) for p in policies for e in p["expected"]}

    right = got & expected
    precision = len(right) / len(got) if got else 1.0
    recall = len(right) / len(expected) if expected else 1.0
    general = [p["id"] for p in policies if not p["expected"]]
    general_right = [pid for pid in general if not any(g[0] == pid for g in got)]
    deadlines = [
        (p, found.deadline, _day(p["deadline"])) for p, found in zip(policies, read, strict=True)
    ]
    deadline_right = [d for d in deadlines if d[1] == d[2]]
    pairs = len(policies) * len(profiles)

    print(f"labelled set: {name} — {len(policies)} policies × {len(profiles)} profiles")
    print(f"  expected matches {len(expected)}, found {len(got)}, right {len(right)}")
    print(f"  precision {precision:.3f} ({len(right)}/{len(got)})")
    print(f"  recall    {recall:.3f} ({len(right)}/{len(expected)})")
    print(f"  general policies left general: {len(general_right)}/{len(general)}")
    print(
        f"  deadlines read right: {len(deadline_right)}/{len(deadlines)}"
        f" (stated: {sum(1 for d in deadlines if d[2])})"
    )
    print(
        f"  reading {len(policies)} eligibilities: {reading * 1000:.1f} ms"
        f" ({reading / len(policies) * 1e6:.0f} µs each)"
    )
    print(
        f"  matching all {pairs} pairs: {matching * 1000:.2f} ms"
        f" ({matching / pairs * 1e6:.1f} µs per pair)"
    )
    if misses:
        for pid, eid in sorted(got - expected):
            print(f"  false match  {pid} → {eid}")
        for pid, eid in sorted(expected - got):
            print(f"  missed       {pid} → {eid}")
        for p, found_day, want in deadlines:
            if found_day != want:
                print(f"  deadline     {p['id']}: read {found_day}, labelled {want}")


if __name__ == "__main__":
    raise SystemExit(main())
