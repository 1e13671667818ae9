#!/usr/bin/env bash
# The fault scenarios (docs/reliability.md): real gunicorn, Celery worker and beat, a Redis of their
# own on a free port and fresh PostgreSQL databases (oc_chaos_*). Slow; not part of `make test`.
# Extra arguments go to pytest, e.g. `bash chaos/run.sh -k sms`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DATABASE_URL="${CHAOS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/oc_chaos}"
export CHAOS_REDIS_PORT="${CHAOS_REDIS_PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
export REDIS_URL="redis://127.0.0.1:${CHAOS_REDIS_PORT}/0"
export DJANGO_DEBUG=1
export DJANGO_ALLOW_ASYNC_UNSAFE=true
unset CELERY_BROKER_URL
# Import files of the scenarios go to a folder of their own, removed afterwards.
export MEDIA_ROOT="$(mktemp -d -t oc-chaos-media.XXXXXX)"
trap 'rm -rf "$MEDIA_ROOT"' EXIT

# -s: each scenario prints its figures; the chaos folder has its own conftest (not tests/).
$PY -m pytest chaos -s -p no:cacheprovider -o addopts="-ra --strict-markers" "$@"
