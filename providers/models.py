import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from core.models import TimestampedModel
from providers.querysets import ProviderCMQuerySet


class Provider(models.Model):
    """The practice's existing `providers` table (psychiatry), owned by others: never migrated here.

    The old CM app also kept its CPSS staff in it; ``migrate_cm_legacy`` moves those to ProviderCM.
    Columns are those of the legacy tables' contract, tests/fixtures/legacy_schema.sql.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.TextField()
    last_name = models.TextField()
    email = models.TextField(null=True, blank=True)
    phone = models.TextField(null=True, blank=True)
    role = models.TextField(default="psychiatrist")
    credentials = models.TextField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        managed = False
        db_table = "providers"
        ordering = ["last_name", "first_name"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class ProviderCM(TimestampedModel):
    """CPSS peer-support staff, kept apart from the psychiatry providers."""

    class Role(models.TextChoices):
        CPSS = "cpss", "CPSS"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Admin"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    canonical_provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cm_roles",
        help_text="The psychiatry provider row, for staff who hold both roles.",
    )
    # Not in the seed: the staff member's own login. Nullable, so seed-only inserts still work.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cm_provider",
    )
    first_name = models.TextField()
    last_name = models.TextField()
    email = models.TextField(null=True, blank=True, unique=True)
    phone = models.TextField(null=True, blank=True)
    role = models.TextField(choices=Role, default=Role.CPSS, db_default=Role.CPSS, null=True)
    credentials = models.TextField(null=True, blank=True, help_text="e.g. CPSS-I, CPSS-II")
    hire_date = models.DateField(null=True, blank=True)
    status = models.TextField(
        choices=Status, default=Status.ACTIVE, db_default=Status.ACTIVE, null=True
    )
    max_caseload = models.IntegerField(
        default=30, db_default=30, null=True, validators=[MinValueValidator(0)]
    )

    objects = ProviderCMQuerySet.as_manager()

    def clean(self):
        # A blank email is "no email" (NULL): '' would count as taken by the UNIQUE constraint.
        if self.email is not None and not self.email.strip():
            self.email = None
        self._refuse_max_caseload_below_active()

    def _refuse_max_caseload_below_active(self):
        # Never "15 of 5 active": the limit cannot go below what the CPSS already carries.
        # providers sits below cm_program, so enrollments are counted over the reverse relation.
        if self._state.adding or self.max_caseload is None:
            return
        active = self.enrollments.filter(status="active").count()
        if self.max_caseload < active:
            raise ValidationError(
                {
                    "max_caseload": (
                        f"{self} has {active} active enrollments: the maximum caseload cannot "
                        f"be lower than {active}. Reassign or close enrollments first."
                    )
                }
            )

    class Meta:
        db_table = "providers_cm"
        verbose_name = "CM provider"
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["cpss", "supervisor", "admin"]),
                name="providers_cm_role_check",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "inactive"]),
                name="providers_cm_status_check",
            ),
            models.CheckConstraint(
                condition=models.Q(max_caseload__gte=0),
                name="providers_cm_max_caseload_check",
            ),
            models.CheckConstraint(
                condition=models.Q(email__isnull=True) | models.Q(email__regex=r"\S"),
                name="providers_cm_email_not_blank_check",
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"
