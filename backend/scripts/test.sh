#!/usr/bin/env bash
# Run the backend test suite against SQLite and a throwaway PostgreSQL 15.
#
#   backend/scripts/test.sh [pytest args...]
#
# PostgreSQL runs from PG_BIN (Debian's postgresql-15 by default) in a state directory of
# this user and checkout, on 127.0.0.1 and a free port, as user `postgres` when run by root.
# It is stopped on exit, whatever happens. Set SKIP_POSTGRES=1 to test SQLite only.
# Set JUNIT_REPORT=<file> to also write the results there as JUnit XML (tests/run_suite.py
# counts the test cases from it).
set -euo pipefail

# Relative to where we were called from, not to where the tests run.
[[ -z "${JUNIT_REPORT:-}" ]] || JUNIT_REPORT="$(realpath -m -- "$JUNIT_REPORT")"
BACKEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# One per user and checkout: two clones tested at once must not stop each other's server.
STATE_DIR="${TODO_TEST_STATE_DIR:-${TMPDIR:-/tmp}/todo-backend-test-$(id -u)-$(printf %s "$BACKEND_DIR" | sha256sum | cut -c1-12)}"
PG_DATA="$STATE_DIR/pgdata"
PG_LOG="$STATE_DIR/postgres.log"
UV="${UV:-$(command -v uv || echo /work/main/.venv/bin/uv)}"

as_pg_user() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_postgres() {
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m immediate -w >/dev/null 2>&1 || true
  fi
}

start_postgres() {
  # A killed earlier run may have left a server, pidfile or socket behind.
  stop_postgres
  rm -rf "$STATE_DIR"
  mkdir -p "$STATE_DIR"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres: "$STATE_DIR"
  fi
  chmod 700 "$STATE_DIR"

  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
    --no-instructions >/dev/null
  trap stop_postgres EXIT
  if ! as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $STATE_DIR -c fsync=off" >/dev/null; then
    echo "PostgreSQL failed to start; log follows:" >&2
    cat "$PG_LOG" >&2
    exit 1
  fi
  export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

cd "$BACKEND_DIR"
if [[ "${SKIP_POSTGRES:-0}" != 1 ]]; then
  start_postgres
fi
report_args=()
if [[ -n "${JUNIT_REPORT:-}" ]]; then
  report_args=("--junitxml=$JUNIT_REPORT")
fi
"$UV" run --frozen pytest "${report_args[@]}" "$@"
