from django.contrib import admin
from django.db.models import Prefetch
from django.utils.html import format_html, format_html_join

from identity.forms import PatientCanonicalAdminForm
from identity.models import PatientCanonical


@admin.register(PatientCanonical)
class PatientCanonicalAdmin(admin.ModelAdmin):
    """The person, with their CM record, IntakeQ link and enrollments alongside.

    identity imports no other app, so these are read-only summaries over reverse relations
    (``cm_record``, ``intakeq_link``, ``enrollments``); changes go through each app's own pages.
    """

    form = PatientCanonicalAdminForm
    list_display = ["last_name", "first_name", "date_of_birth", "created_at"]
    search_fields = ["last_name_normalized", "first_name_normalized"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "first_name_normalized",
        "last_name_normalized",
        "created_at",
        "updated_at",
        "cm_record_summary",
        "intakeq_link_summary",
        "enrollments_summary",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("_change"):
            enrollment_model = PatientCanonical._meta.get_field("enrollments").related_model
            queryset = queryset.select_related(
                "cm_record", "intakeq_link__intakeq_patient", "intakeq_link__linked_by_user"
            ).prefetch_related(
                Prefetch(
                    "enrollments",
                    queryset=enrollment_model.objects.select_related("cm_program", "cpss_provider"),
                )
            )
        return queryset

    @admin.display(description="CM record")
    def cm_record_summary(self, obj):
        cm = getattr(obj, "cm_record", None) if obj.pk else None
        if cm is None:
            return "Not in the CM program"
        return format_html(
            "Status: {} · source: {} · insurance: {}",
            cm.get_status_display() if cm.status else "—",
            cm.get_enrollment_source_display() if cm.enrollment_source else "—",
            cm.insurance_primary or "—",
        )

    @admin.display(description="IntakeQ link")
    def intakeq_link_summary(self, obj):
        link = getattr(obj, "intakeq_link", None) if obj.pk else None
        if link is None:
            return "Not linked to IntakeQ"
        who = link.linked_by_user.get_username() if link.linked_by_user else "automatic match"
        return format_html(
            "{} (IntakeQ client {}) · score {} · linked {} by {}",
            link.intakeq_patient,
            link.intakeq_patient.intakeq_client_id,
            link.confidence_score,
            f"{link.linked_date:%Y-%m-%d}" if link.linked_date else "—",
            who,
        )

    @admin.display(description="CM enrollments")
    def enrollments_summary(self, obj):
        enrollments = list(obj.enrollments.all()) if obj.pk else []
        if not enrollments:
            return "No enrollments"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} · {} · CPSS {} · {} points, streak {}</li>",
                (
                    (
                        e.cm_program,
                        e.get_status_display() if e.status else "—",
                        e.cpss_provider or "unassigned",
                        e.total_points,
                        e.current_streak,
                    )
                    for e in enrollments
                ),
            ),
        )
