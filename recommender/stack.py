"""The skill stack: an ordered path of courses that covers the most weighted required skills with
the fewest hours.

Greedy weighted set cover (the classic ln n approximation): each step takes the candidate whose
newly covered skill weight per hour is highest, until nothing adds coverage or the stack is full.
The chosen courses are then ordered beginner → advanced, keeping the greedy order within a level,
so the path starts where a newcomer can start. A `first` candidate (the engine passes the best-ranked
credential that closes much of the gap) is taken before the greedy steps and stays first: a learner
who takes a professional certificate starts with it and adds what it leaves open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# A course whose length is unknown is costed like a typical short MOOC rather than as free time.
UNKNOWN_HOURS = 20.0
# Hours are added to this before dividing, so a 1-hour project does not win on a sliver of gain.
HOURS_FLOOR = 4.0
MAX_STEPS = 6
LEVEL_ORDER = {"beginner": 0, "mixed": 1, None: 1, "intermediate": 2, "advanced": 3}


@dataclass(frozen=True)
class Candidate:
    index: int  # the engine's row of the course
    hours: float | None
    level: str | None
    skills: frozenset[int]  # required-skill columns the course covers


@dataclass(frozen=True)
class Step:
    index: int
    closes: tuple[int, ...]  # required-skill columns this step covers first, heaviest first


def greedy_stack(
    candidates: Sequence[Candidate],
    weights: dict[int, float],
    *,
    max_steps: int = MAX_STEPS,
    first: Candidate | None = None,
) -> list[Step]:
    uncovered = {s for s, w in weights.items() if w > 0}
    remaining = [c for c in candidates if c is not first]
    head: list[Step] = []
    if first is not None and first.skills & uncovered:
        gain = tuple(sorted(first.skills & uncovered, key=lambda s: -weights[s]))
        head = [Step(first.index, gain)]
        uncovered -= set(gain)
        max_steps -= 1
    chosen: list[tuple[Candidate, tuple[int, ...]]] = []
    while uncovered and remaining and len(chosen) < max_steps:
        best, best_ratio, best_gain = None, 0.0, ()
        for candidate in remaining:
            gain = candidate.skills & uncovered
            if not gain:
                continue
            hours = candidate.hours if candidate.hours and candidate.hours > 0 else UNKNOWN_HOURS
            ratio = sum(weights[s] for s in gain) / (hours + HOURS_FLOOR)
            if ratio > best_ratio:
                best, best_ratio, best_gain = candidate, ratio, tuple(sorted(gain, key=lambda s: -weights[s]))
        if best is None:
            break
        chosen.append((best, best_gain))
        uncovered -= set(best_gain)
        remaining.remove(best)
    ordered = sorted(enumerate(chosen), key=lambda pair: (LEVEL_ORDER.get(pair[1][0].level, 1), pair[0]))
    return head + [Step(candidate.index, closes) for _, (candidate, closes) in ordered]
