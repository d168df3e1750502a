from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from staff.access import requires_two_factor

# Whether this session's user must give a second factor, decided at sign-in (see
# remember_two_factor_requirement), so ordinary requests cost no extra query.
TWO_FACTOR_REQUIRED_SESSION_KEY = "cm_two_factor_required"


def remember_two_factor_requirement(sender, request, user, **kwargs):
    """user_logged_in receiver."""
    if request is not None and hasattr(request, "session"):
        request.session[TWO_FACTOR_REQUIRED_SESSION_KEY] = requires_two_factor(user)


class RequireTwoFactorMiddleware:
    """Sends a signed-in user who needs a second factor (admins, and anyone who set one up)
    and has not given it in this session to the two-factor page.

    Runs after django-otp's OTPMiddleware (which sets ``user.is_verified``). Only the two-factor
    page, sign-in, sign-out and static files stay reachable until the code is given.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and self._required(request):
            if self._is_exempt(request.path):
                return self.get_response(request)
            return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.path})}")
        return self.get_response(request)

    @staticmethod
    def _required(request) -> bool:
        required = request.session.get(TWO_FACTOR_REQUIRED_SESSION_KEY)
        if required is None:  # a session from before this setting existed
            required = requires_two_factor(request.user)
            request.session[TWO_FACTOR_REQUIRED_SESSION_KEY] = required
        return required

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
