from axes.backends import AxesStandaloneBackend


class ThrottledBackend(AxesStandaloneBackend):
    """django-axes' lock-out check for every sign-in that comes with a request.

    Every web sign-in (our login page, the admin's) passes the request. A call without one comes
    from code (a shell, ``Client.login`` in tests), where there is no address to throttle; axes
    would raise, so this backend steps aside and lets ModelBackend answer.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
