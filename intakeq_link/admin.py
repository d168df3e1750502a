import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from intakeq_link.models import LinkHistory, LinkProposal, PatientIntakeQLink
from intakeq_link.services import (
    REVIEW_PERMISSION,
    intakeq_link_create,
    link_proposal_confirm,
    link_proposal_reject,
)


@admin.register(PatientIntakeQLink)
class PatientIntakeQLinkAdmin(admin.ModelAdmin):
    list_display = [
        "canonical_patient",
        "intakeq_patient",
        "confidence_score",
        "linked_by_user",
        "linked_date",
    ]
    raw_id_fields = ["canonical_patient", "intakeq_patient"]
    readonly_fields = ["id", "linked_date", "linked_by", "linked_by_user"]
    list_select_related = ["canonical_patient", "intakeq_patient", "linked_by_user"]

    def has_change_permission(self, request, obj=None):
        # A link is made or undone (with a reason, in history), never edited in place.
        return False

    def has_delete_permission(self, request, obj=None):
        # Unlinking needs a reason kept in history: intakeq_link.services.intakeq_link_delete.
        return False

    def save_model(self, request, obj, form, change):
        saved = intakeq_link_create(
            canonical_patient=obj.canonical_patient,
            intakeq_patient=obj.intakeq_patient,
            confidence_score=obj.confidence_score if obj.confidence_score is not None else 1,
            actor=request.user,
        )
        obj.pk = saved.pk


class _ReviewerOnly:
    """The review queue and its history are for staff holding the review permission (Admin)."""

    def has_module_permission(self, request):
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PendingFirst(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*LinkProposal.Status.choices, ("all", "All")]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or LinkProposal.Status.PENDING) == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or LinkProposal.Status.PENDING
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(LinkProposal)
class LinkProposalAdmin(_ReviewerOnly, admin.ModelAdmin):
    """The review queue: pending pairs first; select rows, then 'Same person' or 'Different'."""

    list_display = [
        "canonical_patient",
        "canonical_date_of_birth",
        "intakeq_patient",
        "intakeq_date_of_birth",
        "score",
        "reasons_display",
        "status",
        "decided_by",
        "decided_at",
    ]
    list_filter = [PendingFirst]
    list_select_related = ["canonical_patient", "intakeq_patient", "decided_by"]
    search_fields = ["canonical_patient__last_name_normalized", "intakeq_patient__last_name"]
    ordering = ["-score", "proposed_at"]
    actions = ["confirm_same_person", "reject_different_people"]
    readonly_fields = [
        "canonical_patient",
        "intakeq_patient",
        "score",
        "reasons",
        "status",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
    ]

    @admin.display(description="Canonical DOB")
    def canonical_date_of_birth(self, obj):
        return obj.canonical_patient.date_of_birth

    @admin.display(description="IntakeQ DOB")
    def intakeq_date_of_birth(self, obj):
        return obj.intakeq_patient.date_of_birth

    @admin.display(description="Why proposed")
    def reasons_display(self, obj):
        return ", ".join(reason.replace("_", " ") for reason in obj.reasons)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(REVIEW_PERMISSION):
            return {}
        return actions

    def _decide(self, request, queryset, service, verb):
        done, failed = 0, 0
        for proposal in queryset.filter(status=LinkProposal.Status.PENDING):
            try:
                service(proposal=proposal, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                failed += 1
                # Messages name no patient: the row stays in the list for staff to see.
                self.message_user(
                    request, f"One pair was not {verb}: {_first_message(exc)}", messages.ERROR
                )
        if done:
            self.message_user(request, f"{done} pair(s) {verb}.", messages.SUCCESS)
        if not done and not failed:
            self.message_user(request, "Only pending pairs can be decided.", messages.WARNING)

    @admin.action(description="Same person: link them")
    def confirm_same_person(self, request, queryset):
        self._decide(request, queryset, link_proposal_confirm, "linked")

    @admin.action(description="Different people: never propose again")
    def reject_different_people(self, request, queryset):
        self._decide(request, queryset, link_proposal_reject, "rejected")


def _first_message(exc) -> str:
    if isinstance(exc, ValidationError):
        return exc.messages[0]
    return str(exc)


@admin.register(LinkHistory)
class LinkHistoryAdmin(_ReviewerOnly, admin.ModelAdmin):
    list_display = [
        "happened_at",
        "action",
        "automatic",
        "canonical_patient_id",
        "intakeq_patient_id",
        "confidence_score",
        "actor",
        "reason",
    ]
    list_filter = ["action", "automatic"]
    list_select_related = ["actor"]
    search_fields = ["=canonical_patient_id", "=intakeq_patient_id"]

    def get_search_results(self, request, queryset, search_term):
        # Ids only: the search box must not turn a typo into a database error.
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset.none() if search_term else queryset, False
        return queryset.filter(Q(canonical_patient_id=value) | Q(intakeq_patient_id=value)), False
