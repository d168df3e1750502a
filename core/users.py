"""The one test of "a user who may do anything at all", used by every access rule."""


def is_active_user(user) -> bool:
    """Signed in and not deactivated. Anonymous users, ``None`` and inactive accounts fail."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))
