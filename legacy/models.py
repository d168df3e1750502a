from django.contrib.postgres.functions import TransactionNow
from django.db import models


class LegacyIdMap(models.Model):
    """Which new row each legacy row became: what makes ``migrate_cm_legacy`` safe to rerun.

    Written in the same transaction as the rows it points to, so a run killed between batches
    leaves either both or neither, and the next run carries on where it stopped.
    """

    class LegacyTable(models.TextChoices):
        PROVIDERS = "providers", "providers"
        PATIENTS = "patients", "patients"
        CM_PATIENTS = "cm_patients", "cm_patients"

    class Outcome(models.TextChoices):
        MIGRATED = "migrated", "Migrated (new row created)"
        MERGED = "merged", "Merged into an existing row"

    legacy_table = models.TextField(choices=LegacyTable)
    legacy_id = models.UUIDField()
    new_table = models.TextField()
    new_id = models.UUIDField()
    outcome = models.TextField(choices=Outcome)
    migrated_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    class Meta:
        db_table = "legacy_id_map"
        verbose_name = "legacy id mapping"
        constraints = [
            models.UniqueConstraint(
                fields=["legacy_table", "legacy_id"], name="legacy_id_map_legacy_key"
            ),
            models.CheckConstraint(
                condition=models.Q(legacy_table__in=["providers", "patients", "cm_patients"]),
                name="legacy_id_map_legacy_table_check",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=["migrated", "merged"]),
                name="legacy_id_map_outcome_check",
            ),
        ]

    def __str__(self):
        return f"{self.legacy_table} {self.legacy_id} -> {self.new_table} {self.new_id}"


class MigrationNote(models.Model):
    """A reconciliation note about a legacy row that was migrated (or merged) but is worth a
    person's look, e.g. a free-text value no table maps, left empty in the new row.

    Written in the same transaction as the batch of rows it speaks of, and the report is built
    from this table: a rerun after a killed run still reports what the killed run noted.
    """

    id = models.BigAutoField(primary_key=True)
    legacy_table = models.TextField()
    legacy_id = models.UUIDField()
    reason = models.TextField()
    related_id = models.TextField(null=True, blank=True)
    # Codes and scores only, at most 40 characters of a legacy value; never a name.
    value = models.TextField(blank=True, default="", db_default="")
    noted_at = models.DateTimeField(auto_now_add=True, db_default=TransactionNow())

    class Meta:
        db_table = "legacy_migration_notes"
        verbose_name = "legacy migration note"
        ordering = ["id"]
        constraints = [
            # One note per row and reason, however many runs make it.
            models.UniqueConstraint(
                fields=["legacy_table", "legacy_id", "reason"],
                name="legacy_migration_notes_row_reason_key",
            ),
        ]

    def __str__(self):
        return f"{self.legacy_table} {self.legacy_id}: {self.reason}"
