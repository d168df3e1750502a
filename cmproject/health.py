"""The health of the whole composed site, for load balancers and the container's HEALTHCHECK.

``/healthz/`` needs no sign-in and says nothing but whether the database answers: a probe must
learn no PHI, no setting and no error text. ``python -m cmproject.health`` is the probe the
Dockerfile's HEALTHCHECK runs inside the container.
"""

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache  # a cached "ok" would hide an outage
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The class only: a connection error's text can name the host and the user.
        logger.warning("Health check: the database did not answer (%s).", type(exc).__name__)
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def probe_host(allowed_hosts: str) -> str:
    """The Host header for the probe: the first of ALLOWED_HOSTS, so the request passes Django's
    host check as a real one must ("*" allows any name; ".example.com" allows "example.com")."""
    host = allowed_hosts.split(",")[0].strip().lstrip(".")
    return "localhost" if host in ("", "*") else host


def probe(*, port: int, allowed_hosts: str, timeout: float = 5.0) -> int:
    """GET /healthz/ on this machine: 0 if it answered 200, else 1 (Docker's HEALTHCHECK codes)."""
    import http.client

    http_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        http_connection.request("GET", "/healthz/", headers={"Host": probe_host(allowed_hosts)})
        status = http_connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return 1
    finally:
        http_connection.close()
    return 0 if status == 200 else 1


if __name__ == "__main__":
    import os
    import sys

    sys.exit(
        probe(
            port=int(os.environ.get("PORT", "8000")),
            allowed_hosts=os.environ.get("ALLOWED_HOSTS", "localhost"),
        )
    )
