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
RUN GRIDMAP_DEBUG=0 python manage.py collectstatic --no-input -v 0

ENV GRIDMAP_DEBUG=0
EXPOSE 8000
# Stateless: run as many as needed behind a load balancer; migrate once per release.
# gthread workers: requests wait on PostgreSQL much of the time (tests/bench/bench_report.py).
CMD ["gunicorn", "gridmap.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "gthread", "--threads", "4"]
