"""Who may open a page: the one check every view of the project uses, ``access_required``.

Roles are the staff groups of ``staff.groups``; a superuser counts as Admin. Pages ask for
permissions, never for group names, so a role's reach is read in one place (the groups' data
migration). Which *rows* a user may see is the other half of the rule and lives in each model's
queryset (``PatientCM.objects.visible_to(user)`` and friends); ``scoped`` applies it where a
queryset has none (admins only: deny by default).
"""

from functools import wraps

from django.contrib.auth.models import Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.views import View
from django_otp import user_has_device

from core.users import is_active_user
from staff import groups


def remember_access_facts(user, *, group_names, has_device: bool) -> None:
    """What in_group and requires_two_factor would read, for the rest of this request: the
    authentication backend reads them with the user (staff.auth_backends)."""
    user._cm_group_names = set(group_names)
    user._cm_has_device = has_device


def in_group(user, name: str) -> bool:
    if not is_active_user(user):
        return False
    cache = getattr(user, "_cm_group_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._cm_group_names = cache
    return name in cache


def is_admin(user) -> bool:
    return (is_active_user(user) and user.is_superuser) or in_group(user, groups.ADMIN)


def requires_two_factor(user) -> bool:
    """Admins must sign in with a second factor; anyone who has set one up must use it too."""
    if is_admin(user):
        return True
    has_device = getattr(user, "_cm_has_device", None)
    return user_has_device(user) if has_device is None else has_device


def scoped(queryset: QuerySet, user) -> QuerySet:
    """``queryset.visible_to(user)`` where the model defines it, else admins only."""
    visible_to = getattr(queryset, "visible_to", None)
    if visible_to is not None:
        return visible_to(user)
    return queryset if is_admin(user) else queryset.none()


SECOND_FACTOR_MISSING = (
    "This page needs a second factor given at sign-in: sign out, then sign in with your "
    "authenticator code."
)


def missing_access(user, permissions) -> str:
    """The 403 page's sentence: which permissions the user lacks, by their names (no patient
    data, no path)."""
    missing = [p.split(".", 1) for p in permissions if not user.has_perm(p)]
    names = sorted(
        {
            name
            for app_label, codename in missing
            for name in Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).values_list("name", flat=True)
        }
    )
    if not names:
        return ""
    return (
        "This page needs the permission "
        + "; ".join(f"“{n}”" for n in names)
        + (", which your role does not have.")
    )


def access_required(*permissions: str, second_factor: bool = False):
    """Decorator for a function view or a class-based view: the page's access rule.

    Signed out: the sign-in page, then back. Signed in but lacking any of ``permissions``: 403.
    ``second_factor=True`` (admin-only pages) also asks for a second factor given in this
    session: the middleware sends admins to it at sign-in, and this catches a user given the
    permission in the middle of a session.
    """

    def check(request):
        user = request.user
        if not is_active_user(user):
            return redirect_to_login(request.get_full_path())
        if not user.has_perms(permissions):
            raise PermissionDenied(missing_access(user, permissions))
        if second_factor and not user.is_verified():
            raise PermissionDenied(SECOND_FACTOR_MISSING)
        return None

    def decorator(view):
        if isinstance(view, type) and issubclass(view, View):
            dispatch = view.dispatch

            @wraps(dispatch)
            def guarded_dispatch(self, request, *args, **kwargs):
                return check(request) or dispatch(self, request, *args, **kwargs)

            view.dispatch = guarded_dispatch
            return view

        @wraps(view)
        def guarded(request, *args, **kwargs):
            return check(request) or view(request, *args, **kwargs)

        return guarded

    return decorator
