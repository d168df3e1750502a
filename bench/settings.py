"""The project's local settings pointed at the benchmark's own database (BENCH_DB_NAME).

DEBUG is off and connections persist as in production, so the timings are not those of a
debugging server (DEBUG keeps every SQL statement in memory).
"""

import os

from cmproject.settings.local import *  # noqa: F403
from cmproject.settings.local import DATABASE_OWNER, DATABASES

DEBUG = False
# One role: the benchmark creates and drops its own database, which takes the owner's login.
if DATABASE_OWNER:
    DATABASES["default"] = dict(DATABASE_OWNER)
DATABASE_OWNER = None
DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB_NAME", "cm_bench")
DATABASES["default"]["CONN_MAX_AGE"] = 60
ROOT_URLCONF = "bench.urls"  # the project plus the CM list as it was (bench.list_before)
