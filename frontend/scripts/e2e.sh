#!/usr/bin/env bash
# End-to-end: the real backend (SQLite, OpenAI stub) behind the built Next standalone server,
# driven by Playwright in Debian's headless Chromium.
#
#   frontend/scripts/e2e.sh [playwright args...]
#
# Starts, on 127.0.0.1 only: the OpenAI stub on 18090, the backend on 18000 and the frontend
# on 13000; stops all three on exit, whatever happens. E2E_SKIP_BUILD=1 reuses .next/.
# Set JUNIT_REPORT=<file> to also write the Playwright results there as JUnit XML
# (tests/run_suite.py counts the test cases from it).
set -euo pipefail

# Relative to where we were called from, not to where the tests run.
[[ -z "${JUNIT_REPORT:-}" ]] || JUNIT_REPORT="$(realpath -m -- "$JUNIT_REPORT")"
FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND_DIR="$(cd "$FRONTEND_DIR/../backend" && pwd)"
REPO_DIR="$(cd "$FRONTEND_DIR/.." && pwd)"
STUB_PORT=18090
BACKEND_PORT=18000
FRONTEND_PORT=13000
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/todo-e2e.XXXXXX")"
PIDS=()

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 ]]; then
    for log in "$WORK_DIR"/*.log; do
      [[ -f "$log" ]] || continue
      echo "---- last lines of $(basename "$log") ----" >&2
      tail -n 40 "$log" >&2
    done
  fi
  rm -rf "$WORK_DIR"
  exit "$status"
}
trap cleanup EXIT INT TERM

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() {
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      echo "    $name is up"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it was ready" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "$name did not answer $url within 60s" >&2
  return 1
}

for port in $STUB_PORT $BACKEND_PORT $FRONTEND_PORT; do
  if ! port_free "$port"; then
    echo "port $port on 127.0.0.1 is already in use; stop whatever holds it first" >&2
    exit 1
  fi
done

STUB="$BACKEND_DIR/tests/utils/openai_stub.py"
if [[ ! -f "$STUB" ]]; then
  echo "missing $STUB (the backend's OpenAI stub)" >&2
  exit 1
fi

if [[ ! -x "$BACKEND_DIR/.venv/bin/uvicorn" ]]; then
  UV="${UV:-$(command -v uv || echo "$REPO_DIR/.venv/bin/uv")}"
  echo "==> uv sync --frozen (backend)"
  (cd "$BACKEND_DIR" && "$UV" sync --frozen)
fi

cd "$FRONTEND_DIR"
source scripts/ensure-deps.sh

if [[ "${E2E_SKIP_BUILD:-0}" != 1 ]]; then
  echo "==> next build"
  npm run --silent build
fi
# As the Dockerfile does: the standalone server serves static assets from next to itself.
rm -rf .next/standalone/.next/static .next/standalone/public
cp -r .next/static .next/standalone/.next/static
cp -r public .next/standalone/public

echo "==> OpenAI stub on :$STUB_PORT"
python3 "$STUB" --port "$STUB_PORT" >"$WORK_DIR/openai-stub.log" 2>&1 &
PIDS+=($!)

export DATABASE_URL="sqlite:///$WORK_DIR/e2e.db"
export JWT_SECRET="e2e-only-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export ENVIRONMENT=development
export OPENAI_API_KEY=test-key
export OPENAI_BASE_URL="http://127.0.0.1:$STUB_PORT/v1"

echo "==> migrations"
(cd "$BACKEND_DIR" && .venv/bin/python -m app.migrate) >"$WORK_DIR/migrate.log" 2>&1

echo "==> backend on :$BACKEND_PORT"
# As in the image: the app, not uvicorn, decides whose X-Forwarded-For counts; here the
# frontend on loopback is the trusted proxy.
(cd "$BACKEND_DIR" && TRUSTED_PROXIES=127.0.0.1 exec .venv/bin/uvicorn app.main:app --host 127.0.0.1 \
  --port "$BACKEND_PORT" --no-proxy-headers) \
  >"$WORK_DIR/backend.log" 2>&1 &
PIDS+=($!)

echo "==> frontend on :$FRONTEND_PORT"
(cd .next/standalone && PORT=$FRONTEND_PORT HOSTNAME=127.0.0.1 BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" \
  NODE_ENV=production exec node server.js) >"$WORK_DIR/frontend.log" 2>&1 &
PIDS+=($!)

wait_for "OpenAI stub" "http://127.0.0.1:$STUB_PORT/healthz" "${PIDS[0]}"
wait_for backend "http://127.0.0.1:$BACKEND_PORT/readyz" "${PIDS[1]}"
wait_for frontend "http://127.0.0.1:$FRONTEND_PORT/api/health" "${PIDS[2]}"

echo "==> playwright"
report_args=()
if [[ -n "${JUNIT_REPORT:-}" ]]; then
  report_args=(--reporter=list,junit)
  export PLAYWRIGHT_JUNIT_OUTPUT_FILE="$JUNIT_REPORT"
fi
E2E_BASE_URL="http://127.0.0.1:$FRONTEND_PORT" npx playwright test "${report_args[@]}" "$@"
