from django.urls import path

from cross_system import views

# No namespace: "complete-patient-view" and "dual-enrollment-report" are the names in use.
urlpatterns = [
    path("patients/<uuid:pk>/", views.complete_patient_view, name="complete-patient-view"),
    path("dual-enrollment/", views.dual_enrollment_report, name="dual-enrollment-report"),
    path(
        "dual-enrollment.csv",
        views.dual_enrollment_report_csv,
        name="dual-enrollment-report-csv",
    ),
]
