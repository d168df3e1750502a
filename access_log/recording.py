"""How patient pages record their views: a decorator for function views, a mixin for class
views, ``record_patient_view`` for a view that fetches the patient itself, and
``record_patients_viewed`` for a page that lists several.

A view is logged only when the page is actually shown (status 200), so a refused or unknown id
(404) records nothing about a patient the user may not see.
"""

import functools

from access_log.kinds import PatientKind
from access_log.services import patient_access_log_create, patient_access_log_create_many

__all__ = [
    "PatientKind",
    "PatientViewLogMixin",
    "record_patient_view",
    "record_patients_viewed",
    "records_patient_view",
]


def record_patient_view(request, *, patient_kind: str, patient_id) -> None:
    patient_access_log_create(
        user=request.user, patient_kind=patient_kind, patient_id=patient_id, path=request.path
    )


def record_patients_viewed(request, *, patient_kind: str, patient_ids) -> None:
    """For a page that lists patients (a list, search results, a report): log every patient it
    shows, one row each, in one INSERT. Pass the ids of the rows actually rendered (this page
    of a paginated list), not of the whole result."""
    patient_access_log_create_many(
        user=request.user, patient_kind=patient_kind, patient_ids=patient_ids, path=request.path
    )


def records_patient_view(patient_kind: str, *, url_kwarg: str = "pk"):
    """Decorator: log a view of the patient whose id is the URL argument ``url_kwarg``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                record_patient_view(
                    request, patient_kind=patient_kind, patient_id=kwargs[url_kwarg]
                )
            return response

        return wrapped

    return decorator


class PatientViewLogMixin:
    """For DetailView-style views: logs the object returned by ``get_object``.

    Set ``audit_patient_kind``; override ``get_audited_patient_id(obj)`` when the page's object
    is not the patient itself (e.g. an enrollment page logs its CM patient).
    """

    audit_patient_kind: str = ""

    def get_audited_patient_id(self, obj):
        return obj.pk

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        record_patient_view(
            self.request,
            patient_kind=self.audit_patient_kind,
            patient_id=self.get_audited_patient_id(obj),
        )
        return obj
