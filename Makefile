# The two commands of the README:
#   make book   set up (system packages, .venv, web assets) and build the book from the notebooks
#   make test   set up and run the whole test suite (unit tests, the book build executing every notebook once
#               and its notebooks checked by nbval's rules, browser checks)
SHELL := /bin/bash
VENV := .venv/bin
PROFILE ?= smoke

.PHONY: setup book test test-fast benchmarks clean

setup:
	@bash scripts/setup.sh

book: setup
	@LPGEOM_PROFILE=$(PROFILE) bash scripts/build_book.sh

test: setup
	@LPGEOM_PROFILE=smoke bash scripts/run_tests.sh

# unit tests only (no notebooks, no browser): the quick loop while developing
test-fast:
	@LPGEOM_PROFILE=smoke $(VENV)/python -m pytest tests -m "not slow and not browser" -q

benchmarks: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV)/python $$b || exit 1; done

clean:
	rm -rf book/_build .pytest_cache
