"""`make serve`'s settings (cmproject.settings.serve) on the test database, with static files
collected into the test's own folder instead of the checkout's var/static."""

import os

from cmproject.settings.serve import *  # noqa: F403
from cmproject.settings.serve import DATABASES

DATABASES["default"]["NAME"] = os.environ["CM_TEST_DATABASE_NAME"]
STATIC_ROOT = os.environ["CM_TEST_STATIC_ROOT"]
