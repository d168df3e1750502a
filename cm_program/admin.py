from django.contrib import admin

from cm_program.models import ContingencyManagement, Enrollment, PatientCM


@admin.register(ContingencyManagement)
class ContingencyManagementAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]


@admin.register(PatientCM)
class PatientCMAdmin(admin.ModelAdmin):
    list_display = ["canonical_patient", "status", "enrollment_source", "insurance_primary"]
    list_filter = ["status", "enrollment_source", "smartphone_access"]
    list_select_related = ["canonical_patient"]
    raw_id_fields = ["canonical_patient"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = [
        "canonical_patient",
        "cm_program",
        "cpss_provider",
        "status",
        "total_points",
        "current_streak",
    ]
    list_filter = ["status", "cm_program", "cpss_provider"]
    list_select_related = ["canonical_patient", "cm_program", "cpss_provider"]
    raw_id_fields = ["canonical_patient", "cm_patient"]
    readonly_fields = ["id", "created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        # An enrollment ends by its status (withdrawn); deleting it would delete its status
        # history, which the database refuses (append-only).
        return False
