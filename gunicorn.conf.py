"""gunicorn's settings wherever the project runs it (the Docker image, `make serve`, the tests,
the benchmark): gunicorn reads ./gunicorn.conf.py from its working directory, the repository
root (/app in the image). Command-line options still win over these.

No access log unless one is asked for (``--access-logfile -``). When one is, its lines carry
the path without the query string and no Referer: a query string or the page a request came
from can hold a patient's name or date of birth. Pages keep searches out of URLs
(core.searches); this keeps an old link or a hand-typed URL out of the log too.
"""

# gunicorn's default, less %(r)s (the request line, query string included), %(q)s and %(f)s
# (the Referer): method, path and protocol are written separately instead.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
