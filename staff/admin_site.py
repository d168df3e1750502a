"""The Django admin as the practice runs it: the Admin group only, after the second factor.

django-otp's ``OTPAdminSite`` supplies "verified second factor"; this site adds "in the Admin
group", sends sign-in through the site's own throttled login page, and wraps every ModelAdmin
registered on it so its rows go through ``visible_to``.
"""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from access_log.recording import record_patient_view
from staff.access import is_admin, scoped

# Admin change pages that show one patient, and the kind their id is logged under.
PATIENT_ADMIN_PAGES = {
    "identity.patientcanonical": "canonical",
    "cm_program.patientcm": "cm",
    "intakeq_link.intakeqpatient": "intakeq",
}


class ScopedAdminMixin:
    """For every ModelAdmin of PHI: the changelist, change pages, search and autocomplete all
    start from ``visible_to(request.user)``, so an object outside the user's scope is a 404.
    Opening a patient's change page is logged like any other patient page."""

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        kind = PATIENT_ADMIN_PAGES.get(self.model._meta.label_lower)
        if kind and request.method == "GET" and response.status_code == 200:
            record_patient_view(request, patient_kind=kind, patient_id=object_id)
        return response

    def has_module_permission(self, request):
        return is_admin(request.user) and super().has_module_permission(request)

    def record_patient_views(self, request, patient_kind: str, *patient_ids) -> None:
        """For a ModelAdmin's own pages that show patients (e.g. identity's merge preview):
        apps that may not import access_log log their views through the site's wrapper."""
        for patient_id in patient_ids:
            record_patient_view(request, patient_kind=patient_kind, patient_id=patient_id)


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
        """A signed-in user who may not use the admin gets a 403, not the admin's login form."""
        inner = super().admin_view(view, cacheable)

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
