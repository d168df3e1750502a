import uuid

from django.apps import apps
from django.db import transaction


@transaction.atomic
def patient_access_log_create(*, user, patient_kind: str, patient_id: uuid.UUID, path: str = ""):
    """Record that ``user`` opened the page of one patient. Call it once the page is allowed.

    The model is looked up by name so that pages of any app can record views without importing
    the audit app's models (which import every tracked app).
    """
    access_log_model = apps.get_model("audit", "PatientAccessLog")
    entry = access_log_model(
        user=user if user.is_authenticated else None,
        username=user.get_username() if user.is_authenticated else "",
        patient_kind=patient_kind,
        patient_id=patient_id,
        path=path,
    )
    entry.full_clean(exclude=["user"])
    entry.save()
    return entry
