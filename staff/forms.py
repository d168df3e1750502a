from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the username's length enforced: Django sets the limit after
    the field is built, so only the widget gets it, and a 10,000-character username reached
    django-axes, whose database column cannot store it (a 500)."""

    username = UsernameField(
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
