from django.db import models


class PatientKind(models.TextChoices):
    """Which table the id of a viewed patient points into."""

    CANONICAL = "canonical", "Canonical patient"
    CM = "cm", "CM patient"
    INTAKEQ = "intakeq", "IntakeQ patient"
