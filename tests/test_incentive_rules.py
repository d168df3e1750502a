"""incentives.rules: the pure calculation, by example, week by week, and by property."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentives.rules import (
    OUTCOMES,
    RESETTING_RESULTS,
    ScheduleRules,
    replay,
    week_by_week,
)
from incentives.schedules import DEMO_SCHEDULE

DEMO = ScheduleRules(
    base_points=DEMO_SCHEDULE["base_points"],
    step_points=DEMO_SCHEDULE["step_points"],
    max_points=DEMO_SCHEDULE["max_points"],
    cap_points=DEMO_SCHEDULE["cap_points"],
    recovery_after=DEMO_SCHEDULE["recovery_after"],
    missed_resets=DEMO_SCHEDULE["missed_resets"],
)
DEMO_WEEKS = [2] * 12 + [1] * 12


def points(awards):
    return [a.points for a in awards]


def test_the_demo_schedule_is_calaim_in_points():
    """$10 start, $26.50 at most, $599 a year, 50 cents a point (docs/incentives.md)."""
    assert (DEMO.base_points, DEMO.max_points, DEMO.cap_points) == (20, 53, 1198)
    assert DEMO_SCHEDULE["cents_per_point"] == 50


def test_negatives_climb_by_the_step_to_the_maximum():
    awards = replay(ScheduleRules(base_points=20, step_points=3, max_points=30), ["negative"] * 6)
    assert points(awards) == [20, 23, 26, 29, 30, 30]
    assert [a.level for a in awards] == [1, 2, 3, 4, 5, 6]
    assert [a.streak for a in awards] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("outcome", ["positive", "invalid", "refused", "missed"])
def test_a_reset_outcome_earns_nothing_and_starts_over(outcome):
    awards = replay(ScheduleRules(10, 5, 100), ["negative", "negative", outcome, "negative"])
    assert points(awards) == [10, 15, 0, 10]
    assert (awards[2].level, awards[2].streak, awards[2].reset) == (0, 0, True)


def test_a_missed_visit_changes_nothing_when_missing_does_not_reset():
    rules = ScheduleRules(10, 5, 100, missed_resets=False)
    awards = replay(rules, ["negative", "missed", "negative"])
    assert points(awards) == [10, 0, 15]
    assert awards[1].streak == 1


def test_an_excused_visit_changes_nothing():
    awards = replay(ScheduleRules(10, 5, 100), ["negative", "excused", "negative"])
    assert points(awards) == [10, 0, 15]
    assert (awards[1].level, awards[1].streak) == (1, 1)


def test_recovery_returns_to_the_level_before_the_reset_after_n_negatives():
    rules = ScheduleRules(10, 5, 100, recovery_after=2)
    outcomes = ["negative"] * 4 + ["positive", "negative", "negative", "negative"]
    awards = replay(rules, outcomes)
    # Level 4 before the positive; the 2nd negative after it is paid at the reset level (15),
    # then lifts the level back to 4, so the next one pays 10 + 5 * 4.
    assert points(awards) == [10, 15, 20, 25, 0, 10, 15, 30]
    assert awards[6].recovered and awards[6].level == 4


def test_a_later_reset_replaces_the_remembered_level():
    rules = ScheduleRules(10, 5, 100, recovery_after=2)
    awards = replay(rules, ["negative"] * 3 + ["positive", "positive", "negative", "negative"])
    # The second positive remembers level 0: nothing to recover.
    assert awards[-1].level == 2 and not awards[-1].recovered


def test_excused_visits_do_not_count_toward_recovery():
    rules = ScheduleRules(10, 5, 100, recovery_after=2)
    awards = replay(rules, ["negative"] * 3 + ["positive", "negative", "excused", "negative"])
    assert [a.recovered for a in awards][-1] is True
    assert awards[-2].level == 1


def test_the_cap_cuts_the_award_that_crosses_it_and_zeroes_the_rest():
    awards = replay(ScheduleRules(10, 0, 10, cap_points=25), ["negative"] * 4)
    assert points(awards) == [10, 10, 5, 0]
    assert [a.capped for a in awards] == [False, False, True, True]


def test_a_capped_negative_still_raises_level_and_streak():
    awards = replay(ScheduleRules(10, 1, 20, cap_points=10), ["negative"] * 3)
    assert [a.level for a in awards] == [1, 2, 3]


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="Unknown outcome"):
        replay(ScheduleRules(10, 0, 10), ["negative", "dilute"])


def test_negative_points_in_the_rules_are_refused():
    with pytest.raises(ValueError):
        ScheduleRules(-1, 0, 10)


# The demo schedule (CalAIM's numbers) week by week, all negatives: 2 tests a week in weeks
# 1-12, then 1; the $599 (1,198 points) cap is reached in week 15.
DEMO_ALL_NEGATIVE = [
    # week, points that week, running total, level after, capped
    (1, 43, 43, 2, False),
    (2, 55, 98, 4, False),
    (3, 67, 165, 6, False),
    (4, 79, 244, 8, False),
    (5, 91, 335, 10, False),
    (6, 103, 438, 12, False),
    (7, 106, 544, 14, False),
    (8, 106, 650, 16, False),
    (9, 106, 756, 18, False),
    (10, 106, 862, 20, False),
    (11, 106, 968, 22, False),
    (12, 106, 1074, 24, False),
    (13, 53, 1127, 25, False),
    (14, 53, 1180, 26, False),
    (15, 18, 1198, 27, True),
    (16, 0, 1198, 28, True),
    (24, 0, 1198, 36, True),
]


def test_demo_schedule_week_by_week_on_all_negatives():
    rows = {row["week"]: row for row in week_by_week(DEMO, DEMO_WEEKS, ["negative"] * 36)}
    assert len(rows) == 24
    for week, earned, total, level, capped in DEMO_ALL_NEGATIVE:
        row = rows[week]
        assert (row["points"], row["total"], row["level"], row["capped"]) == (
            earned,
            total,
            level,
            capped,
        ), week


# A positive in week 3 (first visit), then negatives: reset to $10, recovery after two.
DEMO_WITH_A_POSITIVE = [
    (1, 43, 43, 2),
    (2, 55, 98, 4),
    (3, 20, 118, 1),  # positive (0), then a negative at level 0 (20)
    (4, 23 + 32, 173, 5),  # 2nd negative after the reset pays 23, recovers level 4: next pays 32
    (5, 35 + 38, 246, 7),
]


def test_demo_schedule_week_by_week_with_a_positive():
    outcomes = ["negative"] * 4 + ["positive"] + ["negative"] * 31
    rows = {row["week"]: row for row in week_by_week(DEMO, DEMO_WEEKS, outcomes)}
    for week, earned, total, level in DEMO_WITH_A_POSITIVE:
        assert (rows[week]["points"], rows[week]["total"], rows[week]["level"]) == (
            earned,
            total,
            level,
        ), week


outcomes_strategy = st.lists(st.sampled_from(OUTCOMES), max_size=60)
rules_strategy = st.builds(
    lambda base, step, extra, cap, recovery, missed: ScheduleRules(
        base_points=base,
        step_points=step,
        max_points=base + extra,
        cap_points=cap,
        recovery_after=recovery,
        missed_resets=missed,
    ),
    st.integers(0, 100),
    st.integers(0, 20),
    st.integers(0, 200),
    st.none() | st.integers(0, 2000),
    st.none() | st.integers(1, 5),
    st.booleans(),
)


@given(rules_strategy, outcomes_strategy)
def test_property_the_total_never_exceeds_the_cap(rules, outcomes):
    total = sum(points(replay(rules, outcomes)))
    if rules.cap_points is not None:
        assert total <= rules.cap_points


@given(rules_strategy, outcomes_strategy)
def test_property_a_reset_outcome_earns_nothing_and_zeroes_the_streak(rules, outcomes):
    for award in replay(rules, outcomes):
        if award.outcome in RESETTING_RESULTS or (
            award.outcome == "missed" and rules.missed_resets
        ):
            assert (award.points, award.streak, award.level) == (0, 0, 0)


@given(rules_strategy, outcomes_strategy)
def test_property_replay_is_deterministic(rules, outcomes):
    assert replay(rules, outcomes) == replay(rules, list(outcomes))


@given(rules_strategy, outcomes_strategy)
def test_property_each_award_is_at_most_the_maximum(rules, outcomes):
    assert all(0 <= a.points <= rules.max_points for a in replay(rules, outcomes))


@given(rules_strategy, outcomes_strategy)
def test_property_only_negatives_earn(rules, outcomes):
    assert all(a.points == 0 for a in replay(rules, outcomes) if a.outcome != "negative")


@given(rules_strategy, outcomes_strategy)
def test_property_excused_visits_change_nothing(rules, outcomes):
    with_excused = replay(
        rules, [o for pair in zip(outcomes, ["excused"] * len(outcomes), strict=True) for o in pair]
    )
    without = replay(rules, outcomes)
    assert points(with_excused)[::2] == points(without)


def test_the_worked_example_of_the_docs():
    """docs/incentives.md: four negatives, a positive, three negatives on the demo schedule."""
    awards = replay(DEMO, ["negative"] * 4 + ["positive"] + ["negative"] * 3)
    assert points(awards) == [20, 23, 26, 29, 0, 20, 23, 32]
    assert [a.level for a in awards] == [1, 2, 3, 4, 0, 1, 4, 5]
