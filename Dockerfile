# Production image: gunicorn web, Celery worker and beat share it (see docker-compose.yml).
# Chromium prints bulletin PDFs with the CJK fonts; nothing is fetched at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext nodejs npm fonts-noto-cjk chromium \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY . .
# Static files and translations are built into the image; no page loads anything from elsewhere.
RUN DJANGO_DEBUG=1 DJANGO_ENV_FILE=/dev/null python manage.py compilemessages -v0 \
 && DJANGO_DEBUG=1 DJANGO_ENV_FILE=/dev/null DJANGO_STATIC_MANIFEST=1 python manage.py collectstatic --no-input -v0

RUN useradd --system --create-home app && mkdir -p /app/var/media && chown -R app /app/var
USER app
EXPOSE 8000
# Workers, timeout and the access log (its phone numbers masked) are in opinion_center/gunicorn.conf.py.
CMD ["gunicorn", "-c", "opinion_center/gunicorn.conf.py", "opinion_center.wsgi:application"]
