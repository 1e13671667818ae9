#!/usr/bin/env bash
# The whole suite on the machine's real PostgreSQL and Redis: system checks, migrations check,
# lint, then pytest (unit, API and browser tests). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/opinion_center}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
export DJANGO_ALLOW_ASYNC_UNSAFE=true
PY=.venv/bin/python

# The database named in DATABASE_URL (pytest makes its own test_ copy; migrations are checked here).
$PY scripts/ensure_database.py

echo "== manage.py check"
$PY manage.py check --fail-level WARNING
echo "== makemigrations --check"
$PY manage.py makemigrations --check --dry-run
echo "== ruff"
.venv/bin/ruff check .
echo "== bandit (high severity fails)"
.venv/bin/bandit -q -r units intake feeds workorders sms surveys analytics alerts routing opinion_center scripts -x '*/migrations/*' --severity-level high
echo "== dependency advisories (offline list: security/advisories.json)"
$PY scripts/check_advisories.py
echo "== pytest"
# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
$PY -m pytest "$@"
