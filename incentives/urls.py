from django.urls import path

from incentives import views

app_name = "incentives"

urlpatterns = [
    path("", views.DayView.as_view(), name="day"),
    path("visits/<uuid:visit_id>/record/", views.RecordView.as_view(), name="visit-record"),
    path("visits/<uuid:visit_id>/excuse/", views.ExcuseView.as_view(), name="visit-excuse"),
    path(
        "enrollments/<uuid:enrollment_id>/",
        views.ParticipantView.as_view(),
        name="participant",
    ),
    path(
        "enrollments/<uuid:enrollment_id>/statement/",
        views.StatementView.as_view(),
        name="statement",
    ),
    path("enrollments/<uuid:pk>/issue/", views.IssueView.as_view(), name="issue"),
    path("tests/<uuid:pk>/correct/", views.CorrectTestView.as_view(), name="test-correct"),
    path("entries/<uuid:pk>/void/", views.VoidEntryView.as_view(), name="entry-void"),
    path("schedules/", views.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/new/", views.ScheduleNewView.as_view(), name="schedule-new"),
    path("schedules/<uuid:pk>/", views.ScheduleDetailView.as_view(), name="schedule-detail"),
    path("reports/", views.ReportView.as_view(), name="report"),
    path("reports/incentives.csv", views.ReportCSVView.as_view(), name="report-csv"),
]
