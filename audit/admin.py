from django.contrib import admin

from audit.models import (
    EnrollmentEvent,
    PatientCanonicalEvent,
    PatientCMEvent,
    PatientIntakeQLinkEvent,
    ProviderCMEvent,
)
from core.admin import ReadOnlyAdminMixin


class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Change history rows: readable by admins, filterable by the changed row's id."""

    list_display = ["pgh_created_at", "pgh_label", "pgh_obj_id", "context_summary"]
    list_filter = ["pgh_label"]
    ordering = ["-pgh_id"]

    @admin.display(description="who / via")
    def context_summary(self, event):
        metadata = event.pgh_context
        if metadata is None:
            return "—"
        who = metadata.get("user") or metadata.get("os_user") or "—"
        via = metadata.get("url") or metadata.get("command") or ""
        return f"{who} {via}".strip()


for event_model in (
    PatientCanonicalEvent,
    PatientCMEvent,
    PatientIntakeQLinkEvent,
    EnrollmentEvent,
    ProviderCMEvent,
):
    admin.site.register(event_model, EventAdmin)
