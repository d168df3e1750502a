import django_filters
from django import forms
from django.db.models import Q

from cm_program.models import (
    ContingencyManagement,
    Enrollment,
    ParticipationStatus,
    sees_every_cm_patient,
)
from cm_program.selectors import enrollment_search_q, pods_in_use
from providers.models import ProviderCM


class ListSelect(forms.Select):
    """Django's select, rendered without two template includes per option: the list renders
    three on every page (about 1 ms). The same HTML; no optgroups."""

    template_name = "cm/widgets/select.html"


def _once(make):
    """Choices computed on first use and kept (a form reads them to validate and to render)."""
    kept = []

    def choices():
        if not kept:
            kept.append(make())
        return kept[0]

    return choices


class EnrollmentFilter(django_filters.FilterSet):
    """The CM patient list's filters; choices are limited to what the user may see.

    The CPSS filter is a name typed (``cpss``), not a select: a clinic has hundreds of CPSS and
    rendering them all cost more than the rest of the page. ``cpss_provider`` (an id) still
    filters for links that name one CPSS; it is not rendered.
    """

    q = django_filters.CharFilter(
        label="Name, date of birth, phone, Medicaid ID or IntakeQ client id",
        method="filter_search",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. Martinez, Mar 22, 1992 or (801) 555-0123", "type": "search"}
        ),
    )
    status = django_filters.ChoiceFilter(
        choices=ParticipationStatus.choices, empty_label="Any", widget=ListSelect
    )
    # Plain choices, one ordinary query: a model choice field reads through a server-side
    # cursor (three round trips) and looks the chosen program up again.
    cm_program = django_filters.ChoiceFilter(
        label="Program",
        field_name="cm_program_id",
        choices=(),
        empty_label="Any",
        widget=ListSelect,
    )
    cpss = django_filters.CharFilter(
        label="CPSS",
        method="filter_cpss_name",
        widget=forms.TextInput(attrs={"placeholder": "CPSS name", "type": "search"}),
    )
    cpss_provider = django_filters.ModelChoiceFilter(
        label="CPSS", queryset=ProviderCM.objects.all(), widget=forms.HiddenInput
    )
    pod_assignment = django_filters.ChoiceFilter(
        label="Pod", choices=(), empty_label="Any", widget=ListSelect
    )

    class Meta:
        model = Enrollment
        fields = ["q", "status", "cm_program", "cpss", "cpss_provider", "pod_assignment"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        visible = Enrollment.objects.visible_to(user)
        # A CPSS sees only their own caseload: a CPSS filter would have one answer.
        self.shows_cpss_filter = sees_every_cm_patient(user)
        self.filters["cm_program"].extra["choices"] = _once(
            lambda: [
                (str(pk), name)
                for pk, name in ContingencyManagement.objects.order_by("name").values_list(
                    "id", "name"
                )
            ]
        )
        self.filters["pod_assignment"].extra["choices"] = _once(
            lambda: [(p, p) for p in pods_in_use(visible, every=self.shows_cpss_filter)]
        )

    def filter_search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(enrollment_search_q(value))

    def filter_cpss_name(self, queryset, name, value):
        """Each word typed starts the CPSS's first or last name ("jo sm" finds Jo Smith)."""
        for word in value.split()[:3]:
            queryset = queryset.filter(
                Q(cpss_provider__first_name__istartswith=word)
                | Q(cpss_provider__last_name__istartswith=word)
            )
        return queryset
