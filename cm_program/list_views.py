"""The CM patient list: search, filters, sort, page size, and its CSV export for supervisors.

Every page costs about the same at 1,000 or 100,000 enrollments: the sort orders are ones an
index serves (cm_program.selectors.LIST_SORTS), the rows carry only the columns shown, the count
stops at LIST_COUNT_CAP, and no filter renders one option per CPSS.
"""

import datetime
import html
import uuid
from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views import View

from access_log.recording import PatientKind, record_patients_viewed
from cm_program import selectors
from cm_program.filters import EnrollmentFilter
from cm_program.models import Enrollment, ParticipationStatus
from core.paginator import Paginator, first_if_below_one
from core.safe_csv import SafeWriter
from core.searches import search_params, search_query, search_redirect
from staff.access import access_required

PAGE_SIZES = (25, 50, 100)
LIST_COUNT_CAP = 1000  # rows the list counts; past it, "more than 1,000"


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows: counting every enrollment would make each page cost more as
    the program grows. Past the cap the page says "more than" and asks for a filter.

    A first page with room to spare is the whole list, so it is not counted again. A search
    (``read_whole``) reads all its matches, up to the cap and one more, in its one query and
    counts and pages them in Python: a name search scans every person's names (no trigram
    index), and scanning them a second time for the count doubled its cost.
    """

    cap = LIST_COUNT_CAP

    def __init__(self, object_list, per_page, *, count_queryset=None, read_whole=False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_queryset = object_list if count_queryset is None else count_queryset
        self.read_whole = read_whole
        self._first_page_asked = False

    def get_page(self, number):
        number = first_if_below_one(number)
        self._first_page_asked = str(number or 1) == "1"
        return super().get_page(number)

    @cached_property
    def _rows(self) -> list:
        """The rows read at once: every match up to cap + 1 for a search, else the first page."""
        return list(self.object_list[: self.cap + 1 if self.read_whole else self.per_page])

    @cached_property
    def count(self):
        if self.read_whole:
            return len(self._rows)  # cap + 1: more than the cap
        if self._first_page_asked and len(self._rows) < self.per_page:
            return len(self._rows)
        return self.count_queryset.order_by()[: self.cap + 1].count()

    def page(self, number):
        number = self.validate_number(number)
        if self.read_whole and number * self.per_page <= self.cap:
            bottom = (number - 1) * self.per_page
            return self._get_page(self._rows[bottom : bottom + self.per_page], number, self)
        if number == 1 and "_rows" in self.__dict__:
            return self._get_page(self._rows, number, self)
        return super().page(number)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def cap_display(self) -> str:
        return f"{self.cap:,}"


@access_required("cm_program.view_enrollment")
class PatientListView(View):
    """The filters are posted and kept as a search id (core.searches): a name, date of birth or
    phone typed into them never reaches the URL; the page size and sort are no one's data and
    stay in it. Logs every patient of the page shown."""

    search_scope = "cm:patient-list"

    def post(self, request):
        filters = EnrollmentFilter.base_filters
        return search_redirect(
            request, scope=self.search_scope, fields=filters, keep=["per_page", "sort"]
        )

    def filtered(self, request, sort: str):
        return EnrollmentFilter(
            search_params(request, scope=self.search_scope) or None,
            queryset=selectors.enrollment_list(user=request.user, sort=sort),
            user=request.user,
        )

    def get(self, request):
        sort = _list_sort(request)
        filterset = self.filtered(request, sort)
        try:
            per_page = int(request.GET.get("per_page", PAGE_SIZES[0]))
        except ValueError:
            per_page = PAGE_SIZES[0]
        per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
        # Counted on the enrollments alone, with the same filters: the rows' query joins the
        # person for its sort, which would make the count hash every enrollment.
        counted = Enrollment.objects.visible_to(request.user)
        searched = False  # a search is read whole (CappedPaginator)
        if filterset.is_bound and filterset.is_valid():
            counted = filterset.filter_queryset(counted)
            searched = bool((filterset.form.cleaned_data.get("q") or "").strip())
        page = CappedPaginator(
            filterset.qs, per_page, count_queryset=counted, read_whole=searched
        ).get_page(request.GET.get("page"))
        detail_url = reverse(
            "cm:patient-detail", kwargs={"canonical_patient_id": PERSON_PLACEHOLDER}
        )
        page.object_list = [ListRow.of(values, detail_url=detail_url) for values in page]
        record_patients_viewed(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_ids=[row.canonical_patient_id for row in page],
        )
        search = search_query(request)
        return render(
            request,
            "cm/patient_list.html",
            {
                "filter": filterset,
                "page": page,
                "search": search,
                "query": _list_query(search, per_page=per_page, sort=sort),
                "per_page": per_page,
                "page_sizes": PAGE_SIZES,
                "sort": sort,
                "headings_html": headings_html(_sort_links(sort), search=search, per_page=per_page),
                "rows_html": rows_html(page.object_list),
            },
        )


@dataclass(frozen=True, slots=True)
class ListRow:
    """One row of the list, as text, from a tuple of selectors.LIST_COLUMNS. Formatted here
    rather than by template filters: at 25 to 100 rows, the filters' lookups (formats,
    translations, a URL per row) were half the cost of the page."""

    enrollment_id: uuid.UUID
    canonical_patient_id: uuid.UUID
    url: str
    name: str
    date_of_birth: str
    program: str
    status: str
    status_label: str
    cpss: str
    pod: str
    points: int
    streak: int
    enrolled: str

    @classmethod
    def of(cls, values: tuple, *, detail_url: str) -> "ListRow":
        """``detail_url``: the patient page's URL with PERSON_PLACEHOLDER for the person."""
        (enrollment_id, person_id, last, first, dob, program, status, cpss_first, cpss_last,
         pod, points, streak, enrolled) = values  # fmt: skip
        return cls(
            enrollment_id=enrollment_id,
            canonical_patient_id=person_id,
            url=detail_url.replace(PERSON_PLACEHOLDER, str(person_id)),
            name=f"{last}, {first}",
            date_of_birth=display_date(dob),
            program=program,
            status=status,
            status_label=_STATUS_LABELS.get(status, status),
            cpss=" ".join(name for name in (cpss_first, cpss_last) if name) or "—",
            pod=pod or "—",
            points=points,
            streak=streak,
            enrolled=display_date(enrolled and timezone.localdate(enrolled)),
        )


_STATUS_LABELS = dict(ParticipationStatus.choices)
# Reversed once per page, not once per row.
PERSON_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def display_date(value: datetime.date | None) -> str:
    """The pages' one date format, as the ``date:"M j, Y"`` filter writes it (Mar 22, 1992)."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}" if value else ""


# The table is written here, not by the template: at 25 to 100 rows of nine cells, the template
# engine's variable lookups and escaping were a third of the page's time. Django's admin writes
# its change list rows in Python too. Every value is escaped with html.escape, which is what
# django.utils.html.escape does (without its lazy-string check on every call).
_ROW_HTML = (
    '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
    '<td><span class="badge {}">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
    "<td>{}</td></tr>"
)


def rows_html(rows: list[ListRow]) -> SafeString:
    """The table body's rows (an empty string for none: the template says no one matches)."""
    return SafeString(
        "\n".join(
            _ROW_HTML.format(
                *(
                    html.escape(str(value))
                    for value in (
                        row.url, row.name, row.date_of_birth, row.program, row.status,
                        row.status_label, row.cpss, row.pod, row.points, row.streak, row.enrolled,
                    )
                )
            )
            for row in rows
        )
    )  # fmt: skip


def _list_query(search: str, *, per_page: int, sort: str) -> str:
    """The list's query string: the search id (if any), the page size and the sort."""
    return "&".join(part for part in (search, f"per_page={per_page}&sort={sort}") if part)


def headings_html(columns: list[dict], *, search: str, per_page: int) -> SafeString:
    """The table's headings: a sort link on each sortable one, the current one marked."""
    cells = []
    for column in columns:
        aria = column["aria_sort"]
        attrs = format_html(' aria-sort="{}"', aria) if aria else ""
        if column["key"] is None:
            cells.append(format_html("<th{}>{}</th>", attrs, column["heading"]))
            continue
        query = _list_query(search, per_page=per_page, sort=column["next"])
        arrow = {"ascending": " ↑", "descending": " ↓"}.get(aria, "")
        cells.append(
            format_html('<th{}><a href="?{}">{}{}</a></th>', attrs, query, column["heading"], arrow)
        )
    return SafeString("".join(cells))


def _list_sort(request) -> str:
    sort = request.GET.get("sort", selectors.LIST_DEFAULT_SORT)
    return sort if sort.removeprefix("-") in selectors.LIST_SORTS else selectors.LIST_DEFAULT_SORT


# The list's columns: (heading, sort key or None).
LIST_HEADINGS = (
    ("Name", "name"), ("Date of birth", "dob"), ("Program", None), ("Status", "status"),
    ("CPSS", "cpss"), ("Pod", None), ("Points", "points"), ("Streak", None),
    ("Enrolled", "enrolled"),
)  # fmt: skip


def _sort_links(sort: str) -> list[dict]:
    """Each heading with the sort its link asks for: this column, reversed when it is current."""
    columns = []
    for heading, key in LIST_HEADINGS:
        current = key is not None and sort.removeprefix("-") == key
        descending = current and sort.startswith("-")
        columns.append(
            {
                "heading": heading,
                "key": key,
                "next": (f"-{key}" if current and not descending else key) if key else None,
                "aria_sort": ("descending" if descending else "ascending") if current else None,
            }
        )
    return columns


@access_required("cm_program.view_enrollment", "cm_program.view_all_cm_patients")
class PatientListExportView(View):
    """The list as filtered and sorted, every row, as CSV for supervisors (core.safe_csv: no cell
    is read as a formula). Every patient exported is logged as viewed."""

    def get(self, request):
        sort = _list_sort(request)
        filterset = PatientListView().filtered(request, sort)
        rows = list(filterset.qs)  # tuples of selectors.LIST_COLUMNS
        record_patients_viewed(
            request,
            patient_kind=PatientKind.CANONICAL,
            patient_ids=list(dict.fromkeys(row[1] for row in rows)),
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        today = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="cm-patients-{today}.csv"'
        writer = SafeWriter(response)
        writer.writerow(EXPORT_HEADINGS)
        for _, _, last, first, dob, program, status, cpss_first, cpss_last, *rest in rows:
            pod, points, streak, enrolled = rest
            writer.writerow(
                [
                    last, first, dob.isoformat() if dob else "", program,
                    _STATUS_LABELS.get(status, status or ""),
                    " ".join(n for n in (cpss_first, cpss_last) if n),
                    pod, points, streak,
                    timezone.localdate(enrolled).isoformat() if enrolled else "",
                ]
            )  # fmt: skip
        return response


EXPORT_HEADINGS = (
    "Last name", "First name", "Date of birth", "Program", "Status", "CPSS", "Pod", "Points",
    "Streak", "Enrollment date",
)  # fmt: skip
