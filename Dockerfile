# The site in production: gunicorn serving cmproject.wsgi (production settings) on $PORT.
# Needs SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS at run time; docs/deployment.md has the rest.
#   docker build -t cm-backoffice .
#   docker run --env-file prod.env -p 8000:8000 cm-backoffice
FROM python:3.12-slim

# Every manage.py command in the image (migrate above all) runs on the production settings, as
# gunicorn does: the local ones would let migrations alter the IntakeQ `patients` table.
ENV DJANGO_SETTINGS_MODULE=cmproject.settings.production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 app

WORKDIR /app
COPY . /app

# The project and its runtime dependencies, no dev extra. The code runs from /app (gunicorn and
# manage.py put it first on the path), which also holds what no package carries: manage.py and
# the project-wide templates/.
RUN pip install /app

# Hashed, compressed static files into /app/var/static. The production settings want these three
# at import; the values here are throwaway, for this one command only, never kept in the image
# (collectstatic neither connects to the database nor signs anything).
RUN SECRET_KEY=build-only-not-secret \
    DATABASE_URL=postgres://build@127.0.0.1:9/build \
    ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input --verbosity 0

USER app

ENV PORT=8000 \
    WEB_CONCURRENCY=2
EXPOSE 8000

# GET /healthz/ with the first of ALLOWED_HOSTS as Host (cmproject/health.py): healthy when the
# site answers and its database too.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "cmproject.health"]

# exec: gunicorn is PID 1 and gets the SIGTERM of `docker stop` (it then finishes the requests in
# flight). No access log: request paths and query strings can carry patients' names.
CMD exec gunicorn cmproject.wsgi:application \
    --bind "0.0.0.0:${PORT}" \
    --workers "${WEB_CONCURRENCY}" \
    --worker-tmp-dir /dev/shm
