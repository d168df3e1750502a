from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from cmproject.access import requires_two_factor


class RequireTwoFactorMiddleware:
    """Sends a signed-in admin without a verified second factor to the two-factor page.

    Runs after django-otp's OTPMiddleware (which sets ``user.is_verified``). Only the two-factor
    pages, sign-out and static files stay reachable until the code is given.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and requires_two_factor(user)
            and not user.is_verified()
            and not self._is_exempt(request.path)
        ):
            return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.path})}")
        return self.get_response(request)

    @staticmethod
    def _is_exempt(path: str) -> bool:
        exempt = (reverse("two-factor"), reverse("logout"), reverse("login"))
        return path in exempt or path.startswith("/static/")


class NoStoreForSignedInMiddleware:
    """Every page a signed-in user gets may carry PHI: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            response["Pragma"] = "no-cache"
        return response
