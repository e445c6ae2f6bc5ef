#!/usr/bin/env bash
# Static checks and unit tests: lint, typecheck, vitest. Exits non-zero on the first failure.
# Set JUNIT_REPORT=<file> to also write the vitest results there as JUnit XML
# (tests/run_suite.py counts the test cases from it).
set -euo pipefail

# Relative to where we were called from, not to where the tests run.
[[ -z "${JUNIT_REPORT:-}" ]] || JUNIT_REPORT="$(realpath -m -- "$JUNIT_REPORT")"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/ensure-deps.sh

echo "==> lint"
npm run --silent lint
echo "==> typecheck"
npm run --silent typecheck
echo "==> unit tests"
report_args=()
if [[ -n "${JUNIT_REPORT:-}" ]]; then
  report_args=(--reporter=default --reporter=junit "--outputFile.junit=$JUNIT_REPORT")
fi
npm test -- "${report_args[@]}"
