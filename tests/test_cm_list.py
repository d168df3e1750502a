"""The CM list (issue 12, dead ends 13 and 14): search by phone, Medicaid ID, IntakeQ client id
and any date format; sort, page size, and the supervisors' CSV export."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access_log.models import PatientAccessLog
from cm_program.list_views import display_date
from cm_program.models import Enrollment
from identity.dates import DateField, parse_date
from tests.factories import (
    CPSSFactory,
    EnrollmentFactory,
    IntakeQPatientFactory,
    PatientIntakeQLinkFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


MARCH_22 = datetime.date(1992, 3, 22)


@pytest.fixture
def supervisor(client):
    user = StaffUserFactory(group="CPSS Supervisor")
    client.force_login(user)
    return user


def _enrollments(page) -> list:
    """The enrollments a list page shows, in its order (its rows are text)."""
    return [Enrollment.objects.get(pk=row.enrollment_id) for row in page.object_list]


def _rows(client, **params):
    response = client.post(reverse("cm:patient-list"), params, follow=True)
    return _enrollments(response.context["page"])


@pytest.mark.parametrize(
    "text",
    ["1992-03-22", "03/22/1992", "3/22/1992", "3-22-1992", "Mar 22, 1992", "mar 22 1992",
     "March 22, 1992", "Mar. 22, 1992", "22 Mar 1992", " Mar  22,  1992 "],
)  # fmt: skip
def test_parse_date_reads_iso_us_and_the_shown_format(text):
    assert parse_date(text) == MARCH_22


@pytest.mark.parametrize(
    "text", ["", "Martinez", "02/30/1992", "3/22/92", "Foo 22, 1992", "1992-03-22x", "8015550123"]
)
def test_parse_date_refuses_what_is_not_one_real_date(text):
    assert parse_date(text) is None


def test_the_date_field_reads_the_shown_format():
    field = DateField()
    assert field.clean("Mar 22, 1992") == MARCH_22
    with pytest.raises(Exception, match="real date"):
        field.clean("Mar 32, 1992")


def test_the_list_finds_a_person_by_the_date_format_it_shows(client, cpss):
    wanted = EnrollmentFactory(
        cpss_provider=cpss, cm_patient__canonical_patient__date_of_birth=MARCH_22
    )
    EnrollmentFactory(cpss_provider=cpss)
    assert _rows(client, q="Mar 22, 1992") == [wanted]


def test_the_list_finds_a_person_by_phone_typed_any_way(client, cpss):
    wanted = EnrollmentFactory(cpss_provider=cpss, cm_patient__phone="(801) 555-0177")
    EnrollmentFactory(cpss_provider=cpss, cm_patient__phone="(801) 555-0100")
    assert _rows(client, q="801.555.0177") == [wanted]
    assert _rows(client, q="8015550177") == [wanted]


def test_the_list_finds_a_person_by_medicaid_id(client, cpss):
    wanted = EnrollmentFactory(cpss_provider=cpss, cm_patient__medicaid_id="0012345678")
    EnrollmentFactory(cpss_provider=cpss, cm_patient__medicaid_id="0099999999")
    assert _rows(client, q="0012345678") == [wanted]


def test_the_list_finds_a_person_by_intakeq_client_id(client, cpss):
    wanted = EnrollmentFactory(cpss_provider=cpss)
    PatientIntakeQLinkFactory(
        canonical_patient=wanted.canonical_patient,
        intakeq_patient=IntakeQPatientFactory(intakeq_client_id="77123"),
    )
    EnrollmentFactory(cpss_provider=cpss)
    assert _rows(client, q="77123") == [wanted]


def test_a_cpss_finds_no_one_by_medicaid_id_on_another_caseload(client, cpss):
    EnrollmentFactory(cm_patient__medicaid_id="0012345678")
    assert _rows(client, q="0012345678") == []


def test_the_psychiatry_search_reads_the_shown_date_format_and_phones(client):
    client.force_login(StaffUserFactory(group="Psychiatry"))
    wanted = IntakeQPatientFactory(date_of_birth=MARCH_22, phone="801-555-0177")
    IntakeQPatientFactory(date_of_birth=datetime.date(1980, 1, 2), phone="801-555-0100")
    for q in ("Mar 22, 1992", "03/22/1992", "(801) 555-0177"):
        response = client.post(reverse("intakeq:patient-list"), {"q": q}, follow=True)
        assert list(response.context["page"].object_list) == [wanted], q


def test_the_enroll_existing_search_reads_the_shown_date_format(client, cpss):
    wanted = IntakeQPatientFactory(last_name="Zyxwardson", date_of_birth=MARCH_22)
    response = client.post(
        reverse("cm:enroll-existing"),
        {"step": "search", "last_name": "Zyxwardson", "date_of_birth": "Mar 22, 1992"},
        follow=True,
    )
    assert [row for row, _ in response.context["results"]] == [wanted]


def _sorted(client, sort):
    response = client.get(reverse("cm:patient-list"), {"sort": sort})
    return _enrollments(response.context["page"])


def test_the_list_sorts_by_each_column_both_ways(client, cpss):
    low = EnrollmentFactory(
        cpss_provider=cpss,
        total_points=5,
        status="paused",
        cm_patient__canonical_patient__last_name="Aaronson",
        cm_patient__canonical_patient__date_of_birth=datetime.date(1990, 1, 1),
    )
    high = EnrollmentFactory(
        cpss_provider=cpss,
        total_points=50,
        status="active",
        cm_patient__canonical_patient__last_name="Zeller",
        cm_patient__canonical_patient__date_of_birth=datetime.date(1960, 1, 1),
    )
    assert _sorted(client, "name") == [low, high]
    assert _sorted(client, "-name") == [high, low]
    assert _sorted(client, "dob") == [high, low]
    assert _sorted(client, "points") == [low, high]
    assert _sorted(client, "-points") == [high, low]
    assert _sorted(client, "status") == [high, low]


def test_the_list_sorts_by_cpss_and_enrollment_date(client, supervisor):
    later = EnrollmentFactory(cpss_provider=CPSSFactory(last_name="Young"))
    earlier = EnrollmentFactory(cpss_provider=CPSSFactory(last_name="Adams"))
    earlier.enrollment_date = later.enrollment_date - datetime.timedelta(days=3)
    earlier.save()
    assert _sorted(client, "cpss") == [earlier, later]
    assert _sorted(client, "enrolled") == [earlier, later]
    assert _sorted(client, "-enrolled") == [later, earlier]


def test_an_unknown_sort_falls_back_to_name(client, cpss):
    EnrollmentFactory(cpss_provider=cpss)
    assert client.get(reverse("cm:patient-list"), {"sort": "medicaid_id"}).status_code == 200


def test_the_sort_survives_a_posted_search(client, cpss):
    response = client.post(reverse("cm:patient-list"), {"q": "x", "sort": "-points"})
    assert "sort=-points" in response.url


def test_the_page_size_is_25_50_or_100(client, cpss):
    EnrollmentFactory.create_batch(30, cpss_provider=cpss)
    page = client.get(reverse("cm:patient-list"), {"per_page": 10}).context["page"]
    assert len(page.object_list) == 25
    page = client.get(reverse("cm:patient-list"), {"per_page": 50}).context["page"]
    assert len(page.object_list) == 30


def test_a_cpss_gets_no_cpss_select_of_every_provider(client, cpss):
    CPSSFactory.create_batch(3)
    html = client.get(reverse("cm:patient-list")).content.decode()
    assert 'name="cpss"' not in html
    assert "<option" not in html.split('name="cpss_provider"')[-1].split("</select>")[0]


def test_a_supervisor_filters_by_a_typed_cpss_name(client, supervisor):
    wanted = EnrollmentFactory(cpss_provider=CPSSFactory(first_name="Jo", last_name="Smith"))
    EnrollmentFactory(cpss_provider=CPSSFactory(first_name="Al", last_name="Jones"))
    assert _rows(client, cpss="smi") == [wanted]
    assert _rows(client, cpss_provider=str(wanted.cpss_provider_id)) == [wanted]


def test_the_count_stops_at_the_cap(client, cpss, monkeypatch):
    from cm_program.list_views import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 2)
    EnrollmentFactory.create_batch(4, cpss_provider=cpss)
    html = client.get(reverse("cm:patient-list")).content.decode()
    assert "more than 2 enrollments" in html


def _export(client, **params):
    location = client.post(reverse("cm:patient-list"), params).url
    query = location[location.index("?") :] if params else ""
    return client.get(reverse("cm:patient-list-export") + query)


def test_a_supervisor_exports_the_filtered_list_as_safe_csv(client, supervisor):
    wanted = EnrollmentFactory(
        status="paused", cm_patient__canonical_patient__last_name="=HYPERLINK(x)"
    )
    EnrollmentFactory(status="active")
    response = _export(client, status="paused")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Last name", "First name", "Date of birth"]
    assert len(rows) == 2
    assert rows[1][0] == "'=HYPERLINK(x)"
    assert rows[1][2] == wanted.canonical_patient.date_of_birth.isoformat()


def test_the_export_logs_a_view_of_every_patient_exported(client, supervisor):
    people = [e.canonical_patient_id for e in EnrollmentFactory.create_batch(30)]
    _export(client)
    logged = set(
        PatientAccessLog.objects.filter(path=reverse("cm:patient-list-export")).values_list(
            "patient_id", flat=True
        )
    )
    assert logged == set(people)


def test_a_cpss_may_not_export(client, cpss):
    assert client.get(reverse("cm:patient-list-export")).status_code == 403


def test_the_export_link_is_shown_to_supervisors_only(client, cpss):
    export = reverse("cm:patient-list-export")
    assert export not in client.get(reverse("cm:patient-list")).content.decode()
    client.force_login(StaffUserFactory(group="CPSS Supervisor"))
    assert export in client.get(reverse("cm:patient-list")).content.decode()


@pytest.mark.parametrize(
    "day", [datetime.date(1992, 3, 22), datetime.date(2001, 12, 1), datetime.date(1950, 5, 9)]
)
def test_the_list_writes_dates_as_the_other_pages_date_filter_does(day):
    assert display_date(day) == date_filter(day, "M j, Y")


def test_each_row_shows_the_person_and_links_to_their_page(client, cpss):
    enrollment = EnrollmentFactory(
        cpss_provider=cpss,
        cm_patient__canonical_patient__first_name="Lena",
        cm_patient__canonical_patient__last_name="Okafor",
        cm_patient__canonical_patient__date_of_birth=datetime.date(1988, 7, 4),
    )
    page = client.get(reverse("cm:patient-list")).content.decode()
    url = reverse(
        "cm:patient-detail", kwargs={"canonical_patient_id": enrollment.canonical_patient_id}
    )
    assert f'<a href="{url}">Okafor, Lena</a>' in page
    assert "Jul 4, 1988" in page


@pytest.mark.parametrize("chosen", ["", "paused"])
def test_the_lists_selects_are_djangos_html(chosen):
    from django import forms

    from cm_program.filters import ListSelect

    choices = [("", "Any"), ("active", "Active"), ("paused", "Paused <&>")]
    ours = ListSelect(choices=choices, attrs={"id": "id_status"}).render("status", chosen)
    djangos = forms.Select(choices=choices, attrs={"id": "id_status"}).render("status", chosen)
    assert " ".join(ours.split()) == " ".join(djangos.split())


@pytest.mark.parametrize("data", [None, {"q": "<b>Ann</b>", "status": "nonsense"}])
def test_the_lists_filters_are_written_as_the_field_template_writes_them(data):
    """Unbound, and bound with an error (an unknown status) and a value to escape."""
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    from cm_program.filters import EnrollmentFilter, field_html

    form = EnrollmentFilter(data, queryset=Enrollment.objects.none(), user=AnonymousUser()).form
    if data:
        assert form.errors["status"]  # the bound case does show an error
    for name in ["q", "status", "cm_program", "cpss", "pod_assignment"]:
        ours = field_html(form[name])
        template = render_to_string("cm/_field.html", {"field": form[name]})
        assert " ".join(ours.split()) == " ".join(template.split()), name


@pytest.mark.parametrize("value", [None, "", 'Mart"inez <&>', 42])
def test_the_lists_inputs_are_djangos_html(value):
    from django import forms

    from cm_program.filters import ListHiddenInput, ListSearchInput

    attrs = {"id": "id_q", "type": "search", "placeholder": "e.g. <x>", "required": True,
             "disabled": False, "data-n": 3}  # fmt: skip
    pairs = [
        (ListSearchInput(attrs=dict(attrs)), forms.TextInput(attrs=dict(attrs))),
        (ListHiddenInput(attrs={"id": "id_cpss"}), forms.HiddenInput(attrs={"id": "id_cpss"})),
    ]
    for ours, djangos in pairs:
        assert ours.render("q", value, attrs={"aria-describedby": "h"}) == djangos.render(
            "q", value, attrs={"aria-describedby": "h"}
        )


def _counted(client, **params) -> bool:
    """Whether showing the list counted the enrollments (a COUNT statement)."""
    location = client.post(reverse("cm:patient-list"), params).url
    with CaptureQueriesContext(connection) as queries:
        client.get(location)
    return any("COUNT(" in query["sql"] for query in queries.captured_queries)


def test_a_search_that_fits_on_the_first_page_is_not_counted_again(client, cpss):
    EnrollmentFactory(cpss_provider=cpss, cm_patient__canonical_patient__last_name="Zyxward")
    EnrollmentFactory.create_batch(3, cpss_provider=cpss)
    assert not _counted(client, q="Zyxward")
    response = client.post(reverse("cm:patient-list"), {"q": "Zyxward"}, follow=True)
    assert response.context["page"].paginator.count == 1


def test_a_search_longer_than_a_page_is_read_once_and_paged_without_a_count(client, cpss):
    EnrollmentFactory.create_batch(
        27, cpss_provider=cpss, cm_patient__canonical_patient__last_name="Zyxward"
    )
    EnrollmentFactory.create_batch(3, cpss_provider=cpss)
    assert not _counted(client, q="zyxw")
    location = client.post(reverse("cm:patient-list"), {"q": "zyxw"}).url
    first = client.get(location).context["page"]
    assert (first.paginator.count, len(first.object_list)) == (27, 25)
    second = client.get(f"{location}&page=2").context["page"]
    assert [row.name.split(",")[0] for row in second.object_list] == ["Zyxward", "Zyxward"]
    shown = {row.enrollment_id for row in first.object_list + second.object_list}
    assert len(shown) == 27


def test_a_search_with_more_matches_than_the_cap_says_more_than(client, cpss, monkeypatch):
    from cm_program.list_views import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 4)
    EnrollmentFactory.create_batch(
        6, cpss_provider=cpss, cm_patient__canonical_patient__last_name="Zyxward"
    )
    response = client.post(reverse("cm:patient-list"), {"q": "zyxw"}, follow=True)
    assert response.context["page"].paginator.capped
    assert "more than 4 enrollments" in response.content.decode()


def test_a_list_longer_than_a_page_is_counted(client, cpss):
    EnrollmentFactory.create_batch(26, cpss_provider=cpss)
    assert _counted(client)
    page = client.get(reverse("cm:patient-list")).context["page"]
    assert page.paginator.count == 26
    second = client.get(reverse("cm:patient-list"), {"page": 2}).context["page"]
    assert second.number == 2
    assert len(second.object_list) == 1
