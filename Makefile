# Two commands on a fresh machine: `make report` and `make test`. Each sets up what it needs
# (system libraries for WeasyPrint, a .venv with the package) and is quick when run again.
# This repository is itself an mtmreport project (mtmreport.toml): data/quarters/ -> output/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages WeasyPrint and the tests need; checked first, installed only when missing.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig poppler-utils
# Only the browser tests (and the preview benchmark) need Chromium: Debian's, never a download.
BROWSER_PACKAGES := chromium
# The accessibility tests run axe-core (npm, package.json) inside it.
AXE := node_modules/axe-core/axe.min.js
LINT_PATHS := mtmreport tests $(wildcard benchmarks/*.py)

# A .venv that no longer runs from here -- the folder was moved or copied, so its scripts and
# its editable install name the old path ("cannot execute: required file not found", or the
# old folder's code) -- is made afresh. The stamp alone cannot tell.
ifneq ($(wildcard $(STAMP)),)
VENV_HERE := $(shell $(BIN)/mtmreport --version >/dev/null 2>&1 && $(BIN)/python -c \
  "import mtmreport, os, sys; sys.exit(os.path.realpath(mtmreport.__file__) != os.path.realpath('mtmreport/__init__.py'))" \
  2>/dev/null && echo yes)
ifneq ($(VENV_HERE),yes)
$(info .venv does not run from this folder (moved or copied?): making it afresh)
$(shell rm -rf $(VENV))
endif
endif

.PHONY: report test test-quick golden lint format bench bench-preview setup bytecode system-deps clean

# Every quarter on file; the terminal says which are drafts (their pending blocks print as
# "Data pending").
report: setup bytecode
	$(BIN)/mtmreport build --all

test: SYSTEM_PACKAGES += $(BROWSER_PACKAGES)
test: setup lint $(AXE)
	$(BIN)/python -m pytest -q

# The edit loop's tier: no PDF of the shipped quarters, no browser, no process per case
# (tests marked slow or browser); under 30 seconds.
test-quick: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# Write tests/golden/ afresh from what the code makes now; review `git diff tests/golden`.
golden: setup
	$(BIN)/python -m pytest -q --regen-golden

# axe-core at the version package-lock.json pins; the browser is Debian's, not npm's.
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing npm (Debian's)"; SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(AXE)

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: setup
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

bench: setup bytecode
	$(BIN)/python benchmarks/bench.py

bench-preview: SYSTEM_PACKAGES += $(BROWSER_PACKAGES)
bench-preview: setup
	$(BIN)/python benchmarks/preview_latency.py

setup: system-deps $(STAMP)

# The package is installed editable, so pip compiles none of it; where PYTHONDONTWRITEBYTECODE
# is set (as on this project's CI machines) every run would compile it again (~40 ms).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q mtmreport

system-deps:
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  for pkg in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'ok installed' || \
	      missing="$$missing $$pkg"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing system packages:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	  fi; \
	else \
	  echo "No dpkg here: install Pango >= 1.44 and HarfBuzz by hand (see README)."; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) output/*/ .pytest_cache .ruff_cache node_modules
