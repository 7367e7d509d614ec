#!/usr/bin/env bash
# Fetch the JavaScript the built book needs so that it renders with no network:
# MathJax 3, require.js, the Jupyter widgets HTML manager (npm registry) and plotly.js
# (shipped inside the plotly wheel), and playwright-core for the JupyterLab browser test.
# Unpacked into web_assets/ (git-ignored); idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=web_assets
REQUIREJS=requirejs@2.3.7
HTML_MANAGER=@jupyter-widgets/html-manager@1.0.13
MATHJAX=mathjax@3.2.2
STAMP="$DEST/.fetched-$REQUIREJS-${HTML_MANAGER//\//_}-$MATHJAX-fonts"

if [ ! -f "$STAMP" ]; then
  command -v npm >/dev/null || { echo "[assets] npm is needed to fetch the book's web assets (apt-get install npm)" >&2; exit 1; }
  rm -rf "$DEST"; mkdir -p "$DEST/tmp"
  ( cd "$DEST/tmp" && npm pack --silent "$REQUIREJS" "$HTML_MANAGER" "$MATHJAX" >/dev/null )
  for tgz in "$DEST"/tmp/*.tgz; do
    name=$(basename "$tgz" .tgz); mkdir -p "$DEST/tmp/$name"; tar -xzf "$tgz" -C "$DEST/tmp/$name"
  done
  mkdir -p "$DEST/js"
  cp "$DEST"/tmp/requirejs-*/package/require.js "$DEST/js/require.min.js"
  cp "$DEST"/tmp/jupyter-widgets-html-manager-*/package/dist/embed-amd.js "$DEST/js/embed-amd.js"
  # its icon fonts: the widget CSS asks for them beside each page (book/_ext/lpgeom_book.py copies them there)
  mkdir -p "$DEST/widget-fonts"
  cp "$DEST"/tmp/jupyter-widgets-html-manager-*/package/dist/*.{woff2,woff,ttf,eot,svg} "$DEST/widget-fonts/"
  mkdir -p "$DEST/mathjax"
  cp -r "$DEST"/tmp/mathjax-*/package/es5 "$DEST/mathjax/"
  rm -rf "$DEST/tmp"
  touch "$STAMP"
fi
# Playwright (the npm package only, no browser download) for tests/book/test_jupyterlab.py, which drives
# Debian's Chromium through JupyterLab
PLAYWRIGHT=playwright-core@1.65.2
if [ ! -f ".playwright/.fetched-$PLAYWRIGHT" ]; then
  command -v npm >/dev/null || { echo "[assets] npm is needed to fetch $PLAYWRIGHT (apt-get install npm)" >&2; exit 1; }
  rm -rf ".playwright"; mkdir -p ".playwright"
  npm install --silent --no-audit --no-fund --prefix ".playwright" "$PLAYWRIGHT" >/dev/null
  touch ".playwright/.fetched-$PLAYWRIGHT"
fi
# plotly.js from the installed plotly wheel (same version as the Python package)
PLOTLY_JS=$(.venv/bin/python -c "import plotly, pathlib; print(pathlib.Path(plotly.__file__).parent / 'package_data' / 'plotly.min.js')")
cp -u "$PLOTLY_JS" "$DEST/js/plotly.min.js"
echo "[assets] web assets ready in $DEST/"
