#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
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
STUB_PORT=18090
BACKEND_PORT=18000
FRONTEND_PORT=13000
# shellcheck source=stack.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

stack_init e2e
stack_backend_venv
if [[ "${E2E_SKIP_BUILD:-0}" == 1 ]]; then
  stack_frontend_build reuse
else
  stack_frontend_build
fi
stack_start

cd "$FRONTEND_DIR"
echo "==> playwright"
report_args=()
if [[ -n "${JUNIT_REPORT:-}" ]]; then
  report_args=("--reporter=list,junit")
  export PLAYWRIGHT_JUNIT_OUTPUT_FILE="$JUNIT_REPORT"
fi
E2E_BASE_URL="http://127.0.0.1:$FRONTEND_PORT" npx playwright test "${report_args[@]}" "$@"
