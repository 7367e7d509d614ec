#!/usr/bin/env bash
# Build the book: execute every notebook (profile from LPGEOM_PROFILE, default smoke),
# warnings are errors. Prints the path of the built index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
export LPGEOM_PROFILE=${LPGEOM_PROFILE:-smoke}
# the executed pages have no kernel behind them: lpgeom.viz.geometry_panel builds its controls disabled, saying so
export LPGEOM_STATIC_BOOK=1
# the recorded study the book and the tests read: this checkout's data/ (lpgeom.utils.locations)
export LPGEOM_RECORDS_DIR=${LPGEOM_RECORDS_DIR:-$PWD/data}
# no progress bars in executed notebooks (their outputs are pages and nbval references)
export LPGEOM_PROGRESS=${LPGEOM_PROGRESS:-0}
# BOOK_OUTPUT (optional): build into $BOOK_OUTPUT/_build/html instead of book/_build/html
OUT=${BOOK_OUTPUT:-book}
[ -f web_assets/js/embed-amd.js ] || bash scripts/fetch_web_assets.sh
echo "[book] building with LPGEOM_PROFILE=$LPGEOM_PROFILE"
.venv/bin/jupyter-book build book/ --config jupyter_book.yml --path-output "$OUT" -W --keep-going
echo "[book] built: $(cd "$OUT/_build/html" && pwd)/index.html"
