"""Classification against a labelled set: how many descriptions reach the right aspect.

    .venv/bin/python bench/classify.py [--config FILE] [--set FILE] [--misses]

Classifies every description of the labelled set (bench/classify_set.yaml: `分类/方面` →
descriptions enterprises would type) with the config's `categories` rules (default: the
demo's, bot/demo/config.yaml) and prints: the share to the right aspect (and to the right
category), the share of the aspect-labelled descriptions that fell to the default category
(其他), the confusion table (rows: the label, columns: the answer), the cost of the first
classification (the segmenter's load, in the first set) and of each one after it; with
--misses, each wrong answer with its description. Then the same for the two later sets:
bench/classify_holdout.yaml, written after the first tuning and held out from it, but used
(its misses) in the second; and bench/classify_fresh.yaml, written before the rules were
read in the second tuning and never tuned on, the one held-out figure left.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from chamberbot.root import DEMO_CONFIG, load  # noqa: E402
from handlers.cases.classify import classify  # noqa: E402
from handlers.cases.model import classified  # noqa: E402
from handlers.cases.settings import case_settings  # noqa: E402

SET = Path(__file__).resolve().parent / "classify_set.yaml"
HOLDOUT = Path(__file__).resolve().parent / "classify_holdout.yaml"
FRESH = Path(__file__).resolve().parent / "classify_fresh.yaml"


@dataclass(frozen=True)
class Result:
    answers: list[tuple[str, str, str]]  # (label, answer, description)
    default: str
    first_seconds: float
    each_us: float

    def share(self, right: int, of: int) -> float:
        return right / of if of else 0.0

    @property
    def accuracy(self) -> float:
        return self.share(sum(1 for lab, got, _ in self.answers if lab == got), len(self.answers))

    @property
    def category_accuracy(self) -> float:
        same = sum(1 for lab, got, _ in self.answers if lab.split("/")[0] == got.split("/")[0])
        return self.share(same, len(self.answers))

    @property
    def to_default(self) -> tuple[int, int]:
        """(how many aspect-labelled descriptions fell to 其他, how many there are)."""
        labelled = [got for lab, got, _ in self.answers if lab != self.default]
        return sum(1 for got in labelled if got == self.default), len(labelled)


def labelled(path: Path = SET) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(label, text) for label, texts in data.items() for text in texts]


def evaluate(config: Config, cases: list[tuple[str, str]]) -> Result:
    began = time.perf_counter()
    classify(cases[0][1], config)
    first = time.perf_counter() - began
    began = time.perf_counter()
    answers = []
    for label, text in cases:
        found = classify(text, config)
        answers.append((label, classified(found.category, found.aspect), text))
    each = (time.perf_counter() - began) / len(cases) * 1e6
    return Result(answers, case_settings(config).default_category, first, each)


def table(result: Result) -> list[str]:
    labels = list(dict.fromkeys(lab for lab, _, _ in result.answers))
    answers = [got for _, got, _ in result.answers]
    labels += [got for got in dict.fromkeys(answers) if got not in labels]
    code = {lab: f"{i + 1:>3}" for i, lab in enumerate(labels)}
    counts = Counter((lab, got) for lab, got, _ in result.answers)
    width = max(len(lab) for lab in labels)
    lines = ["  " + " " * (width + 4) + "".join(code[lab] for lab in labels)]
    for lab in labels:
        row = "".join(f"{counts[lab, got] or '.':>3}" for got in labels)
        lines.append(f"  {code[lab]} {lab}{'　' * (width - len(lab))} {row}")
    return lines


def report(config: Config, path: Path, confusion: bool, misses: bool) -> None:
    cases = labelled(path)
    result = evaluate(config, cases)
    fell, of = result.to_default
    print(f"{path.name}: {len(cases)} labelled descriptions")
    print(f"  right aspect:    {result.accuracy:.1%}")
    print(f"  right category:  {result.category_accuracy:.1%}")
    print(
        f"  to {result.default}: {fell}/{of} = {result.share(fell, of):.1%} of the aspect-labelled"
    )
    print(f"  first classification of the run: {result.first_seconds * 1000:.0f} ms")
    print(f"  each after it: {result.each_us:.0f} µs")
    if confusion:
        print("  confusion (rows: label, columns: answer):")
        print("\n".join(table(result)))
    if misses:
        for label, got, text in result.answers:
            if label != got:
                print(f"  {label} → {got}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG, help="a config.yaml")
    parser.add_argument("--set", type=Path, help="one labelled set (default: all three)")
    parser.add_argument("--misses", action="store_true", help="print each wrong answer")
    args = parser.parse_args()
    config = load(args.config)
    print(f"classify bench: the rules of {args.config}")
    report(config, args.set or SET, True, args.misses)
    if args.set is None:
        report(config, HOLDOUT, True, args.misses)  # tuned on in the second tuning
        report(config, FRESH, True, args.misses)  # held out: never used to tune the rules


if __name__ == "__main__":
    main()
