"""Issue 12's "today": the CM patient list as it was at e5374e5, for the bench's baseline.

Its filter (every visible CPSS rendered as an option), its queryset (four tables joined and the
whole result sorted by name) and its template are copied here, so the bench compares the two
pages on the same data in one run. Served only by bench.urls, never by the project.
"""

import datetime
from pathlib import Path

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.template import engines
from django.views import View

from access_log.recording import PatientKind, record_patients_viewed
from cm_program.models import ContingencyManagement, Enrollment, ParticipationStatus
from core.searches import search_params, search_query
from identity.normalization import normalize_name
from providers.models import ProviderCM
from staff.access import access_required

TEMPLATE = Path(__file__).resolve().parent / "patient_list_before.html"
PAGE_SIZES = (10, 25, 50, 100)


def _search_value(term: str):
    term = term.strip()
    for parse in (
        datetime.date.fromisoformat,
        lambda t: datetime.datetime.strptime(t, "%m/%d/%Y").date(),  # noqa: DTZ007 - a date
    ):
        try:
            return parse(term)
        except ValueError:
            continue
    return normalize_name(term)


def _name_or_dob_q(term: str) -> Q:
    value = _search_value(term)
    if isinstance(value, datetime.date):
        return Q(canonical_patient__date_of_birth=value)
    q = Q()
    for word in value.split():
        q &= Q(canonical_patient__first_name_normalized__contains=word) | Q(
            canonical_patient__last_name_normalized__contains=word
        )
    return q


class EnrollmentFilterBefore(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Name or date of birth",
        method="filter_name_or_dob",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. Martinez, or 1992-03-22", "type": "search"}
        ),
    )
    status = django_filters.ChoiceFilter(choices=ParticipationStatus.choices, empty_label="Any")
    cm_program = django_filters.ModelChoiceFilter(
        label="Program", queryset=ContingencyManagement.objects.order_by("name"), empty_label="Any"
    )
    cpss_provider = django_filters.ModelChoiceFilter(
        label="CPSS", queryset=ProviderCM.objects.none(), empty_label="Any"
    )
    pod_assignment = django_filters.ChoiceFilter(label="Pod", choices=(), empty_label="Any")

    class Meta:
        model = Enrollment
        fields = ["q", "status", "cm_program", "cpss_provider", "pod_assignment"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        visible = Enrollment.objects.visible_to(user)
        self.filters["cpss_provider"].queryset = ProviderCM.objects.filter(
            pk__in=visible.values("cpss_provider")
        ).order_by("last_name", "first_name")
        pods = (
            visible.exclude(pod_assignment__isnull=True)
            .exclude(pod_assignment="")
            .order_by("pod_assignment")
            .values_list("pod_assignment", flat=True)
            .distinct()
        )
        self.filters["pod_assignment"].extra["choices"] = lambda: [(p, p) for p in pods]

    def filter_name_or_dob(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(_name_or_dob_q(value))


@access_required("cm_program.view_enrollment")
class PatientListBefore(View):
    def get(self, request):
        queryset = (
            Enrollment.objects.visible_to(request.user)
            .select_related("canonical_patient", "cm_patient", "cm_program", "cpss_provider")
            .order_by(
                "canonical_patient__last_name",
                "canonical_patient__first_name",
                "cm_program__name",
                "id",
            )
        )
        filterset = EnrollmentFilterBefore(
            search_params(request, scope="cm:patient-list") or None,
            queryset=queryset,
            user=request.user,
        )
        try:
            per_page = int(request.GET.get("per_page", 25))
        except ValueError:
            per_page = 25
        per_page = per_page if per_page in PAGE_SIZES else 25
        page = Paginator(filterset.qs, per_page).get_page(request.GET.get("page"))
        # Today's page logs its rows too, so both sides pay for it.
        record_patients_viewed(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_ids=[enrollment.canonical_patient_id for enrollment in page],
        )
        search = search_query(request)
        template = engines["django"].from_string(TEMPLATE.read_text())
        context = {
            "filter": filterset,
            "page": page,
            "query": f"{search}&per_page={per_page}" if search else f"per_page={per_page}",
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
        }
        return HttpResponse(template.render(context, request))
