from django.urls import path

from cm_program import lifecycle_views, list_views, pod_views, supervisor_views, views

app_name = "cm"

urlpatterns = [
    path("patients/", list_views.PatientListView.as_view(), name="patient-list"),
    path(
        "patients/export.csv",
        list_views.PatientListExportView.as_view(),
        name="patient-list-export",
    ),
    path("patients/enroll/new/", views.EnrollNewView.as_view(), name="enroll-new"),
    path("patients/enroll/existing/", views.EnrollExistingView.as_view(), name="enroll-existing"),
    path(
        "patients/<uuid:canonical_patient_id>/",
        views.PatientDetailView.as_view(),
        name="patient-detail",
    ),
    path(
        "patients/<uuid:canonical_patient_id>/edit/",
        views.PatientEditView.as_view(),
        name="patient-edit",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/status/",
        views.EnrollmentStatusView.as_view(),
        name="enrollment-status",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/reassign/",
        views.EnrollmentReassignView.as_view(),
        name="enrollment-reassign",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/pod/",
        views.EnrollmentPodView.as_view(),
        name="enrollment-pod",
    ),
    path(
        "patients/<uuid:canonical_patient_id>/identity/",
        lifecycle_views.PatientCorrectView.as_view(),
        name="patient-correct",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/reactivate/",
        lifecycle_views.EnrollmentReactivateView.as_view(),
        name="enrollment-reactivate",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/undo-final/",
        lifecycle_views.EnrollmentUndoFinalView.as_view(),
        name="enrollment-undo-final",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/reactivation-request/",
        lifecycle_views.enrollment_reactivation_request,
        name="enrollment-reactivation-request",
    ),
    path(
        "supervisor/caseloads/move/",
        lifecycle_views.CaseloadMoveView.as_view(),
        name="caseload-move",
    ),
    path(
        "supervisor/requests/",
        supervisor_views.SupervisorRequestListView.as_view(),
        name="supervisor-requests",
    ),
    path(
        "supervisor/requests/<uuid:request_id>/",
        supervisor_views.SupervisorRequestDecideView.as_view(),
        name="supervisor-request",
    ),
    path("supervisor/pods/", pod_views.PodListView.as_view(), name="pods"),
]
