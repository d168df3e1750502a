from django.contrib import admin

from access_log.models import PatientAccessLog
from core.admin import ReadOnlyAdminMixin


@admin.register(PatientAccessLog)
class PatientAccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["viewed_at", "username", "patient_kind", "patient_id", "path"]
    list_filter = ["patient_kind"]
    search_fields = ["username"]
    date_hierarchy = "viewed_at"
