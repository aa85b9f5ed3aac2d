#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on PostgreSQL, and says plainly what it skipped and why.
# GUANXI_REQUIRE_ALL=1 (set by .ci/run) turns every skip into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
skipped=()

chromium=${GUANXI_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  skipped+=("browser tests: no chromium at $chromium (apt-get install chromium fonts-noto-cjk)")
fi

echo "== Lint: ruff, import layers, migrations"
$BIN/ruff check src tests bench || status=1
$BIN/lint-imports --no-cache || status=1
$BIN/guanxi makemigrations --check --dry-run >/dev/null || { echo "missing migrations"; status=1; }
echo "== Types: mypy"
$BIN/mypy || status=1

echo "== Tests on SQLite"
$BIN/pytest -p no:cacheprovider -n 2 "$@" || status=1

pg_url=${GUANXI_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if $BIN/python - "$pg_url" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
PY
then
  echo "== Tests on PostgreSQL ($pg_url)"
  DATABASE_URL=$pg_url $BIN/pytest -p no:cacheprovider -n 2 "$@" || status=1
else
  skipped+=("PostgreSQL suite: no server answers at $pg_url (set GUANXI_TEST_DATABASE_URL)")
fi

if [ ${#skipped[@]} -gt 0 ]; then
  echo
  echo "SKIPPED:"
  for s in "${skipped[@]}"; do echo "  - $s"; done
  if [ "${GUANXI_REQUIRE_ALL:-0}" = "1" ]; then
    echo "GUANXI_REQUIRE_ALL=1: a skip is a failure here."
    status=1
  fi
fi
exit $status
