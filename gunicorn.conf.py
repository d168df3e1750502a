"""gunicorn's settings wherever the project runs it (the Docker image, `make serve`, the tests,
the benchmark): gunicorn reads ./gunicorn.conf.py from its working directory, the repository
root (/app in the image). Command-line options still win over these.

No access log unless one is asked for (``--access-logfile -``). When one is, its lines carry
the path without the query string and no Referer: a query string or the page a request came
from can hold a patient's name or date of birth. Pages keep searches out of URLs
(core.searches); this keeps an old link or a hand-typed URL out of the log too.

A worker freezes the objects of the loaded app (gc.freeze) before it serves: Django, the
project and their libraries are some 90,000 long-lived objects, and a full garbage collection
that walks them took about 90 ms, landing on whichever request was running.
"""

import gc

# gunicorn's default, less %(r)s (the request line, query string included), %(q)s and %(f)s
# (the Referer): method, path and protocol are written separately instead.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'


def post_worker_init(worker):
    """After the worker has loaded the app: its objects stay for the worker's life, so the
    collector's full collections need not walk them again and again."""
    gc.collect()
    gc.freeze()
