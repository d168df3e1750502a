from django.contrib import admin
from django.urls import include, path

from cmproject import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", health.healthz, name="healthz"),
    path("accounts/", include("staff.urls")),
    path("admin/", admin.site.urls),
    path("cm/", include("cm_program.urls")),
    path("incentives/", include("incentives.urls")),
    path("intakeq/", include("intakeq_link.urls")),
    path("cross-system/", include("cross_system.urls")),
    path("audit/", include("audit.urls")),
]

handler500 = "cmproject.views.server_error"
