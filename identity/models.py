from django.db import models

from core.models import TimestampedModel
from identity.querysets import PatientCanonicalQuerySet
from identity.validators import validate_person_name


class NormalizeName(models.Func):
    """cm_normalize_name(text): the database's definition of 'the same name' (see normalization)."""

    function = "cm_normalize_name"
    output_field = models.TextField()


class PatientCanonical(TimestampedModel):
    """One row per real person: identity only, no clinical or program data."""

    first_name = models.TextField(validators=[validate_person_name])
    last_name = models.TextField(validators=[validate_person_name])
    date_of_birth = models.DateField()
    # Not in the seed: computed by the database, so clients that insert only the seed's columns
    # still get the normalized uniqueness below.
    first_name_normalized = models.GeneratedField(
        expression=NormalizeName("first_name"),
        output_field=models.TextField(),
        db_persist=True,
    )
    last_name_normalized = models.GeneratedField(
        expression=NormalizeName("last_name"),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = PatientCanonicalQuerySet.as_manager()

    class Meta:
        db_table = "patients_canonical"
        verbose_name = "canonical patient"
        ordering = ["last_name", "first_name", "date_of_birth"]
        permissions = [
            ("view_complete_patient_view", "Can see a person across CM and IntakeQ"),
            ("view_dual_enrollment_report", "Can see who is in both CM and IntakeQ"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["first_name", "last_name", "date_of_birth"],
                name="patients_canonical_first_name_last_name_date_of_birth_key",
            ),
            # The seed's UNIQUE lets 'Jessica ' and 'jessica' become two people; this one does not.
            models.UniqueConstraint(
                fields=["first_name_normalized", "last_name_normalized", "date_of_birth"],
                name="patients_canonical_normalized_identity_key",
            ),
        ]
        indexes = [
            models.Index(fields=["date_of_birth"], name="patients_canonical_dob_idx"),
            models.Index(
                fields=["last_name_normalized", "first_name_normalized"],
                name="patients_canonical_name_idx",
            ),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name} ({self.date_of_birth:%Y-%m-%d})"
