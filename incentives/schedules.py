"""The demo schedule: California's Recovery Incentives Program (CalAIM, DHCS BHIN 23-040) in
points of 50 cents. An example only: the clinic must confirm its own numbers before use.

Also the writes of schedule versions: define a draft, change it, publish it (then frozen).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incentives.models import IncentiveSchedule

DEMO_SCHEDULE = {
    "name": "Stimulant CM (example modelled on CalAIM)",
    "weeks": [
        {"first_week": 1, "last_week": 12, "tests_per_week": 2},
        {"first_week": 13, "last_week": 24, "tests_per_week": 1},
    ],
    "cents_per_point": 50,
    "base_points": 20,  # $10.00
    "step_points": 3,  # +$1.50 per consecutive negative
    "max_points": 53,  # $26.50
    "cap_points": 1198,  # $599 per calendar year, under the $600 tax-reporting threshold
    "cap_period": "calendar_year",
    "recovery_after": 2,
    "missed_resets": True,
    "target_analytes": ["cocaine", "methamphetamine", "amphetamine"],
    "citation": (
        "DHCS BHIN 23-040, California Recovery Incentives Program (CalAIM): 24 weeks; "
        "$10 rising to $26.50 per stimulant-negative test; at most $599 per person per year."
    ),
    "is_example": True,
    "notes": "Example numbers: the clinic must confirm them (and its funder's limits) first.",
}

# Programs run weeks to months; ten years bounds the weeks checked and the visits planned.
LAST_WEEK = 520

SCHEDULE_FIELDS = (
    "name",
    "cm_program",
    "weeks",
    "cents_per_point",
    "base_points",
    "step_points",
    "max_points",
    "cap_points",
    "cap_period",
    "recovery_after",
    "missed_resets",
    "target_analytes",
    "citation",
    "is_example",
    "notes",
)


def _clean_weeks(weeks) -> None:
    problem = "List the weeks as ranges with tests per week, e.g. weeks 1-12: 2 a week."
    if not isinstance(weeks, list) or not weeks:
        raise ValidationError({"weeks": problem})
    covered = set()
    for block in weeks:
        try:
            first, last, count = block["first_week"], block["last_week"], block["tests_per_week"]
        except (KeyError, TypeError):
            raise ValidationError({"weeks": problem}) from None
        if not all(isinstance(v, int) for v in (first, last, count)):
            raise ValidationError({"weeks": problem})
        if first < 1 or last < first or not 1 <= count <= 7:
            raise ValidationError(
                {"weeks": f"Weeks {first}-{last}: weeks start at 1 and a week has 1-7 tests."}
            )
        if last > LAST_WEEK:
            raise ValidationError({"weeks": f"A schedule ends by week {LAST_WEEK} (ten years)."})
        if covered & set(range(first, last + 1)):
            raise ValidationError({"weeks": f"Weeks {first}-{last} overlap another range."})
        covered |= set(range(first, last + 1))


def _clean(schedule: IncentiveSchedule) -> None:
    _clean_weeks(schedule.weeks)
    if schedule.max_points is not None and schedule.base_points is not None:
        if schedule.max_points < schedule.base_points:
            raise ValidationError({"max_points": "The maximum is below the first award."})
        if schedule.cap_points is not None and schedule.cap_points < schedule.max_points:
            raise ValidationError(
                {"cap_points": "The cap is below one award: nobody could be paid in full."}
            )
    schedule.full_clean()


@transaction.atomic
def schedule_create(*, actor, **fields) -> IncentiveSchedule:
    """A draft version; its number follows the last version of the same name."""
    unknown = set(fields) - set(SCHEDULE_FIELDS)
    if unknown:
        raise ValueError(f"Not schedule fields: {sorted(unknown)}")
    last = (
        IncentiveSchedule.objects.filter(name=fields.get("name"))
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    schedule = IncentiveSchedule(**fields, version=(last or 0) + 1, created_by=actor)
    _clean(schedule)
    schedule.save()
    return schedule


@transaction.atomic
def schedule_update(*, schedule: IncentiveSchedule, actor, **fields) -> IncentiveSchedule:
    """Change a draft. A published version is frozen (the database refuses it too)."""
    schedule = IncentiveSchedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.is_published:
        raise ValidationError(
            "A published schedule cannot be edited; make a new version from it instead."
        )
    for name, value in fields.items():
        if name not in SCHEDULE_FIELDS or name == "name":
            raise ValueError(f"Not an editable schedule field: {name}")
        setattr(schedule, name, value)
    _clean(schedule)
    schedule.save()
    return schedule


@transaction.atomic
def schedule_publish(*, schedule: IncentiveSchedule, actor) -> IncentiveSchedule:
    """Publish a draft: from now on new enrollments pin it, and it never changes."""
    schedule = IncentiveSchedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.is_published:
        return schedule
    _clean(schedule)
    schedule.published_at = timezone.now()
    schedule.published_by = actor
    schedule.save(update_fields=["published_at", "published_by", "updated_at"])
    return schedule


@transaction.atomic
def schedule_new_version(*, schedule: IncentiveSchedule, actor) -> IncentiveSchedule:
    """A draft copy of a version, to change and publish as the next one."""
    return schedule_create(
        actor=actor, **{name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
    )


@transaction.atomic
def schedule_demo_publish(*, actor) -> IncentiveSchedule:
    """The demo schedule, published (once: a rerun finds it)."""
    existing = IncentiveSchedule.objects.filter(
        name=DEMO_SCHEDULE["name"], published_at__isnull=False
    ).first()
    if existing is not None:
        return existing
    return schedule_publish(schedule=schedule_create(actor=actor, **DEMO_SCHEDULE), actor=actor)
