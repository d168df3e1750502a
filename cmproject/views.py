from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_safe

from access_log.recording import record_patients_viewed
from cmproject.home import home_context
from staff.access import access_required


@require_safe
@access_required()
def home(request):
    context, shown = home_context(request.user)
    for kind, patient_ids in shown.items():
        if patient_ids:
            record_patients_viewed(
                request, patient_kind=kind, patient_ids=list(dict.fromkeys(patient_ids))
            )
    return render(request, "home.html", context)


def server_error(request):
    """The 500 page with the top bar and sign-out (Django's own renders without the request).

    If rendering with the request fails too (the database is what broke, say), the same page
    without the user's name and sign-out."""
    try:
        return HttpResponseServerError(loader.render_to_string("500.html", request=request))
    except Exception:  # noqa: BLE001 - the error page must not raise
        return HttpResponseServerError(loader.render_to_string("500.html"))
