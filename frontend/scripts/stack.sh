# shellcheck shell=bash
# shellcheck source-path=SCRIPTDIR
# The app as the e2e and fuzz runs drive it, on 127.0.0.1 only: the backend's OpenAI stub, the
# backend (SQLite, migrated) and the built Next standalone server in front of it.
# Sourced by e2e.sh and fuzz.sh, which set STUB_PORT, BACKEND_PORT and FRONTEND_PORT first and
# may add NAME=value settings to BACKEND_ENV and FRONTEND_ENV. stack_init installs the trap
# that stops every process started here on exit, whatever happens, and shows their logs' last
# lines when the run failed.

FRONTEND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND_DIR="$(cd "$FRONTEND_DIR/../backend" && pwd)"
REPO_DIR="$(cd "$FRONTEND_DIR/.." && pwd)"
STUB="$BACKEND_DIR/tests/utils/openai_stub.py"
BACKEND_ENV=()
FRONTEND_ENV=()
PIDS=()

stack_cleanup() {
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

# Check the ports and the stub, make the work directory and install the trap.
stack_init() {
  local port
  for port in $STUB_PORT $BACKEND_PORT $FRONTEND_PORT; do
    if ! port_free "$port"; then
      echo "port $port on 127.0.0.1 is already in use; stop whatever holds it first" >&2
      exit 1
    fi
  done
  if [[ ! -f "$STUB" ]]; then
    echo "missing $STUB (the backend's OpenAI stub)" >&2
    exit 1
  fi
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/todo-$1.XXXXXX")"
  trap stack_cleanup EXIT INT TERM
}

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

# backend/.venv from the lock file, when it is missing.
stack_backend_venv() {
  if [[ ! -x "$BACKEND_DIR/.venv/bin/uvicorn" ]]; then
    local uv="${UV:-$(command -v uv || echo "$REPO_DIR/.venv/bin/uv")}"
    echo "==> uv sync --frozen (backend)"
    (cd "$BACKEND_DIR" && "$uv" sync --frozen)
  fi
}

# True when .next/ holds a build newer than every file the build reads.
next_build_is_current() {
  [[ -f "$FRONTEND_DIR/.next/BUILD_ID" ]] || return 1
  local newer
  newer="$(cd "$FRONTEND_DIR" && find app components lib public middleware.ts instrumentation.ts \
    next.config.ts package.json package-lock.json tsconfig.json -newer .next/BUILD_ID -print -quit)"
  [[ -z "$newer" ]]
}

# node_modules, then `next build` unless $1 is "reuse", then the standalone server's assets.
stack_frontend_build() {
  cd "$FRONTEND_DIR"
  # shellcheck source=ensure-deps.sh
  source scripts/ensure-deps.sh
  if [[ "${1:-}" != reuse ]]; then
    echo "==> next build"
    npm run --silent build
  fi
  # As the Dockerfile does: the standalone server serves static assets from next to itself.
  rm -rf .next/standalone/.next/static .next/standalone/public
  cp -r .next/static .next/standalone/.next/static
  cp -r public .next/standalone/public
}

# Start the stub, migrate, start the backend and the frontend, and wait until all three answer.
stack_start() {
  echo "==> OpenAI stub on :$STUB_PORT"
  python3 "$STUB" --port "$STUB_PORT" >"$WORK_DIR/openai-stub.log" 2>&1 &
  PIDS+=($!)

  export DATABASE_URL="sqlite:///$WORK_DIR/app.db"
  JWT_SECRET="test-only-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  export JWT_SECRET
  export ENVIRONMENT=development
  export OPENAI_API_KEY=test-key
  export OPENAI_BASE_URL="http://127.0.0.1:$STUB_PORT/v1"

  echo "==> migrations"
  (cd "$BACKEND_DIR" && .venv/bin/python -m app.migrate) >"$WORK_DIR/migrate.log" 2>&1

  echo "==> backend on :$BACKEND_PORT"
  # As in the image: the app, not uvicorn, decides whose X-Forwarded-For counts; here the
  # frontend on loopback is the trusted proxy.
  (cd "$BACKEND_DIR" && exec env TRUSTED_PROXIES=127.0.0.1 "${BACKEND_ENV[@]}" .venv/bin/uvicorn \
    app.main:app --host 127.0.0.1 --port "$BACKEND_PORT" --no-proxy-headers) \
    >"$WORK_DIR/backend.log" 2>&1 &
  PIDS+=($!)

  echo "==> frontend on :$FRONTEND_PORT"
  (cd "$FRONTEND_DIR/.next/standalone" && exec env PORT="$FRONTEND_PORT" HOSTNAME=127.0.0.1 \
    BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" NODE_ENV=production "${FRONTEND_ENV[@]}" node server.js) \
    >"$WORK_DIR/frontend.log" 2>&1 &
  PIDS+=($!)

  wait_for "OpenAI stub" "http://127.0.0.1:$STUB_PORT/healthz" "${PIDS[0]}"
  wait_for backend "http://127.0.0.1:$BACKEND_PORT/readyz" "${PIDS[1]}"
  wait_for frontend "http://127.0.0.1:$FRONTEND_PORT/api/health" "${PIDS[2]}"
}
