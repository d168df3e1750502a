"""The incentive rules as a pure function: what each scheduled visit earns, given the outcomes.

No database, no dates, no Django: ``replay(rules, outcomes)`` is the whole calculation, so the
services, ``manage.py incentives_check``, the schedule preview and the tests all compute points
the same way. docs/incentives.md explains the rules with a worked example.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

NEGATIVE = "negative"
POSITIVE = "positive"
INVALID = "invalid"
REFUSED = "refused"
MISSED = "missed"  # unexcused
EXCUSED = "excused"

OUTCOMES = (NEGATIVE, POSITIVE, INVALID, REFUSED, MISSED, EXCUSED)
TEST_RESULTS = (NEGATIVE, POSITIVE, INVALID, REFUSED)
# A test that is not objective evidence of abstinence resets the ladder like a positive one.
RESETTING_RESULTS = frozenset({POSITIVE, INVALID, REFUSED})


@dataclass(frozen=True)
class ScheduleRules:
    """The numbers of one schedule version, in points (integers only)."""

    base_points: int
    step_points: int
    max_points: int
    cap_points: int | None = None
    recovery_after: int | None = None
    missed_resets: bool = True

    def __post_init__(self):
        for name in ("base_points", "step_points", "max_points"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a whole number of points, 0 or more.")
        if self.cap_points is not None and (
            not isinstance(self.cap_points, int) or self.cap_points < 0
        ):
            raise ValueError("cap_points must be a whole number of points, 0 or more.")
        if self.recovery_after is not None and (
            not isinstance(self.recovery_after, int) or self.recovery_after < 1
        ):
            raise ValueError("recovery_after must be 1 or more (or None for no recovery).")

    def award_at(self, level: int) -> int:
        """What a negative test earns at ``level``, before the cap."""
        return min(self.base_points + self.step_points * level, self.max_points)


@dataclass(frozen=True)
class State:
    """Where a participant stands between two visits.

    ``earned`` is what counts against the cap so far; ``remembered`` is the level held just
    before the last reset, while a recovery to it is still possible.
    """

    level: int = 0
    streak: int = 0
    earned: int = 0
    remembered: int | None = None


@dataclass(frozen=True)
class Award:
    """What one visit earned, and the state after it (the ``*_before`` fields explain it)."""

    outcome: str
    points: int
    streak: int
    level: int
    capped: bool
    uncapped_points: int = 0
    level_before: int = 0
    streak_before: int = 0
    reset: bool = False
    recovered: bool = False
    cap_remaining_before: int | None = None

    def explain(self) -> str:
        """The calculation in words, as the ledger and the statement show it."""
        return explain(self)


def step(rules: ScheduleRules, state: State, outcome: str) -> tuple[Award, State]:
    """One visit: its award and the state after it."""
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}.")
    remaining = None if rules.cap_points is None else max(rules.cap_points - state.earned, 0)
    base = {
        "outcome": outcome,
        "level_before": state.level,
        "streak_before": state.streak,
        "cap_remaining_before": remaining,
    }
    if outcome == NEGATIVE:
        uncapped = rules.award_at(state.level)
        points = uncapped if remaining is None else min(uncapped, remaining)
        level, streak = state.level + 1, state.streak + 1
        remembered, recovered = state.remembered, False
        if (
            rules.recovery_after is not None
            and remembered is not None
            and streak == rules.recovery_after
        ):
            recovered = remembered > level
            level = max(level, remembered)
            remembered = None
        after = State(level, streak, state.earned + points, remembered)
        award = Award(
            points=points,
            streak=streak,
            level=level,
            capped=points < uncapped,
            uncapped_points=uncapped,
            recovered=recovered,
            **base,
        )
        return award, after
    if outcome in RESETTING_RESULTS or (outcome == MISSED and rules.missed_resets):
        after = replace(state, level=0, streak=0, remembered=state.level)
        return Award(points=0, streak=0, level=0, capped=False, reset=True, **base), after
    # Excused, or missed where missing does not reset: nothing changes.
    award = Award(points=0, streak=state.streak, level=state.level, capped=False, **base)
    return award, state


def replay(
    rules: ScheduleRules, outcomes: Iterable[str], *, start: State | None = None
) -> list[Award]:
    """The award of each visit, in order, from ``start`` (level 0, streak 0 by default)."""
    return replay_with_state(rules, outcomes, start=start)[0]


def replay_with_state(
    rules: ScheduleRules, outcomes: Iterable[str], *, start: State | None = None
) -> tuple[list[Award], State]:
    state = start or State()
    awards = []
    for outcome in outcomes:
        award, state = step(rules, state, outcome)
        awards.append(award)
    return awards, state


def explain(award: Award) -> str:
    if award.outcome == NEGATIVE:
        words = (
            f"Negative at level {award.level_before}: "
            f"{award.uncapped_points} points (base + step × level, at most the maximum)"
        )
        if award.capped:
            words += f", cut to {award.points} by the cap ({award.cap_remaining_before} left)"
        words += f"; streak {award.streak_before} → {award.streak}"
        if award.recovered:
            words += f"; recovery: level back up to {award.level}"
        else:
            words += f", level {award.level_before} → {award.level}"
        return words + "."
    label = {MISSED: "Missed visit", EXCUSED: "Excused visit"}.get(
        award.outcome, f"{award.outcome.capitalize()} test"
    )
    if award.reset:
        return (
            f"{label}: 0 points; level {award.level_before} and streak {award.streak_before} "
            "reset to 0."
        )
    return f"{label}: 0 points; level and streak unchanged."


def week_by_week(
    rules: ScheduleRules, tests_per_week: Sequence[int], outcomes: Sequence[str]
) -> list[dict]:
    """Rows of a preview table: per week, the tests, points earned and the running total."""
    awards = replay(rules, outcomes)
    rows, index, total = [], 0, 0
    for week, count in enumerate(tests_per_week, start=1):
        week_awards = awards[index : index + count]
        index += count
        if not week_awards:
            break
        points = sum(a.points for a in week_awards)
        total += points
        rows.append(
            {
                "week": week,
                "outcomes": [a.outcome for a in week_awards],
                "points": points,
                "total": total,
                "level": week_awards[-1].level,
                "streak": week_awards[-1].streak,
                "capped": any(a.capped for a in week_awards),
            }
        )
    return rows
