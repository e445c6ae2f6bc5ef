#!/usr/bin/env bash
# Static checks: ruff lint, ruff format, mypy --strict. Exits non-zero on any finding.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV="${UV:-$(command -v uv || echo /work/main/.venv/bin/uv)}"

"$UV" run --frozen ruff check .
"$UV" run --frozen ruff format --check .
"$UV" run --frozen mypy app tests fuzz
