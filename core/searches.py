"""Searches kept out of URLs: names and dates of birth never reach a query string.

A search form posts its terms; ``search_redirect`` keeps them in the session under a random id
and redirects to the same page with ``?search=<id>``; the page reads them back with
``search_params``. Paging, reload and the back button keep working (the id stays valid for
``MAX_AGE`` seconds, within the session), while proxies, gunicorn and browsers' histories see only
the opaque id. An id is tied to its page (``scope``) and to the session that made it: another
user, page or session gets nothing from it.

    @require_http_methods(["GET", "HEAD", "POST"])
    def patient_list(request):
        if request.method == "POST":
            return search_redirect(request, scope="intakeq:patient-list", fields=["q"])
        params = search_params(request, scope="intakeq:patient-list")  # a QueryDict
        ...
        # links to other pages of the result: ?{{ search_query }}&page=2
"""

import secrets
import time
from collections.abc import Iterable

from django.contrib import messages
from django.http import HttpResponseRedirect, QueryDict

__all__ = [
    "MAX_AGE",
    "SEARCH_PARAM",
    "search_params",
    "search_query",
    "search_redirect",
    "search_save",
    "search_saved",
]

SEARCH_PARAM = "search"
SESSION_KEY = "cm_searches"
MAX_AGE = 60 * 60  # seconds a search id stays usable
MAX_KEPT = 20  # searches kept per session; the oldest goes first
EXPIRED_MESSAGE = "That search has expired. Search again."


def _kept(request) -> dict:
    now = time.time()
    searches = request.session.get(SESSION_KEY, {})
    return {key: s for key, s in searches.items() if now - s["at"] <= MAX_AGE}


def search_save(
    request, *, scope: str, data: QueryDict, fields: Iterable[str], extra: dict | None = None
) -> str:
    """Keep ``fields`` of ``data`` (all their values) in the session; return the new id.

    ``extra`` (JSON-able) is kept beside them, e.g. a form's errors (cm_program.drafts).
    """
    searches = _kept(request)
    search_id = secrets.token_urlsafe(12)
    searches[search_id] = {
        "scope": scope,
        "at": int(time.time()),
        "params": {name: data.getlist(name) for name in fields if name in data},
        "extra": extra or {},
    }
    newest = sorted(searches.items(), key=lambda item: item[1]["at"])[-MAX_KEPT:]
    request.session[SESSION_KEY] = dict(newest)
    return search_id


def search_redirect(
    request, *, scope: str, fields: Iterable[str], keep: Iterable[str] = ()
) -> HttpResponseRedirect:
    """The answer to a posted search: back to this page with ``?search=<id>``.

    ``keep`` names posted values that are no one's data (a page size) and may stay in the URL.
    """
    query = QueryDict(mutable=True)
    query[SEARCH_PARAM] = search_save(request, scope=scope, data=request.POST, fields=fields)
    for name in keep:
        if request.POST.get(name):
            query[name] = request.POST[name]
    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")


def search_params(request, *, scope: str) -> QueryDict:
    """The search this request names with ``?search=<id>``, as a QueryDict (empty without one).

    An unknown, expired or other page's id gives an empty QueryDict and a message saying so.
    """
    search = search_saved(request, scope=scope, search_id=request.GET.get(SEARCH_PARAM))
    return search[0] if search else QueryDict(mutable=True)


def search_saved(request, *, scope: str, search_id: str | None) -> tuple[QueryDict, dict] | None:
    """The params and ``extra`` kept under ``search_id`` for ``scope``; None without an id.

    An unknown, expired or other page's id gives None and a message saying so.
    """
    if not search_id:
        return None
    search = _kept(request).get(search_id)
    if search is None or search["scope"] != scope:
        messages.info(request, EXPIRED_MESSAGE)
        return None
    params = QueryDict(mutable=True)
    for name, values in search["params"].items():
        params.setlist(name, values)
    return params, search.get("extra", {})


def search_query(request) -> str:
    """The query string that names this request's search again (for paging links)."""
    query = QueryDict(mutable=True)
    if search_id := request.GET.get(SEARCH_PARAM):
        query[SEARCH_PARAM] = search_id
    return query.urlencode()
