"""Post/Redirect/Get for the CPSS forms: what was typed waits in the session, not in the URL.

Every POST of a form page ends in a redirect. When the form must be shown again (an error, a
review step, "back to the details"), the posted values and the errors are kept server-side under
a random id (core.searches keeps them, tied to the page and the session) and the page is asked
for again with ``?draft=<id>``: reload and the back button redisplay it, date of birth included,
and no browser offers to resubmit. Names and dates of birth never reach a URL.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, QueryDict

from core.searches import search_save, search_saved

DRAFT_PARAM = "draft"
NOT_KEPT = frozenset({"csrfmiddlewaretoken", "action"})


@dataclass
class Draft:
    data: QueryDict
    errors: dict[str, list[str]] = field(default_factory=dict)


# Kept beside the messages so the page after the redirect can offer the way on from "already
# enrolled" (services.AlreadyEnrolled, the cm_lifecycle template tag): the ids only.
ALREADY_ENROLLED = "__already_enrolled__"


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    else:
        errors = {NON_FIELD_ERRORS: list(exc.messages)}
    if (patient_id := getattr(exc, "canonical_patient_id", None)) is not None:
        errors[ALREADY_ENROLLED] = [str(patient_id), str(exc.cm_program.pk)]
    return errors


def draft_redirect(
    request, *, scope: str, errors: dict[str, list[str]] | None = None, **query: str
) -> HttpResponseRedirect:
    """Keep the posted form (and ``errors``) and send the browser back to this page to see it."""
    fields = [name for name in request.POST if name not in NOT_KEPT]
    draft_id = search_save(
        request, scope=scope, data=request.POST, fields=fields, extra={"errors": errors or {}}
    )
    params = QueryDict(mutable=True)
    params[DRAFT_PARAM] = draft_id
    for name, value in query.items():
        if value:
            params[name] = value
    return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")


def draft_load(request, *, scope: str) -> Draft | None:
    """The draft this GET names, or None (an expired one says so in a message)."""
    saved = search_saved(request, scope=scope, search_id=request.GET.get(DRAFT_PARAM))
    if saved is None:
        return None
    data, extra = saved
    return Draft(data=data, errors=extra.get("errors", {}))


def add_errors(form, errors: dict[str, list[str]]) -> None:
    """Put kept (service) errors back on a re-bound form, beside their fields."""
    if already := errors.get(ALREADY_ENROLLED):
        form.already_enrolled = SimpleNamespace(
            canonical_patient_id=already[0], cm_program=already[1]
        )
    for name, texts in errors.items():
        if name == ALREADY_ENROLLED:
            continue
        target = name if name in form.fields else None
        for message in texts:
            if message not in form.errors.get(target or NON_FIELD_ERRORS, []):
                form.add_error(target, message)


def form_again(request, *, scope: str, make_form):
    """``make_form(data)`` bound to the draft this GET names, errors included; else unbound."""
    draft = draft_load(request, scope=scope)
    if draft is None:
        return make_form(None)
    form = make_form(draft.data)
    form.is_valid()
    add_errors(form, draft.errors)
    return form


def form_post(
    request, *, form, scope: str, perform: Callable[[], str], done: Callable[[], HttpResponse]
) -> HttpResponse:
    """The POST of a form page: an invalid ``form``, or a ValidationError from ``perform()``
    (the service), goes back to the page as a draft; else ``perform()``'s success message and
    ``done()``, the redirect onwards."""
    if not form.is_valid():
        return draft_redirect(request, scope=scope)
    try:
        message = perform()
    except ValidationError as exc:
        return draft_redirect(request, scope=scope, errors=errors_of(exc))
    messages.success(request, message)
    return done()
