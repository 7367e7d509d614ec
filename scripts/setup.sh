#!/usr/bin/env bash
# Set up everything lpgeom needs on a fresh Debian machine (idempotent).
#   - system packages: the full Fashion-MNIST (dataset-fashion-mnist) and Chromium (browser tests)
#   - a virtual environment in .venv with requirements.txt and lpgeom installed editable
#   - the book's web assets (MathJax, require.js, widget manager, plotly.js) served locally
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
mkdir -p .stamps

need_apt=()
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "[setup] apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  $PY -m venv .venv
fi
if [ ! -f .stamps/pip ] || [ requirements.txt -nt .stamps/pip ] || [ pyproject.toml -nt .stamps/pip ]; then
  echo "[setup] pip install (torch is large: this takes a few minutes the first time)"
  quiet() { grep -v -e "^WARNING: Location" || true; }  # this machine's pip prints one line per local index
  .venv/bin/pip install -q --upgrade pip 2>&1 | quiet
  .venv/bin/pip install -q -r requirements.txt 2>&1 | quiet
  .venv/bin/pip install -q -e ".[all]" 2>&1 | quiet   # with its dependencies: every one is declared
  .venv/bin/pip check
  touch .stamps/pip
fi
bash scripts/fetch_web_assets.sh
echo "[setup] ready"
