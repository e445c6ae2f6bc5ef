#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Fuzz the API over the network, driven by the backend's OpenAPI document: against the real
# backend (SQLite, OpenAI stub) and through the built Next standalone server's proxy in front
# of it. backend/fuzz/ holds the tests (schemathesis, from backend/.venv).
#
#   frontend/scripts/fuzz.sh [pytest args...]
#
# Starts, on 127.0.0.1 only: the OpenAI stub on 18091, the backend on 18001 and the frontend
# on 13001; stops all three on exit, whatever happens. It reuses .next/ when no file the build
# reads is newer (the suite's e2e step has just built it), and builds otherwise.
# FUZZ_MAX_EXAMPLES (default 20) random examples per operation and target, on top of
# schemathesis' examples and coverage cases; FUZZ_TIME_LIMIT (default 240 s) bounds the tests.
# Set JUNIT_REPORT=<file> to also write the results there as JUnit XML
# (tests/run_suite.py counts the test cases from it).
set -euo pipefail

# Relative to where we were called from, not to where the tests run.
[[ -z "${JUNIT_REPORT:-}" ]] || JUNIT_REPORT="$(realpath -m -- "$JUNIT_REPORT")"
STUB_PORT=18091
BACKEND_PORT=18001
FRONTEND_PORT=13001
# Small, so a body just over the limit is cheap to send and is read whole by the server.
MAX_BODY_BYTES=32768
TIME_LIMIT="${FUZZ_TIME_LIMIT:-240}"
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

stack_init fuzz
stack_backend_venv
if next_build_is_current; then
  echo "==> reusing the build in .next/"
  stack_frontend_build reuse
else
  stack_frontend_build
fi
BACKEND_ENV=("MAX_BODY_BYTES=$MAX_BODY_BYTES")
# The tests stand where an ingress would: each request names its client in X-Forwarded-For,
# so the rate limits, at their defaults, count per test client through the proxy too.
FRONTEND_ENV=("MAX_BODY_BYTES=$MAX_BODY_BYTES" TRUSTED_PROXIES=127.0.0.1)
stack_start

echo "==> schemathesis (at most ${TIME_LIMIT} s)"
report_args=()
if [[ -n "${JUNIT_REPORT:-}" ]]; then
  report_args=("--junitxml=$JUNIT_REPORT")
fi
cd "$BACKEND_DIR"
status=0
FUZZ_BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" FUZZ_FRONTEND_URL="http://127.0.0.1:$FRONTEND_PORT" \
  FUZZ_MAX_BODY_BYTES="$MAX_BODY_BYTES" timeout --kill-after=10 "$TIME_LIMIT" \
  .venv/bin/python -m pytest -p no:cacheprovider --durations=10 "${report_args[@]}" fuzz "$@" \
  || status=$?
if [[ $status -eq 124 ]]; then
  echo "the fuzz tests did not finish within FUZZ_TIME_LIMIT=${TIME_LIMIT} s" >&2
fi
exit "$status"
