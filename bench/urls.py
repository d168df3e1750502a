"""The project's URLs plus today's CM list (bench.list_before) as the bench's baseline."""

from django.urls import path

from bench.list_before import PatientListBefore
from cmproject.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path(
        "bench/cm/patients-before/", PatientListBefore.as_view(), name="bench-patient-list-before"
    ),
]
