#!/usr/bin/env bash
# The whole test suite: unit tests (tests/), the notebooks under nbval (book/), browser checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export LPGEOM_PROFILE=${LPGEOM_PROFILE:-smoke}
# the recorded study the book and the tests read: this checkout's data/ (lpgeom.utils.locations)
export LPGEOM_RECORDS_DIR=${LPGEOM_RECORDS_DIR:-$PWD/data}
# no progress bars in executed notebooks (their outputs are pages and nbval references)
export LPGEOM_PROGRESS=${LPGEOM_PROGRESS:-0}
exec .venv/bin/python -m pytest --nbval-lax -p no:cacheprovider tests book "$@"
