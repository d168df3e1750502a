from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("patients/<uuid:pk>/history/", views.patient_history, name="patient-history"),
]
