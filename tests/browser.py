"""Helpers for the browser tests: Debian's chromium driven by Playwright, signed in as a role.

Never `playwright install`: the tests drive /usr/bin/chromium and skip, saying why, where it or
Playwright is missing. Signing in copies the session of Django's test client (force_login, with
the second factor for admins: tests/conftest.py) into the browser, so each walk starts at work;
tests/test_cm_browser.py signs in through the form.
"""

import contextlib
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextlib.contextmanager
def chromium(monkeypatch):
    """A headless browser, or pytest.skip with the reason."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip(
            "Chromium is not installed (/usr/bin/chromium); `make test` installs it as root."
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


def signed_in_page(browser, live_server, user, viewport=DESKTOP):
    """A page of a fresh browser context whose session is ``user``'s."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def fits_the_width(page) -> bool:
    """Nothing on the page is wider than the window (a table may scroll inside its card)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
