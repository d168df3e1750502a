"""The Django admin as the practice runs it: the Admin group only, after the second factor.

django-otp's ``OTPAdminSite`` supplies "verified second factor"; this site adds "in the Admin
group", sends sign-in through the site's own throttled login page, and wraps every ModelAdmin
registered on it so its rows go through ``visible_to``.
"""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin import ModelAdmin
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_otp.admin import OTPAdminSite

from access_log.recording import record_patients_viewed
from core.searches import SEARCH_PARAM, search_params, search_redirect, search_save
from staff.access import is_admin, scoped

# Rows about a canonical patient and an IntakeQ patient (a link, a proposed pair, their history).
_LINK_PAIR = (("canonical", "canonical_patient_id"), ("intakeq", "intakeq_patient_id"))

# Admin models whose rows are about patients: for each, the patient kinds and the attribute of a
# row holding that patient's id. Their changelists log every row shown; their change, history
# and delete pages log the row's patients. A model registered on the admin site must appear here
# or in NO_PATIENT_ADMIN_MODELS (tests/test_page_view_log.py fails otherwise).
PATIENT_ADMIN_PAGES = {
    "identity.patientcanonical": (("canonical", "pk"),),
    "identity.canonicalmerge": (("canonical", "keep_id"), ("canonical", "merged_id")),
    "identity.duplicateproposal": (("canonical", "first_id"), ("canonical", "second_id")),
    "cm_program.patientcm": (("cm", "pk"),),
    "cm_program.enrollment": (("canonical", "canonical_patient_id"),),
    "intakeq_link.intakeqpatient": (("intakeq", "pk"),),
    "intakeq_link.patientintakeqlink": _LINK_PAIR,
    "intakeq_link.linkproposal": _LINK_PAIR,
    "intakeq_link.linkhistory": _LINK_PAIR,
    "audit.patientcanonicalevent": (("canonical", "pgh_obj_id"),),
    "audit.patientcmevent": (("cm", "pgh_obj_id"),),
    "audit.enrollmentevent": (("canonical", "canonical_patient_id"),),
    "audit.patientintakeqlinkevent": _LINK_PAIR,
}
# Registered models that show no patient's identity or record, and why.
NO_PATIENT_ADMIN_MODELS = {
    "access_log.patientaccesslog": "who opened which page: patient ids only, no identity",
    "audit.providercmevent": "staff rows' history",
    "auth.group": "staff groups",
    "auth.user": "staff accounts",
    "axes.accessattempt": "sign-in attempts",
    "axes.accessfailurelog": "sign-in failures",
    "axes.accesslog": "sign-ins",
    "cm_program.contingencymanagement": "programs",
    "otp_totp.totpdevice": "staff authenticator devices",
    "providers.providercm": "staff (CPSS) rows",
}


def _log_rows(request, model, rows) -> None:
    for kind, attribute in PATIENT_ADMIN_PAGES.get(model._meta.label_lower, ()):
        record_patients_viewed(
            request,
            patient_kind=kind,
            patient_ids=[getattr(row, attribute, None) for row in rows],
        )


def _shown(response) -> bool:
    return response.status_code == 200 and getattr(response, "context_data", None) is not None


def _search_scope(model) -> str:
    return f"admin:{model._meta.label_lower}"


def _search_out_of_url(request, model) -> HttpResponseRedirect | None:
    """Names typed in the admin's search box never reach a URL (issue 11, L3): the box posts
    (templates/admin/search_form.html) and the term is kept in the session under a search id
    (core.searches); an old link with ``?q=`` is moved out of the URL the same way."""
    scope = _search_scope(model)
    if request.method == "POST" and SEARCH_VAR in request.POST and "action" not in request.POST:
        unrelated = (SEARCH_VAR, SEARCH_PARAM, "csrfmiddlewaretoken")
        keep = [name for name in request.POST if name not in unrelated]
        return search_redirect(request, scope=scope, fields=[SEARCH_VAR], keep=keep)
    if SEARCH_VAR in request.GET:
        query = request.GET.copy()
        query[SEARCH_PARAM] = search_save(
            request, scope=scope, data=request.GET, fields=[SEARCH_VAR]
        )
        del query[SEARCH_VAR]
        return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
    return None


class SessionSearchChangeList(ChangeList):
    """The admin's changelist with its search term read from the session, by search id; the id,
    not the term, is what its paging, sorting and filter links carry."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(SEARCH_PARAM, None)
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        if SEARCH_PARAM in request.GET:
            found = search_params(request, scope=_search_scope(self.model))
            self.query = found.get(SEARCH_VAR, "")
        return super().get_queryset(request, exclude_parameters)


class ScopedAdminMixin:
    """For every ModelAdmin of PHI: the changelist, change pages, search and autocomplete all
    start from ``visible_to(request.user)``, so an object outside the user's scope is a 404.
    Every page that shows patients' rows (changelist, change, history, delete confirmation)
    logs them like any other patient page (PATIENT_ADMIN_PAGES)."""

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def get_changelist(self, request, **kwargs):
        return SessionSearchChangeList

    def changelist_view(self, request, extra_context=None):
        moved = _search_out_of_url(request, self.model)
        if moved is not None:
            return moved
        response = super().changelist_view(request, extra_context)
        if _shown(response) and "cl" in response.context_data:
            _log_rows(request, self.model, response.context_data["cl"].result_list)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if _shown(response) and response.context_data.get("original") is not None:
            _log_rows(request, self.model, [response.context_data["original"]])
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if _shown(response) and response.context_data.get("object") is not None:
            _log_rows(request, self.model, [response.context_data["object"]])
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        if _shown(response) and response.context_data.get("object") is not None:
            _log_rows(request, self.model, [response.context_data["object"]])
        return response

    def has_module_permission(self, request):
        return is_admin(request.user) and super().has_module_permission(request)

    def record_patient_views(self, request, patient_kind: str, *patient_ids) -> None:
        """For a ModelAdmin's own pages that show patients (e.g. identity's merge preview):
        apps that may not import access_log log their views through the site's wrapper."""
        record_patients_viewed(request, patient_kind=patient_kind, patient_ids=patient_ids)


class SecureAdminSite(OTPAdminSite):
    """The Django admin, for the Admin group only, and only after a verified second factor."""

    site_header = "Moonlit CM administration"
    site_title = "Moonlit CM admin"

    def __init__(self, name="admin"):
        # OTPAdminSite names itself "otpadmin"; the URL names stay admin:*.
        super().__init__(name)

    def has_permission(self, request):
        return super().has_permission(request) and is_admin(request.user)

    def admin_view(self, view, cacheable=False):
        """A signed-in user who may not use the admin gets a 403, not the admin's login form.
        Every admin page, Django's and the apps' own, answers only GET, HEAD and POST."""
        inner = require_http_methods(["GET", "HEAD", "POST"])(super().admin_view(view, cacheable))

        @wraps(inner)
        def refuse_signed_in_outsiders(request, *args, **kwargs):
            if (
                request.user.is_authenticated
                and not self.has_permission(request)
                and request.path != reverse("admin:logout", current_app=self.name)
            ):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return refuse_signed_in_outsiders

    def login(self, request, extra_context=None):
        """Sign-in goes through the site's own page (throttled by django-axes, then the second
        factor), never the admin's separate form."""
        if request.user.is_authenticated:
            # A signed-in admin without a second factor is sent to it by the middleware first.
            raise PermissionDenied
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin registered here, ours or another app's, asks ``visible_to``."""
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, ScopedAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (ScopedAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
