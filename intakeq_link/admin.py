from django.contrib import admin

from intakeq_link.models import PatientIntakeQLink


@admin.register(PatientIntakeQLink)
class PatientIntakeQLinkAdmin(admin.ModelAdmin):
    list_display = ["canonical_patient", "intakeq_patient", "confidence_score", "linked_date"]
    raw_id_fields = ["canonical_patient", "intakeq_patient"]
    readonly_fields = ["id", "linked_date"]
