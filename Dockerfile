# GridGov image: one image for web (gunicorn), worker and beat (docker-compose.yml).
# Build: docker build -t gridgov .   Front-end assets come from package-lock.json, never a CDN.

# --- front-end assets --------------------------------------------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY scripts/vendor_assets.sh scripts/
RUN bash scripts/vendor_assets.sh

# --- application -------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=governance.settings \
    GRIDGOV_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/media \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000

RUN groupadd --system gridgov && useradd --system --gid gridgov --home-dir /app gridgov
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
COPY --from=assets /build/static/vendor static/vendor
# .mo files are built here (they are not committed); static files are collected with the
# production storage (hashed names + compression). The key only exists for this build step.
RUN python manage.py compiletranslations \
    && DJANGO_ENV=production ALLOWED_HOSTS=build.invalid \
       SECRET_KEY=build-only-key-not-used-at-run-time-0123456789abcdefghij \
       FIELD_ENCRYPTION_KEY=build-only-field-key-not-used-at-run-time-0123 \
       python manage.py collectstatic --noinput \
    && mkdir -p /app/var/beat /app/media \
    && chown -R gridgov:gridgov /app/var /app/media

USER gridgov
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "scripts/healthcheck.py"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
