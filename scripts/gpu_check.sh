#!/usr/bin/env bash
# The one prepared command for a lent GPU machine: CUDA tests, then the GPU benchmark.
#
#   here, once:  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#                    --implementation cp --platform manylinux2014_x86_64 -d .whl pyautoattack==0.2.0
#   device run:  LPGEOM_GIT_COMMIT=<commit> bash scripts/gpu_check.sh      (carry: [".whl"])
#
# The machine has torch but no pyautoattack and no network: the wheel in .whl/ is installed
# with --target into /tmp/site. Writes to $OUT (or /tmp/gpu_check_out): nvidia-smi.txt,
# bench_gpu.log, pytest_gpu.log and gpu.json (or gpu.partial.json if the benchmark was cut short).
# The benchmark runs first: its record is the deliverable, and its compiled kernels are
# cached on disk for the tests. Exit status: non-zero if the benchmark or a test failed.
#
# ALONGSIDE_TESTS, if set, is a command started when the benchmark is done and run while the
# tests run (they are not timed; the benchmark always runs alone), e.g. the full-AutoAttack
# checks of a bundle (scripts/full_autoattack_check.py device-run); its output goes to
# $OUT/alongside.log and its exit status is reported but does not decide this script's.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_check_out}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "installing the wheels in .whl/ failed"; exit 1; }
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
else
    echo "no wheels in .whl/: the rows that compare with pyautoattack will be SKIP"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())" \
    2>&1 | tee -a "$OUT/nvidia-smi.txt"

timeout "${BENCH_TIMEOUT:-320}" python3 benchmarks/bench_gpu.py 2>&1 | tee "$OUT/bench_gpu.log"
bench=${PIPESTATUS[0]}
for f in data/benchmarks/gpu.json data/benchmarks/gpu.partial.json; do
    [ -f "$f" ] && cp "$f" "$OUT/"
done

alongside_pid=""
if [ -n "${ALONGSIDE_TESTS:-}" ]; then
    OUT="$OUT" bash -c "$ALONGSIDE_TESTS" >"$OUT/alongside.log" 2>&1 &
    alongside_pid=$!
fi

timeout "${TESTS_TIMEOUT:-200}" python3 -m pytest -m gpu tests/gpu -q -rs -p no:cacheprovider 2>&1 \
    | tee "$OUT/pytest_gpu.log"
tests=${PIPESTATUS[0]}

if [ -n "$alongside_pid" ]; then
    wait "$alongside_pid"
    echo "alongside the tests ($ALONGSIDE_TESTS): exit status $?"
    tail -n 20 "$OUT/alongside.log"
fi
echo "bench_gpu exit status $bench, gpu tests exit status $tests (124: cut by the timeout)"
[ "$bench" -eq 0 ] && [ "$tests" -eq 0 ]
