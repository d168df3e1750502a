from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cmproject import admin_views, health, two_factor, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", health.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", two_factor.two_factor, name="two-factor"),
    path("admin/", admin.site.urls),
    path("cm/", include("cm_program.urls")),
    path("intakeq/", include("intakeq_link.urls")),
    path("audit/", include("audit.urls")),
    path(
        "cross-system/patients/<uuid:pk>/",
        admin_views.complete_patient_view,
        name="complete-patient-view",
    ),
    path(
        "cross-system/dual-enrollment/",
        admin_views.dual_enrollment_report,
        name="dual-enrollment-report",
    ),
]
