import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from access_log.recording import PatientKind, record_patient_view
from identity.evidence import canonical_side, intakeq_side, reasons_in_words, side_by_side
from identity.forms import SAME, PairDecisionForm
from identity.normalization import normalize_name
from identity.review_admin import DECISION_FIELDS, PairReviewAdminMixin
from identity.selectors import person_kept
from intakeq_link.models import IntakeQPatient, LinkHistory, LinkProposal, PatientIntakeQLink
from intakeq_link.services import (
    REVIEW_PERMISSION,
    UNLINK_PERMISSION,
    intakeq_link_create,
    intakeq_link_delete,
    intakeq_link_refusals,
    link_proposal_confirm,
    link_proposal_reject,
)


class UnlinkForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Kept in the link history."
    )
    different_people = forms.BooleanField(
        required=False, label="They are different people: never propose this pair again."
    )


class LinkAddForm(forms.ModelForm):
    """intakeq_link_create's refusals of a row, as form errors rather than a server error."""

    class Meta:
        model = PatientIntakeQLink
        fields = ["canonical_patient", "intakeq_patient", "confidence_score"]

    def clean(self):
        cleaned = super().clean()
        refusals = intakeq_link_refusals(
            canonical_patient=cleaned.get("canonical_patient"),
            intakeq_patient=cleaned.get("intakeq_patient"),
        )
        if refusals:
            raise ValidationError(refusals)
        return cleaned


@admin.register(PatientIntakeQLink)
class PatientIntakeQLinkAdmin(admin.ModelAdmin):
    form = LinkAddForm
    list_display = [
        "canonical_patient",
        "intakeq_patient",
        "confidence_score",
        "linked_by_user",
        "linked_date",
        "unlink_link",
    ]
    raw_id_fields = ["canonical_patient", "intakeq_patient"]
    readonly_fields = ["id", "linked_date", "linked_by", "linked_by_user"]
    list_select_related = ["canonical_patient", "intakeq_patient", "linked_by_user"]

    def has_change_permission(self, request, obj=None):
        # A link is made or undone (with a reason, in history), never edited in place.
        return False

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/unlink/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.unlink_view)),
                name="intakeq_link_patientintakeqlink_unlink",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Unlink")
    def unlink_link(self, obj):
        url = reverse("admin:intakeq_link_patientintakeqlink_unlink", args=[obj.pk])
        return format_html('<a href="{}">Unlink…</a>', url)

    def unlink_view(self, request, pk):
        """Undo a link with a reason, kept in the link history (intakeq_link_delete)."""
        if not request.user.has_perm(UNLINK_PERMISSION):
            raise PermissionDenied
        link = get_object_or_404(self.get_queryset(request), pk=pk)
        form = UnlinkForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                intakeq_link_delete(link=link, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                self.message_user(request, "Unlinked; the reason is in the link history.")
                return redirect("admin:intakeq_link_patientintakeqlink_changelist")
        record_patient_view(
            request, patient_kind=PatientKind.CANONICAL, patient_id=link.canonical_patient_id
        )
        record_patient_view(
            request, patient_kind=PatientKind.INTAKEQ, patient_id=link.intakeq_patient_id
        )
        left = canonical_side(link.canonical_patient)
        right = intakeq_side(link.intakeq_patient)
        return TemplateResponse(
            request,
            "admin/identity/pair_page.html",
            {
                **self.admin_site.each_context(request),
                "title": "Unlink a CM person from their IntakeQ record",
                "left": left,
                "right": right,
                "rows": side_by_side(left, right),
                "score": None,
                "form": form,
                "submit_label": "Unlink",
            },
        )

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
class LinkProposalAdmin(PairReviewAdminMixin, _ReviewerOnly, admin.ModelAdmin):
    """The review queue: pending pairs first; open one to compare both records and decide."""

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
        "decide_link",
    ]
    list_filter = [PendingFirst]
    list_select_related = ["canonical_patient", "intakeq_patient", "decided_by"]
    search_fields = ["canonical_patient__last_name_normalized", "intakeq_patient__last_name"]
    ordering = ["-score", "proposed_at"]
    readonly_fields = ["canonical_patient", "intakeq_patient", *DECISION_FIELDS]

    def get_search_results(self, request, queryset, search_term):
        # The canonical side is searched on its normalized name, the IntakeQ side as stored.
        as_typed, duplicates = super().get_search_results(request, queryset, search_term)
        normalized, more = super().get_search_results(
            request, queryset, normalize_name(search_term)
        )
        return as_typed | normalized, duplicates or more

    @admin.display(description="Canonical DOB")
    def canonical_date_of_birth(self, obj):
        return obj.canonical_patient.date_of_birth

    @admin.display(description="IntakeQ DOB")
    def intakeq_date_of_birth(self, obj):
        return obj.intakeq_patient.date_of_birth

    def decide_view(self, request, pk):
        """Both records side by side with the evidence; a confirmed decision with a note
        (required to reject)."""
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        proposal = get_object_or_404(
            LinkProposal.objects.select_related("canonical_patient__merged_into"), pk=pk
        )
        intakeq = IntakeQPatient.objects.filter(pk=proposal.intakeq_patient_id).first()
        pending = proposal.status == LinkProposal.Status.PENDING
        # Followed to the end: the kept person may have been merged again since.
        canonical = proposal.canonical_patient
        kept = person_kept(canonical) if pending and canonical.merged_into_id else None
        form = PairDecisionForm(request.POST or None, same_label="Same person: link them")
        if kept is not None:
            # A merged record is never linked; the merge left this proposal here because the
            # kept person already has this pair. An unmerge offers the link again.
            form.fields["decision"].choices = [
                choice for choice in form.fields["decision"].choices if choice[0] != SAME
            ]
        if request.method == "POST" and pending and form.is_valid():
            service = (
                link_proposal_confirm
                if form.cleaned_data["decision"] == SAME
                else link_proposal_reject
            )
            try:
                service(proposal=proposal, actor=request.user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                self.message_user(request, "Decision recorded.", messages.SUCCESS)
                return redirect("admin:intakeq_link_linkproposal_changelist")
        canonical = proposal.canonical_patient
        record_patient_view(request, patient_kind=PatientKind.CANONICAL, patient_id=canonical.pk)
        if intakeq is not None:
            record_patient_view(request, patient_kind=PatientKind.INTAKEQ, patient_id=intakeq.pk)
        left = canonical_side(canonical)
        right = intakeq_side(intakeq) if intakeq else None
        return TemplateResponse(
            request,
            "admin/identity/pair_page.html",
            {
                **self.admin_site.each_context(request),
                "title": "IntakeQ link proposal: one person or two?",
                "intro": f"Status: {proposal.get_status_display()}."
                + (
                    f" This person was merged into {kept}: decide the proposal on {kept}."
                    if kept
                    else ""
                )
                + ("" if intakeq else " The IntakeQ patient no longer exists."),
                "left": left,
                "right": right or left,
                "rows": side_by_side(left, right) if right else [],
                "score": proposal.score,
                "reasons": reasons_in_words(proposal.reasons),
                "form": form if pending and intakeq else None,
                "submit_label": "Record the decision",
            },
        )


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
