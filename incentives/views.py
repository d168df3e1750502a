"""Incentive pages. Thin: forms validate, services write, selectors read (``visible_to``)."""

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views import View

from access_log.recording import PatientKind, record_patient_view, record_patients_viewed
from cm_program.drafts import draft_redirect, errors_of, form_again, form_post
from cm_program.models import Enrollment
from cm_program.services import AlreadySubmitted
from core.safe_csv import SafeWriter
from incentives import rules, selectors, services
from incentives.forms import (
    CorrectTestForm,
    IssueForm,
    ReasonForm,
    RecordResultForm,
    ScheduleForm,
)
from incentives.models import (
    CapPeriod,
    DrugTest,
    IncentiveSchedule,
    LedgerEntry,
    ScheduledVisit,
)
from incentives.schedules import schedule_create, schedule_publish
from staff.access import access_required

SEE = "cm_program.view_enrollment"
RECORD = "cm_program.change_enrollment"
CORRECT = "incentives.correct_drugtest"
REPORT = "incentives.view_incentive_report"
PUBLISH = "incentives.publish_incentiveschedule"


def _viewed(request, enrollment) -> None:
    record_patient_view(
        request, patient_kind=PatientKind.CANONICAL, patient_id=enrollment.canonical_patient_id
    )


def _enrollment(request, enrollment_id):
    enrollment = selectors.visible_enrollment(user=request.user, enrollment_id=enrollment_id)
    if enrollment is None:
        raise Http404("No such enrollment")
    return enrollment


def _warn_overdrawn(request, enrollment, recorded) -> None:
    """A write that re-priced points already handed over says so where it was made; of the
    person's other enrollments, only those the user may see (another caseload's stays unknown)."""
    visible = set(
        Enrollment.objects.visible_to(request.user)
        .filter(pk__in=recorded.overdrawn)
        .values_list("pk", flat=True)
    )
    for enrollment_id, balance in recorded.overdrawn.items():
        if enrollment_id not in visible:
            continue
        whose = "" if enrollment_id == enrollment.pk else " of this person's other enrollment"
        messages.warning(
            request,
            f"More points were handed over than are now earned: the unissued balance{whose} is "
            f"now {balance} points. Nothing more can be handed over until it is earned back.",
        )


def _to_participant(enrollment):
    return redirect("incentives:participant", enrollment_id=enrollment.pk)


@access_required(SEE)
class DayView(View):
    """The CPSS's day: open visits due today or overdue, on the caseload they may see."""

    def get(self, request):
        today = timezone.localdate()
        visits = list(selectors.visits_due(user=request.user, day=today)[:500])
        record_patients_viewed(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_ids=list(dict.fromkeys(v.enrollment.canonical_patient_id for v in visits)),
        )
        return render(
            request,
            "incentives/day.html",
            {
                "today": today,
                "due_today": [v for v in visits if v.due_date == today],
                "overdue": [v for v in visits if v.due_date < today],
            },
        )


class _VisitAction(View):
    template_name: str
    form_class: type

    def load(self, request, visit_id):
        visit = get_object_or_404(
            ScheduledVisit.objects.visible_to(request.user).select_related(
                "enrollment__canonical_patient", "enrollment__cm_program"
            ),
            pk=visit_id,
        )
        return visit, visit.enrollment

    def context(self, visit, enrollment, form):
        return {"visit": visit, "enrollment": enrollment, "form": form}

    def get(self, request, visit_id):
        visit, enrollment = self.load(request, visit_id)
        _viewed(request, enrollment)
        form = form_again(request, scope=self.scope(visit), make_form=self.form_class)
        return render(request, self.template_name, self.context(visit, enrollment, form))

    def post(self, request, visit_id):
        visit, enrollment = self.load(request, visit_id)
        form = self.form_class(request.POST)
        return form_post(
            request,
            form=form,
            scope=self.scope(visit),
            perform=lambda: self.perform(visit, enrollment, form),
            done=lambda: self.done(visit, enrollment),
        )

    def scope(self, visit) -> str:
        return f"incentives:{type(self).__name__}:{visit.pk}"

    def done(self, visit, enrollment):
        return _to_participant(enrollment)


@access_required(SEE, RECORD)
class RecordView(_VisitAction):
    """Second click: the result buttons, with what a negative earns and a positive resets."""

    template_name = "incentives/record.html"
    form_class = RecordResultForm

    def context(self, visit, enrollment, form):
        return {
            **super().context(visit, enrollment, form),
            "outlook": selectors.outlook(enrollment=enrollment),
            "recorded": visit.status != "planned",
        }

    def perform(self, visit, enrollment, form) -> str:
        result = form.cleaned_data["result"]
        if result == rules.MISSED:
            recorded = services.visit_missed_record(visit=visit, actor=self.request.user,
                                                    excused=False, reason="")  # fmt: skip
            _warn_overdrawn(self.request, enrollment, recorded)
            return f"Week {visit.week} visit recorded as missed."
        recorded = services.drug_test_record(
            enrollment=enrollment,
            actor=self.request.user,
            collected_at=form.collected(),
            result=result,
            analytes=form.analytes(),
            visit=visit,
        )
        _warn_overdrawn(self.request, enrollment, recorded)
        earned = sum(entry.points for entry in recorded.entries if entry.visit_id == visit.pk)
        return f"{result.capitalize()} test recorded: {earned} points."

    def done(self, visit, enrollment):
        return redirect("incentives:day")


@access_required(SEE, CORRECT)
class ExcuseView(_VisitAction):
    template_name = "incentives/excuse.html"
    form_class = ReasonForm

    def perform(self, visit, enrollment, form) -> str:
        recorded = services.visit_missed_record(
            visit=visit, actor=self.request.user, excused=True, reason=form.cleaned_data["reason"]
        )
        _warn_overdrawn(self.request, enrollment, recorded)
        return f"Week {visit.week} visit excused."


@access_required(SEE)
class ParticipantView(View):
    def get(self, request, enrollment_id):
        enrollment = _enrollment(request, enrollment_id)
        _viewed(request, enrollment)
        return render(
            request, "incentives/participant.html", _participant_context(request, enrollment)
        )


def _participant_context(request, enrollment) -> dict:
    outlook = selectors.outlook(enrollment=enrollment)
    schedule = outlook.schedule
    # A cap per enrollment counts only this one's points: nothing of another to keep back.
    whole_cap = (
        schedule is None
        or schedule.cap_period != CapPeriod.CALENDAR_YEAR
        or selectors.sees_whole_cap(user=request.user, enrollment=enrollment)
    )
    return {
        "whole_cap": whole_cap,
        "unissued_dollars": schedule.dollars(outlook.unissued) if schedule else "",
        "handed_over": outlook.total_points - outlook.unissued,
        "voidable": services.VOIDABLE_KINDS,
        "enrollment": enrollment,
        "outlook": outlook,
        "cap_period": selectors.cap_period_label(outlook.schedule),
        "ledger": selectors.ledger_shown(enrollment=enrollment, whole_cap=whole_cap),
        "visits": selectors.visits(enrollment=enrollment),
        "tests": selectors.tests(enrollment=enrollment),
        "today": timezone.localdate(),
    }


@access_required(SEE)
class StatementView(View):
    """A printable statement of the participant's points and what was handed over."""

    def get(self, request, enrollment_id):
        enrollment = _enrollment(request, enrollment_id)
        _viewed(request, enrollment)
        return render(
            request, "incentives/statement.html", _participant_context(request, enrollment)
        )


class _EnrollmentForm(View):
    """A form about one enrollment, or one of its visible rows (``model``); then back to it."""

    template_name: str
    form_class: type
    model = None

    def get_object(self, request, pk):
        if self.model is None:
            return _enrollment(request, pk)
        rows = self.model.objects.visible_to(request.user).select_related("enrollment")
        return get_object_or_404(rows, pk=pk)

    def render_form(self, request, obj, form):
        enrollment = obj if obj.__class__.__name__ == "Enrollment" else obj.enrollment
        return render(
            request, self.template_name, {"form": form, "object": obj, "enrollment": enrollment}
        )

    def get(self, request, pk):
        obj = self.get_object(request, pk)
        _viewed(request, getattr(obj, "enrollment", obj))
        form = form_again(request, scope=self.scope(obj), make_form=self.form_class)
        return self.render_form(request, obj, form)

    def post(self, request, pk):
        obj = self.get_object(request, pk)
        form = self.form_class(request.POST)
        return form_post(
            request,
            form=form,
            scope=self.scope(obj),
            perform=lambda: self.perform(obj, form),
            done=lambda: _to_participant(getattr(obj, "enrollment", obj)),
        )

    def scope(self, obj) -> str:
        return f"incentives:{type(self).__name__}:{obj.pk}"


@access_required(SEE, RECORD)
class IssueView(_EnrollmentForm):
    template_name = "incentives/issue.html"
    form_class = IssueForm

    def perform(self, enrollment, form) -> str:
        try:
            entry = services.incentive_issue(
                enrollment=enrollment, actor=self.request.user, **form.cleaned_data
            )
        except AlreadySubmitted:
            return "This hand-over was already recorded; nothing was saved twice."
        return f"{entry.points} points handed over."


@access_required(SEE, CORRECT)
class CorrectTestView(_EnrollmentForm):
    template_name = "incentives/correct.html"
    form_class = CorrectTestForm
    model = DrugTest

    def perform(self, test, form) -> str:
        recorded = services.drug_test_correct(
            test=test, actor=self.request.user, **form.cleaned_data
        )
        if recorded.test.pk == test.pk:  # the service wrote nothing: the reason is not kept
            result = recorded.test.get_result_display().lower()
            return f"Nothing changed: the test is already {result}."
        _warn_overdrawn(self.request, test.enrollment, recorded)
        change = sum(entry.points for entry in recorded.entries)
        count = len(recorded.entries)
        return f"Test corrected; {count} adjustment{pluralize(count)}, {change:+d} points."


@access_required(SEE, CORRECT)
class VoidEntryView(_EnrollmentForm):
    template_name = "incentives/void.html"
    form_class = ReasonForm
    model = LedgerEntry

    def perform(self, entry, form) -> str:
        services.ledger_entry_void(
            entry=entry, actor=self.request.user, reason=form.cleaned_data["reason"]
        )
        return "Entry voided."


@access_required(PUBLISH, second_factor=True)
class ScheduleListView(View):
    def get(self, request):
        return render(request, "incentives/schedules.html", {"schedules": selectors.schedules()})


@access_required(PUBLISH, second_factor=True)
class ScheduleNewView(View):
    """Define a draft version, blank or from an earlier version (``?from=<id>``)."""

    def get(self, request):
        source = request.GET.get("from")
        initial = {}
        if source:
            try:
                initial = ScheduleForm.initial_from(IncentiveSchedule.objects.get(pk=source))
            except (IncentiveSchedule.DoesNotExist, ValidationError):
                raise Http404("No such schedule") from None
        form = form_again(
            request,
            scope=self.scope,
            make_form=lambda data: ScheduleForm(data, initial=initial),
        )
        return render(request, "incentives/schedule_new.html", {"form": form})

    def post(self, request):
        form = ScheduleForm(request.POST)
        if not form.is_valid():  # every POST ends in a redirect (cm_program.drafts)
            return draft_redirect(request, scope=self.scope)
        try:
            schedule = schedule_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            return draft_redirect(request, scope=self.scope, errors=errors_of(exc))
        messages.success(request, f"Draft {schedule} saved: check the preview.")
        return redirect("incentives:schedule-detail", pk=schedule.pk)

    scope = "incentives:schedule-new"


@access_required(PUBLISH, second_factor=True)
class ScheduleDetailView(View):
    """The preview: what a participant earns week by week, all negatives and with a positive."""

    def get(self, request, pk):
        schedule = get_object_or_404(IncentiveSchedule, pk=pk)
        weeks = schedule.tests_per_week()
        count = sum(weeks)
        sample = ["negative"] * count
        if count > 4:
            sample[4] = "positive"
        previews = [
            ("All negative", rules.week_by_week(schedule.rules(), weeks, ["negative"] * count)),
            ("A positive at visit 5", rules.week_by_week(schedule.rules(), weeks, sample)),
        ]
        return render(
            request,
            "incentives/schedule_detail.html",
            {"schedule": schedule, "previews": previews},
        )

    def post(self, request, pk):
        """The publish button."""
        schedule = get_object_or_404(IncentiveSchedule, pk=pk)
        try:
            schedule_publish(schedule=schedule, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{schedule} is published; it can no longer change.")
        return redirect("incentives:schedule-detail", pk=schedule.pk)


REPORT_COLUMNS = [
    ("program", "Program"),
    ("week", "Week of"),
    ("enrolled", "Enrolled (active)"),
    ("visits_due", "Visits due"),
    ("tests", "Tests done"),
    ("share_negative", "% negative"),
    ("earned", "Points earned"),
    ("issued", "Points issued"),
    ("dollars_issued", "Dollars issued"),
]


@access_required(REPORT)
class ReportView(View):
    def get(self, request):
        rows = selectors.week_rows(user=request.user)
        return render(request, "incentives/report.html", {"rows": rows, "columns": REPORT_COLUMNS})


@access_required(REPORT)
class ReportCSVView(View):
    def get(self, request):
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow([label for _, label in REPORT_COLUMNS])
        for row in selectors.week_rows(user=request.user):
            writer.writerow([row[key] for key, _ in REPORT_COLUMNS])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="incentives-by-week.csv"'
        return response
