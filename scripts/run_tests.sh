#!/usr/bin/env bash
# The whole test suite: unit tests (tests/), browser checks, and every notebook executed ONCE: by the
# book build (tests/book/conftest.py::built_book), whose executed notebooks
# tests/book/test_notebook_execution.py checks by nbval's --nbval-lax rules (no second execution).
set -euo pipefail
cd "$(dirname "$0")/.."
export LPGEOM_PROFILE=${LPGEOM_PROFILE:-smoke}
# the recorded study the book and the tests read: this checkout's data/ (lpgeom.utils.locations)
export LPGEOM_RECORDS_DIR=${LPGEOM_RECORDS_DIR:-$PWD/data}
# no progress bars in executed notebooks (their outputs are pages and the checked references)
export LPGEOM_PROGRESS=${LPGEOM_PROGRESS:-0}
exec .venv/bin/python -m pytest -p no:cacheprovider tests "$@"
