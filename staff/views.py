"""Two-factor sign-in with an authenticator app (TOTP): set up once, then a code per sign-in.

Required for admins (RequireTwoFactorMiddleware sends them here), available to everyone.
"""

from base64 import b32encode

import segno
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from staff.access import access_required
from staff.forms import TokenForm
from staff.services import totp_device_confirm, totp_device_get_or_create


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("token")
@access_required()
def two_factor(request):
    next_url = _next_url(request)
    if request.user.is_verified():
        return render(request, "registration/two_factor_done.html", {"next": next_url})
    device = totp_device_get_or_create(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            totp_device_confirm(device=device)
            otp_login(request, device)
            # A new session key once the second factor is given, as at sign-in.
            request.session.cycle_key()
            return redirect(next_url)
        form.add_error("token", "That code did not match. Enter the current code from your app.")
    context = {"form": form, "next": next_url, "setting_up": not device.confirmed}
    if not device.confirmed:
        context["secret"] = b32encode(device.bin_key).decode()
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return render(request, "registration/two_factor.html", context)
