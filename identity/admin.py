from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdminMixin
from identity.evidence import canonical_side, reasons_in_words, side_by_side
from identity.forms import (
    CorrectionForm,
    MergeForm,
    PatientCanonicalAdminForm,
    RejectForm,
    UnmergeForm,
)
from identity.models import CanonicalMerge, DuplicateProposal, PatientCanonical
from identity.normalization import normalize_name
from identity.review_admin import DECISION_FIELDS, PairReviewAdminMixin
from identity.selectors import person_kept
from identity.services import (
    CORRECT_PERMISSION,
    MERGE_PERMISSION,
    REVIEW_PERMISSION,
    UNMERGE_PERMISSION,
    canonical_patient_correct,
    canonical_patients_merge,
    canonical_patients_unmerge,
    duplicate_proposal_reject,
    merge_pair_refusals,
    merge_preview,
)

PAIR_TEMPLATE = "admin/identity/pair_page.html"


def _page(request, admin_site, context):
    return TemplateResponse(
        request, PAIR_TEMPLATE, {**admin_site.each_context(request), "score": None, **context}
    )


def _errors(form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _log_views(model_admin, request, *patients):
    # identity may not import access_log: the admin site wraps every ModelAdmin in
    # staff.admin_site.ScopedAdminMixin, which logs the views for it.
    model_admin.record_patient_views(request, "canonical", *(p.pk for p in patients))


@admin.register(PatientCanonical)
class PatientCanonicalAdmin(admin.ModelAdmin):
    """The person, with their CM record, IntakeQ link and enrollments alongside.

    identity imports no other app, so these are read-only summaries over reverse relations
    (``cm_record``, ``intakeq_link``, ``enrollments``); changes go through each app's own pages.
    The identity itself is corrected (with a reason) and merged on pages of their own.
    """

    form = PatientCanonicalAdminForm
    list_display = ["last_name", "first_name", "date_of_birth", "merged_into", "created_at"]
    search_fields = ["last_name_normalized", "first_name_normalized"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "first_name_normalized",
        "last_name_normalized",
        "merged_into",
        "created_at",
        "updated_at",
        "stewardship",
        "cm_record_summary",
        "intakeq_link_summary",
        "enrollments_summary",
    ]

    def get_search_results(self, request, queryset, search_term):
        # The search fields are the normalized names: "O'Brien" or "Martínez" as typed must
        # meet "obrien" and "martinez".
        return super().get_search_results(request, queryset, normalize_name(search_term))

    def has_delete_permission(self, request, obj=None):
        # Every row is someone's medical record: a duplicate is merged (and can be unmerged).
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # An existing identity changes only through the correction page (reason, audit).
        return ["first_name", "last_name", "date_of_birth", *self.readonly_fields]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<uuid:keep_id>/merge/<uuid:merge_id>/",
                wrap(self.merge_view),
                name="identity_patientcanonical_merge",
            ),
            path(
                "<uuid:pk>/correct/",
                wrap(self.correct_view),
                name="identity_patientcanonical_correct",
            ),
            *super().get_urls(),
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

    @admin.display(description="Identity")
    def stewardship(self, obj):
        if not obj.pk:
            return "—"
        if obj.merged_into_id:
            return format_html(
                'Merged into <a href="{}">{}</a>',
                reverse("admin:identity_patientcanonical_change", args=[obj.merged_into_id]),
                obj.merged_into,
            )
        # The cross-system pages by URL name: identity imports no app above it.
        return format_html(
            '<a href="{}">Correct the name or date of birth</a> · '
            '<a href="{}">Complete view across systems</a> · <a href="{}">History</a>',
            reverse("admin:identity_patientcanonical_correct", args=[obj.pk]),
            reverse("complete-patient-view", args=[obj.pk]),
            reverse("audit:patient-history", args=[obj.pk]),
        )

    def merge_view(self, request, keep_id, merge_id):
        _require(request, MERGE_PERMISSION)
        visible = self.get_queryset(request)
        keep = get_object_or_404(visible, pk=keep_id)
        merge = get_object_or_404(visible, pk=merge_id)
        refusals = merge_pair_refusals(keep=keep, merge=merge)
        # A pair refused outright has nothing to preview (a person merged into themself would
        # list their own rows as moving).
        previews = {} if refusals else merge_preview(keep=keep, merge=merge)
        choices = [c for preview in previews.values() for c in preview.choices]
        blockers = refusals + [b for preview in previews.values() for b in preview.blockers]
        form = MergeForm(request.POST or None, choices=choices)
        if request.method == "POST" and not blockers and form.is_valid():
            try:
                record = canonical_patients_merge(
                    keep=keep,
                    merge=merge,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    choices=form.merge_choices(),
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                self.message_user(request, "Merged.", messages.SUCCESS)
                return redirect("admin:identity_canonicalmerge_change", record.pk)
        _log_views(self, request, keep, merge)
        return _page(
            request,
            self.admin_site,
            {
                "title": "Merge two records of one person",
                "intro": "The right-hand record is merged into the left-hand one, which is kept.",
                "left": canonical_side(keep, "Kept"),
                "right": canonical_side(merge, "Merged into the kept one"),
                "rows": side_by_side(canonical_side(keep), canonical_side(merge)),
                "moves": [m for preview in previews.values() for m in preview.moves],
                "blockers": blockers,
                "form": None if blockers else form,
                "submit_label": "Merge",
                "links": [
                    (
                        "Keep the other one instead",
                        reverse("admin:identity_patientcanonical_merge", args=[merge.pk, keep.pk]),
                    )
                ],
            },
        )

    def correct_view(self, request, pk):
        _require(request, CORRECT_PERMISSION)
        patient = get_object_or_404(self.get_queryset(request), pk=pk)
        initial = {
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth,
        }
        form = CorrectionForm(request.POST or None, initial=initial)
        links = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                canonical_patient_correct(
                    patient=patient,
                    actor=request.user,
                    reason=data["reason"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"],
                )
            except ValidationError as exc:
                _errors(form, exc)
                if getattr(exc, "code", None) == "same_as_other":
                    other = exc.params["kept_id"]
                    if other != patient.pk:
                        url = reverse(
                            "admin:identity_patientcanonical_merge", args=[other, patient.pk]
                        )
                        links.append(("Merge this person into the other one", url))
            else:
                self.message_user(request, "Corrected.", messages.SUCCESS)
                return redirect("admin:identity_patientcanonical_change", patient.pk)
        _log_views(self, request, patient)
        side = canonical_side(patient, "Now")
        return _page(
            request,
            self.admin_site,
            {
                "title": "Correct an identity",
                "left": side,
                "right": canonical_side(patient, ""),
                "rows": [row[:2] + ("",) for row in side_by_side(side, side)],
                "form": form,
                "submit_label": "Correct",
                "links": links,
            },
        )

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


@admin.register(CanonicalMerge)
class CanonicalMergeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Merge records: who, when, why, what moved and what was detached; unmerge from here.

    Read-only: merges start from the merge page, which previews them.
    """

    list_display = ["merged_at", "merged", "keep", "actor", "unmerged_at"]
    list_select_related = ["merged", "keep", "actor"]
    readonly_fields = [
        "keep",
        "merged",
        "actor",
        "reason",
        "merged_at",
        "detached_rows",
        "unmerged_at",
        "unmerged_by",
        "unmerge_reason",
        "unmerge_link",
    ]
    exclude = ["choices", "moved", "detached"]

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/unmerge/",
                self.admin_site.admin_view(self.unmerge_view),
                name="identity_canonicalmerge_unmerge",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Detached rows")
    def detached_rows(self, obj):
        if not obj.detached:
            return "None"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((d["row"],) for d in obj.detached))
        )

    @admin.display(description="Unmerge")
    def unmerge_link(self, obj):
        if obj.unmerged_at is not None:
            return "Undone"
        return format_html(
            '<a href="{}">Unmerge…</a>',
            reverse("admin:identity_canonicalmerge_unmerge", args=[obj.pk]),
        )

    def unmerge_view(self, request, pk):
        _require(request, UNMERGE_PERMISSION)
        record = get_object_or_404(CanonicalMerge.objects.select_related("keep", "merged"), pk=pk)
        form = UnmergeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                canonical_patients_unmerge(
                    merge_record=record, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                self.message_user(request, "Unmerged.", messages.SUCCESS)
                return redirect("admin:identity_canonicalmerge_change", record.pk)
        _log_views(self, request, record.keep, record.merged)
        return _page(
            request,
            self.admin_site,
            {
                "title": "Unmerge",
                "intro": f"Merged on {record.merged_at:%Y-%m-%d}: {record.reason}",
                "left": canonical_side(record.keep, "Kept"),
                "right": canonical_side(record.merged, "Merged"),
                "rows": side_by_side(canonical_side(record.keep), canonical_side(record.merged)),
                "detached": record.detached,
                "form": None if record.unmerged_at else form,
                "submit_label": "Unmerge",
            },
        )


@admin.register(DuplicateProposal)
class DuplicateProposalAdmin(PairReviewAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Two canonical rows that may be one person: open one to decide (merge, or reject)."""

    list_display = ["first", "second", "score", "reasons_display", "status", "decide_link"]
    list_filter = ["status"]
    list_select_related = ["first", "second"]
    readonly_fields = ["first", "second", *DECISION_FIELDS]

    def decide_view(self, request, pk):
        _require(request, REVIEW_PERMISSION)
        proposal = get_object_or_404(
            DuplicateProposal.objects.select_related("first__merged_into", "second__merged_into"),
            pk=pk,
        )
        pending = proposal.status == DuplicateProposal.Status.PENDING
        # A merge leaves a pending pair on the merged person when the kept person already has
        # one with the same other person: only "different people" can still be recorded here.
        merged = next((p for p in (proposal.first, proposal.second) if p.merged_into_id), None)
        # Its kept person may have been merged again since (A into B, B into C: C).
        kept = person_kept(merged) if merged else None
        form = RejectForm(request.POST or None)
        if request.method == "POST" and pending and form.is_valid():
            try:
                duplicate_proposal_reject(
                    proposal=proposal, actor=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                self.message_user(request, "Recorded as different people.", messages.SUCCESS)
                return redirect("admin:identity_duplicateproposal_changelist")
        first, second = proposal.first, proposal.second
        _log_views(self, request, first, second)
        merge_url = reverse("admin:identity_patientcanonical_merge", args=[first.pk, second.pk])
        return _page(
            request,
            self.admin_site,
            {
                "title": "Possible duplicate: one person or two?",
                "intro": f"Status: {proposal.get_status_display()}. "
                + (
                    f"{merged} was merged into {kept}: decide the proposal on {kept}. "
                    if pending and merged
                    else "Same person: merge them (the next page previews the merge). "
                )
                + "Different people: say why below; the pair is never proposed again.",
                "left": canonical_side(first, "One record"),
                "right": canonical_side(second, "The other record"),
                "rows": side_by_side(canonical_side(first), canonical_side(second)),
                "score": proposal.score,
                "reasons": reasons_in_words(proposal.reasons),
                "links": [("Same person: preview the merge", merge_url)]
                if pending and not merged
                else [],
                "form": form if pending else None,
                "submit_label": "Different people",
            },
        )
