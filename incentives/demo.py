"""Demo histories for ``seed_demo``: weeks of visits and tests, recorded through the services
(so the points and streaks on the demo enrollments are real and ``incentives_check`` passes)."""

import datetime

from django.utils import timezone

from incentives import rules, selectors, services
from incentives.models import ScheduledVisit, VisitStatus

# One letter per scheduled visit, in order.
LETTERS = {
    "N": rules.NEGATIVE,
    "P": rules.POSITIVE,
    "I": rules.INVALID,
    "R": rules.REFUSED,
    "M": rules.MISSED,
    "E": rules.EXCUSED,
}


def demo_history_record(*, enrollment, actor, pattern: str, issue_points: int = 0) -> int:
    """Record ``pattern`` ("NNPNM...") on the enrollment's first open visits that are due, then
    hand over ``issue_points`` (at most the balance) as a gift card. Returns visits recorded."""
    services.visits_plan(enrollment=enrollment, actor=actor)
    today = timezone.localdate()
    visits = ScheduledVisit.objects.filter(
        enrollment=enrollment, status=VisitStatus.PLANNED, due_date__lte=today
    ).order_by("week", "slot")
    recorded = 0
    for visit, letter in zip(visits, pattern, strict=False):
        outcome = LETTERS[letter]
        if outcome in rules.TEST_RESULTS:
            collected_at = timezone.make_aware(
                datetime.datetime.combine(visit.due_date, datetime.time(10, 0))
            )
            services.drug_test_record(
                enrollment=enrollment,
                actor=actor,
                visit=visit,
                collected_at=min(collected_at, timezone.now()),
                result=outcome,
                analytes={"methamphetamine": rules.POSITIVE} if outcome == rules.POSITIVE else {},
            )
        else:
            services.visit_missed_record(
                visit=visit,
                actor=actor,
                excused=outcome == rules.EXCUSED,
                reason="Demo: family emergency" if outcome == rules.EXCUSED else "",
            )
        recorded += 1
    issue_points = min(issue_points, selectors.unissued_balance(enrollment_id=enrollment.pk))
    if issue_points > 0:
        services.incentive_issue(
            enrollment=enrollment,
            actor=actor,
            points=issue_points,
            method="gift_card",
            reference="DEMO-GC-0001",
        )
    return recorded
