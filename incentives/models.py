"""Schedules, planned visits, drug tests and the incentive ledger (docs/incentives.md).

Every row hangs off an enrollment (``cm_enrollments``), so whoever may see the enrollment may
see its visits, tests and ledger, and nobody else: ``visible_to`` follows
``Enrollment.objects.visible_to``. Drug tests and the ledger are append-only in the database;
a schedule version is frozen once published.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import TransactionNow
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cm_program.models import ContingencyManagement, Enrollment
from core.models import TimestampedModel, UUIDModel
from incentives import rules

STIMULANTS = ["cocaine", "methamphetamine", "amphetamine"]


def default_analytes() -> list[str]:
    """What an incentive is paid on unless a schedule says otherwise: stimulants only."""
    return list(STIMULANTS)


class EnrollmentScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows of the enrollments the user may see (deny by default, as Enrollment's)."""
        return self.filter(enrollment__in=Enrollment.objects.visible_to(user).values("pk"))


class CapPeriod(models.TextChoices):
    CALENDAR_YEAR = "calendar_year", "Calendar year"
    ENROLLMENT = "enrollment", "Enrollment"


class IncentiveSchedule(TimestampedModel):
    """One version of a written schedule: the clinic's numbers, in points, with a citation.

    ``weeks`` lists the visit plan as ``[{"first_week": 1, "last_week": 12, "tests_per_week":
    2}, ...]``. A published version never changes (database trigger): a new number is a new
    version. ``cm_program`` empty means the clinic's default for every program.
    """

    name = models.TextField()
    version = models.PositiveIntegerField(default=1, db_default=1)
    cm_program = models.ForeignKey(
        ContingencyManagement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incentive_schedules",
    )
    weeks = models.JSONField()
    base_points = models.PositiveIntegerField()
    step_points = models.PositiveIntegerField(default=0, db_default=0)
    max_points = models.PositiveIntegerField()
    cap_points = models.PositiveIntegerField(null=True, blank=True)
    cap_period = models.TextField(
        choices=CapPeriod, default=CapPeriod.CALENDAR_YEAR, db_default=CapPeriod.CALENDAR_YEAR
    )
    cents_per_point = models.PositiveIntegerField(default=50, db_default=50)
    recovery_after = models.PositiveIntegerField(null=True, blank=True)
    missed_resets = models.BooleanField(default=True, db_default=True)
    target_analytes = ArrayField(
        models.TextField(), default=default_analytes, db_default=STIMULANTS
    )
    citation = models.TextField(blank=True, default="", db_default="")
    is_example = models.BooleanField(default=False, db_default=False)
    notes = models.TextField(blank=True, default="", db_default="")
    # PROTECT, here and on the tests and the ledger: those rows are frozen in the database, so a
    # user who wrote one is deactivated, never deleted (SET_NULL would rewrite them).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "cm_incentive_schedules"
        verbose_name = "incentive schedule version"
        ordering = ["name", "-version"]
        permissions = [("publish_incentiveschedule", "Can define and publish incentive schedules")]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"], name="cm_incentive_schedules_name_version_key"
            ),
            models.CheckConstraint(
                condition=Q(base_points__gt=0) & Q(max_points__gte=models.F("base_points")),
                name="cm_incentive_schedules_points_check",
            ),
            # A cap below one award would pay nothing: refused (issue #14, bad input).
            models.CheckConstraint(
                condition=Q(cap_points__isnull=True) | Q(cap_points__gte=models.F("max_points")),
                name="cm_incentive_schedules_cap_check",
            ),
            models.CheckConstraint(
                condition=Q(cents_per_point__gt=0), name="cm_incentive_schedules_cents_check"
            ),
            models.CheckConstraint(
                condition=Q(recovery_after__isnull=True) | Q(recovery_after__gt=0),
                name="cm_incentive_schedules_recovery_check",
            ),
            models.CheckConstraint(
                condition=Q(cap_period__in=["calendar_year", "enrollment"]),
                name="cm_incentive_schedules_cap_period_check",
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def rules(self) -> rules.ScheduleRules:
        return rules.ScheduleRules(
            base_points=self.base_points,
            step_points=self.step_points,
            max_points=self.max_points,
            cap_points=self.cap_points,
            recovery_after=self.recovery_after,
            missed_resets=self.missed_resets,
        )

    def tests_per_week(self) -> list[int]:
        """Tests in week 1, 2, ... up to the last planned week."""
        plan = []
        for block in sorted(self.weeks or [], key=lambda b: b["first_week"]):
            while len(plan) < block["last_week"]:
                plan.append(0)
            for week in range(block["first_week"], block["last_week"] + 1):
                plan[week - 1] = block["tests_per_week"]
        return plan

    def dollars(self, points: int) -> str:
        cents = points * self.cents_per_point
        sign = "-" if cents < 0 else ""
        return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


class IncentivePlan(UUIDModel):
    """An enrollment's pinned schedule version: the one in force when its visits were planned
    (at its first test at the latest). Visits are planned from ``start_date``."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.PROTECT, related_name="incentive_plan"
    )
    schedule = models.ForeignKey(IncentiveSchedule, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    objects = EnrollmentScopedQuerySet.as_manager()

    class Meta:
        db_table = "cm_incentive_plans"
        verbose_name = "incentive plan"

    def __str__(self):
        return f"{self.schedule} from {self.start_date}"


class VisitStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ATTENDED = "attended", "Attended"
    MISSED = "missed", "Missed"
    EXCUSED = "excused", "Excused"


class ScheduledVisit(TimestampedModel):
    """One planned test visit: week and slot of the schedule, its due date, what happened."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="incentive_visits"
    )
    schedule = models.ForeignKey(IncentiveSchedule, on_delete=models.PROTECT, related_name="+")
    week = models.PositiveSmallIntegerField()
    slot = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    status = models.TextField(
        choices=VisitStatus, default=VisitStatus.PLANNED, db_default=VisitStatus.PLANNED
    )
    reason = models.TextField(blank=True, default="", db_default="")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    marked_at = models.DateTimeField(null=True, blank=True)

    objects = EnrollmentScopedQuerySet.as_manager()

    class Meta:
        db_table = "cm_incentive_visits"
        verbose_name = "scheduled visit"
        ordering = ["enrollment", "week", "slot"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "week", "slot"], name="cm_incentive_visits_slot_key"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "attended", "missed", "excused"]),
                name="cm_incentive_visits_status_check",
            ),
            models.CheckConstraint(
                condition=~Q(status="excused") | ~Q(reason=""),
                name="cm_incentive_visits_excused_reason_check",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="cm_incentive_visits_due_idx"),
        ]

    def __str__(self):
        return f"week {self.week} visit {self.slot} (due {self.due_date})"


class TestResult(models.TextChoices):
    NEGATIVE = rules.NEGATIVE, "Negative"
    POSITIVE = rules.POSITIVE, "Positive"
    INVALID = rules.INVALID, "Invalid specimen"
    REFUSED = rules.REFUSED, "Refused"


class DrugTestQuerySet(EnrollmentScopedQuerySet):
    def current(self):
        """The tests that stand: none superseded them (the last of each correction chain).

        As NOT EXISTS, which PostgreSQL answers from the unique index on supersedes_id; as a
        left join (``superseded_by__isnull=True``) it scanned every test for each batch of
        incentives_check."""
        return self.filter(
            ~models.Exists(DrugTest.objects.filter(supersedes=models.OuterRef("pk")))
        )


class DrugTest(UUIDModel):
    """A urine drug test as collected; never edited. A lab confirmation that overturns it is a
    new row with ``supersedes`` pointing here (``drug_test_correct``)."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="drug_tests")
    visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.PROTECT, null=True, blank=True, related_name="tests"
    )
    collected_at = models.DateTimeField()
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    specimen_valid = models.BooleanField(default=True, db_default=True)
    # Per analyte: {"cocaine": "negative", ...}; the verdict below is what the schedule pays on.
    analytes = models.JSONField(default=dict, db_default={}, blank=True)
    result = models.TextField(choices=TestResult)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    reason = models.TextField(blank=True, default="", db_default="")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    objects = DrugTestQuerySet.as_manager()

    class Meta:
        db_table = "cm_drug_tests"
        verbose_name = "drug test"
        ordering = ["enrollment", "collected_at"]
        permissions = [("correct_drugtest", "Can correct tests, excuse visits and void entries")]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=rules.TEST_RESULTS), name="cm_drug_tests_result_check"
            ),
            # One original test per visit; its corrections chain from it.
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(supersedes__isnull=True),
                name="cm_drug_tests_one_per_visit",
            ),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(reason=""),
                name="cm_drug_tests_correction_reason_check",
            ),
        ]
        indexes = [
            models.Index(fields=["enrollment", "collected_at"], name="cm_drug_tests_enr_idx"),
        ]

    def __str__(self):
        # The clinic's day: an evening test is the next day in UTC.
        return f"{self.get_result_display()} test of {timezone.localdate(self.collected_at)}"


class EntryKind(models.TextChoices):
    EARNED = "earned", "Earned"
    ADJUSTMENT = "adjustment", "Adjustment"
    OPENING_BALANCE = "opening_balance", "Opening balance (migrated)"
    ISSUED = "issued", "Issued"
    REDEEMED = "redeemed", "Redeemed"
    VOID = "void", "Void"


# Entries that count toward points earned (total_points); issued and redeemed lower only the
# unissued balance. A void counts in the account of the entry it voids.
EARNING_KINDS = (EntryKind.EARNED, EntryKind.ADJUSTMENT, EntryKind.OPENING_BALANCE)
PAYING_KINDS = (EntryKind.ISSUED, EntryKind.REDEEMED)
# The reason an adjustment starts with when another enrollment of the person moved what counts
# against the shared yearly cap: the pages show a CPSS who cannot see that enrollment a neutral
# wording instead of what happened there.
CAP_SHARED_REASON = "cap shared with another enrollment"


class Account(models.TextChoices):
    EARNED = "earned", "Earned"
    ISSUED = "issued", "Issued"


# The ledger's write order. A sequence, not created_at: that is the transaction's start time,
# shared by every entry a reconciliation posts (and earlier than the entries of a transaction
# that committed while this one waited for the lock); the ids are random.
LEDGER_SEQUENCE = "cm_incentive_ledger_seq_seq"


class LedgerEntry(UUIDModel):
    """One line of the incentive ledger; append-only in the database.

    ``trace`` keeps the calculation (the replay's award, in numbers and words), so every point
    can be explained. Issued and redeemed amounts are stored as positive points in the
    ``issued`` account. ``seq`` numbers the entries in the order they were written; of an
    enrollment's entries that state a streak, the last one states ``current_streak``.
    """

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.TextField(choices=EntryKind)
    account = models.TextField(choices=Account)
    points = models.IntegerField()
    occurred_on = models.DateField()
    visit = models.ForeignKey(
        ScheduledVisit, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    drug_test = models.ForeignKey(
        DrugTest, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    schedule = models.ForeignKey(
        IncentiveSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    level_before = models.IntegerField(null=True, blank=True)
    level_after = models.IntegerField(null=True, blank=True)
    streak_before = models.IntegerField(null=True, blank=True)
    streak_after = models.IntegerField(null=True, blank=True)
    trace = models.JSONField(default=dict, db_default={}, blank=True)
    reason = models.TextField(blank=True, default="", db_default="")
    method = models.TextField(blank=True, default="", db_default="")
    reference = models.TextField(blank=True, default="", db_default="")
    voids = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="voided_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())
    # Filled by the database, for every client (migration 0004 creates the sequence).
    seq = models.BigIntegerField(
        db_default=models.Func(
            models.Value(LEDGER_SEQUENCE), function="nextval", output_field=models.BigIntegerField()
        ),
        editable=False,
    )

    objects = EnrollmentScopedQuerySet.as_manager()

    class Meta:
        db_table = "cm_incentive_ledger"
        verbose_name = "incentive ledger entry"
        verbose_name_plural = "incentive ledger entries"
        ordering = ["enrollment", "seq"]
        permissions = [("view_incentive_report", "Can see incentive reports of every program")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "earned",
                        "adjustment",
                        "opening_balance",
                        "issued",
                        "redeemed",
                        "void",
                    ]
                ),
                name="cm_incentive_ledger_kind_check",
            ),
            models.CheckConstraint(
                condition=Q(account__in=["earned", "issued"]),
                name="cm_incentive_ledger_account_check",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["earned", "issued", "redeemed"]) | Q(points__gte=0),
                name="cm_incentive_ledger_points_sign_check",
            ),
            models.CheckConstraint(
                condition=~Q(kind="void") | (Q(voids__isnull=False) & ~Q(reason="")),
                name="cm_incentive_ledger_void_check",
            ),
            # One earned entry per visit: later changes to it are adjustments.
            models.UniqueConstraint(
                fields=["visit"],
                condition=Q(kind="earned"),
                name="cm_incentive_ledger_one_earned_per_visit",
            ),
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(kind="opening_balance"),
                name="cm_incentive_ledger_one_opening_balance",
            ),
            models.UniqueConstraint(fields=["seq"], name="cm_incentive_ledger_seq_key"),
        ]
        indexes = [
            models.Index(fields=["enrollment", "created_at"], name="cm_incentive_ledger_enr_idx"),
            models.Index(fields=["occurred_on"], name="cm_incentive_ledger_date_idx"),
            models.Index(fields=["enrollment", "seq"], name="cm_incentive_ledger_order_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.points:+d}"

    @property
    def method_in_words(self) -> str:
        """How it was handed over as staff say it ("gift card"), not the stored key."""
        return self.method.replace("_", " ")

    @property
    def trace_words(self) -> str:
        return (self.trace or {}).get("words", "") or self.reason
