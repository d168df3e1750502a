"""`make serve`'s settings (cmproject.settings.serve) on the test database, with static files
collected into the test's own folder instead of the checkout's var/static."""

import os

from cmproject.settings.serve import *  # noqa: F403
from cmproject.settings.serve import DATABASE_OWNER, DATABASES

# One role, as the tests (cmproject.settings.test): the test database is the owner's.
if DATABASE_OWNER:
    DATABASES["default"].update(USER=DATABASE_OWNER["USER"], PASSWORD=DATABASE_OWNER["PASSWORD"])
DATABASES["default"]["NAME"] = os.environ["CM_TEST_DATABASE_NAME"]
STATIC_ROOT = os.environ["CM_TEST_STATIC_ROOT"]
