import django_filters
from django import forms

from cm_program.models import ContingencyManagement, Enrollment, ParticipationStatus
from cm_program.selectors import name_or_dob_q
from providers.models import ProviderCM


class EnrollmentFilter(django_filters.FilterSet):
    """The CM patient list's filters; choices are limited to what the user may see."""

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
        return queryset.filter(name_or_dob_q(value))
