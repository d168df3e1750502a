from django.contrib.auth import views as auth_views
from django.urls import path

from staff import views
from staff.forms import SignInForm

# No namespace: "login", "logout" and "two-factor" are the names settings and templates use.
# Sign-in answers GET, HEAD and POST only (a FormView would also take PUT).
login_view = auth_views.LoginView.as_view(
    http_method_names=["get", "head", "post"], authentication_form=SignInForm
)

urlpatterns = [
    path("login/", login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.two_factor, name="two-factor"),
]
