import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from staff.access import requires_two_factor

# When this session's user signed in (seconds since the epoch), for the absolute lifetime.
SIGNED_IN_AT_SESSION_KEY = "cm_signed_in_at"
# When the session row was last written, pushing the idle timeout back (seconds since the epoch).
REFRESHED_AT_SESSION_KEY = "cm_refreshed_at"
# Writing the session on every request (SESSION_SAVE_EVERY_REQUEST) cost three statements on
# every page; once a minute is enough for a 15-minute idle timeout (it ends after 14 to 15 idle
# minutes).
SESSION_REFRESH_SECONDS = 60


def stamp_sign_in_time(sender, request, user, **kwargs):
    """user_logged_in receiver: the start of the session's absolute lifetime."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = int(time.time())


class SessionLifetimeMiddleware:
    """Ends a session ``CM_SESSION_ABSOLUTE_AGE`` seconds after sign-in, however active it was
    (the idle timeout, SESSION_COOKIE_AGE, ends it sooner when idle). The user signs in again
    and comes back to the page. Also pushes the idle timeout back, at most once a minute.
    Runs after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            signed_in_at = request.session.setdefault(SIGNED_IN_AT_SESSION_KEY, now)
            if now - signed_in_at > settings.CM_SESSION_ABSOLUTE_AGE:
                logout(request)
                return redirect_to_login(request.get_full_path())
            if now - request.session.get(REFRESHED_AT_SESSION_KEY, 0) >= SESSION_REFRESH_SECONDS:
                # A changed session is saved with a new expiry: the idle timeout starts again.
                request.session[REFRESHED_AT_SESSION_KEY] = now
        return self.get_response(request)


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
        # Decided from the user's groups and devices on every request, never remembered from
        # sign-in: someone added to Admin mid-session must give the second factor at once.
        # Verified users never get here, so this costs a query or two only until then.
        return requires_two_factor(request.user)

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
