# Production image: gunicorn serving waqti.wsgi. Configuration comes only from the environment.
# Production by default: DJANGO_DEBUG=0, so the server refuses to start without DJANGO_SECRET_KEY
# (settings.py); `docker run -e DJANGO_DEBUG=1` is the explicit opt-in to debug (development only).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_DEBUG=0

WORKDIR /app
RUN useradd --create-home --uid 10001 waqti

COPY pyproject.toml requirements/constraints.txt ./requirements/
RUN mv requirements/pyproject.toml . && mkdir -p waqti tenancy tokens procurement \
    && touch waqti/__init__.py tenancy/__init__.py tokens/__init__.py procurement/__init__.py \
    && pip install --no-cache-dir -c requirements/constraints.txt -e .

COPY . .
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only DATABASE_URL=postgresql://unused/unused \
    python manage.py collectstatic --noinput -v 0

# The activity log's spool (docker-compose mounts a volume here; a new volume takes this owner).
RUN mkdir -p /var/lib/waqti/activity-spool && chown -R waqti /var/lib/waqti
USER waqti
EXPOSE 8000
CMD ["gunicorn", "waqti.wsgi:application", "--config", "python:waqti.gunicorn_conf"]
