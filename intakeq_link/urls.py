from django.urls import path

from intakeq_link import views

app_name = "intakeq"

urlpatterns = [
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/<uuid:pk>/", views.patient_detail, name="patient-detail"),
]
