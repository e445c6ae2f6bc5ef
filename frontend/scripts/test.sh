#!/usr/bin/env bash
# Static checks and unit tests: lint, typecheck, vitest. Exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/ensure-deps.sh

echo "==> lint"
npm run --silent lint
echo "==> typecheck"
npm run --silent typecheck
echo "==> unit tests"
npm test
