import django_filters
from django import forms
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cm_program.models import (
    ContingencyManagement,
    Enrollment,
    ParticipationStatus,
    sees_every_cm_patient,
)
from cm_program.selectors import enrollment_search_q, pods_in_use
from providers.models import ProviderCM


def _attrs_html(attrs: dict) -> SafeString:
    """Django's widgets/attrs.html: True as a bare name, False left out, anything else quoted."""
    return SafeString(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False
        )
    )


class ListSelect(forms.Select):
    """Django's select, written in Python rather than by two templates and one include per
    option: the list renders three on every page, each about 1 ms through the templates. The
    same HTML (tests/test_cm_list.py compares them); no optgroups."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '\n  <option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _, group, _ in widget["optgroups"]
                for option in group
            ),
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attrs_html(widget["attrs"]),
            options,
        )


class _ListInputRendering:
    """Django's widgets/input.html, written in Python (see ListSelect)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            shown,
            _attrs_html(widget["attrs"]),
        )


def field_html(field) -> SafeString:
    """A bound field as the template cm/_field.html writes it (label, widget, errors or help),
    in Python: the list shows five on every page, about 1 ms each through an include. The same
    HTML; tests/test_cm_list.py compares them."""
    required = (
        SafeString(' <span class="muted" aria-hidden="true">*</span>')
        if field.field.required
        else ""
    )
    if field.errors:
        note = format_html(
            '<small class="field-error" id="{}_error">{}</small>',
            field.auto_id,
            format_html_join("", "{} ", ((error,) for error in field.errors)),
        )
    elif field.help_text:
        note = format_html("<small>{}</small>", field.help_text)
    else:
        note = ""
    return format_html(
        '<label for="{}">{}{}\n  {}\n  {}\n</label>\n',
        field.id_for_label,
        field.label,
        required,
        field,
        note,
    )


class ListSearchInput(_ListInputRendering, forms.TextInput):
    pass


class ListHiddenInput(_ListInputRendering, forms.HiddenInput):
    pass


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
        widget=ListSearchInput(
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
        widget=ListSearchInput(attrs={"placeholder": "CPSS name", "type": "search"}),
    )
    cpss_provider = django_filters.ModelChoiceFilter(
        label="CPSS", queryset=ProviderCM.objects.all(), widget=ListHiddenInput
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

    def fields_html(self) -> SafeString:
        """The filters a user can set, each as cm/_field.html writes it (field_html)."""
        shown = ["q", "status", "cm_program", "cpss", "pod_assignment"]
        if not self.shows_cpss_filter:
            shown.remove("cpss")
        return SafeString("".join(field_html(self.form[name]) for name in shown))

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
