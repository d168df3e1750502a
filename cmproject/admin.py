from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin import AdminSite, ModelAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from cmproject.access import ScopedAdminMixin, is_admin


class SecureAdminSite(AdminSite):
    """The Django admin, for the Admin group only, and only after a verified second factor.

    Sign-in goes through the site's own login page (throttled by django-axes, followed by the
    two-factor step), never the admin's separate form.
    """

    site_header = "Moonlit CM administration"
    site_title = "Moonlit CM admin"

    def has_permission(self, request):
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and is_admin(user)
            and getattr(user, "is_verified", lambda: False)()
        )

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
