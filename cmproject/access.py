"""Who is who, and the one rule every queryset of PHI follows: ``visible_to(user)``.

Roles are the staff groups of ``cmproject.groups``; a superuser counts as Admin. Object scoping
lives in each model's queryset (``PatientCM.objects.visible_to(user)`` and friends); a queryset
without ``visible_to`` is visible to admins only (deny by default).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django_otp import user_has_device

from audit.access_log import record_patient_view
from cmproject import groups


def in_group(user, name: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    cache = getattr(user, "_cm_group_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._cm_group_names = cache
    return name in cache


def is_admin(user) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or in_group(
        user, groups.ADMIN
    )


def requires_two_factor(user) -> bool:
    """Admins must sign in with a second factor; anyone who has set one up must use it too."""
    return is_admin(user) or user_has_device(user)


def scoped(queryset: QuerySet, user) -> QuerySet:
    """``queryset.visible_to(user)`` where the model defines it, else admins only."""
    visible_to = getattr(queryset, "visible_to", None)
    if visible_to is not None:
        return visible_to(user)
    return queryset if is_admin(user) else queryset.none()


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


class ReadOnlyAdminMixin:
    """Audit rows: readable by admins, never added, changed or deleted through the site."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


def role_required(*checks):
    """View decorator: signed in (else the login page) and passing one of ``checks`` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(check(request.user) for check in checks):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _verified_admin(user) -> bool:
    # The middleware sends admins to the second factor; checked here too so that a user made
    # an admin in the middle of a session cannot skip it.
    return is_admin(user) and user.is_verified()


admin_required = role_required(_verified_admin)
