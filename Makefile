# zhuisu — make demo | make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite:///./zhuisu-demo.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck pytest bench clean native

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The capture's per-event modules compiled with mypyc (zhuisu/_native.py); a no-op when up to date. Without a
# C compiler zhuisu runs them interpreted (slower, same behaviour).
native: $(STAMP)
	$(BIN)/python tools/build_native.py

demo: $(STAMP) native
	$(BIN)/zhuisu demo load --db $(DEMO_DB) --fresh
	$(BIN)/zhuisu serve --db $(DEMO_DB) --host $(HOST) --port $(PORT)

test: lint typecheck native pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) native
	$(BIN)/pytest -n 2 -q

bench: $(STAMP) native
	$(BIN)/python benchmarks/capture.py
	$(BIN)/python benchmarks/hash.py

clean:
	test ! -x $(BIN)/python || $(BIN)/python tools/build_native.py --clean
	rm -rf $(VENV) build zhuisu-demo.db* .pytest_cache .mypy_cache .ruff_cache
