from django.contrib.auth import views as auth_views
from django.urls import path

from staff import views

# No namespace: "login", "logout" and "two-factor" are the names settings and templates use.
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.two_factor, name="two-factor"),
]
