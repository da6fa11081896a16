# gridmap app server image. The database is external: set DATABASE_URL to a PostGIS server.
# (For a laptop demo without Docker use `scripts/gridmap run`, which starts its own PostGIS.)
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gdal-bin libgdal32 libgeos-c1v5 libproj25 nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gridmap ./gridmap
RUN pip install --no-cache-dir .
COPY web ./web
RUN cd web && npm install --no-audit --no-fund --omit=dev
COPY manage.py ./
# Throwaway keys for this build step only: the real ones come from the environment at run time.
RUN GRIDMAP_DEBUG=0 GRIDMAP_SECRET_KEY=build-only GRIDMAP_FIELD_KEYS=YnVpbGQtb25seS1idWlsZC1vbmx5LWJ1aWxkLW9ubHk= \
    GRIDMAP_LOOKUP_KEY=build-only python manage.py collectstatic --no-input -v 0

# Production settings (gridmap/settings.py): DEBUG off, Secure and HttpOnly cookies, HSTS,
# redirect to HTTPS, sessions of 8 hours. Set at run time, never in the image:
#   GRIDMAP_SECRET_KEY       required, 50+ random characters, the same on every app server
#   GRIDMAP_FIELD_KEYS       required, Fernet key(s) encrypting ID numbers and phones, newest first
#   GRIDMAP_LOOKUP_KEY       required, 50+ random characters keying their lookup hashes (never changed)
#   GRIDMAP_ALLOWED_HOSTS    the site's host name(s), comma-separated
#   DATABASE_URL             postgis://user:password@host:5432/gridmap (a role that is no superuser)
# Behind a load balancer that ends TLS: GRIDMAP_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO=https.
# Optional: GRIDMAP_HSTS_SECONDS (default one year; 0 turns HSTS off), GRIDMAP_HSTS_PRELOAD=0,
# GRIDMAP_HSTS_INCLUDE_SUBDOMAINS=0, GRIDMAP_SSL_REDIRECT=0, GRIDMAP_SESSION_HOURS.
# `docker run ... python manage.py check --deploy` then reports no security warning.
ENV GRIDMAP_DEBUG=0 \
    GRIDMAP_SSL_REDIRECT=1
EXPOSE 8000
# Stateless: run as many as needed behind a load balancer; migrate once per release.
# gthread workers: requests wait on PostgreSQL much of the time (tests/bench/bench_report.py).
CMD ["gunicorn", "gridmap.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "gthread", "--threads", "4"]
