# Two commands do the whole set-up on a fresh machine:
#   make demo   - host and viewer on 127.0.0.1, prints what the viewer measured
#   make test   - lint, type check and the test suite
# Each creates .venv and installs what the project needs into it. `make setup` also installs the
# viewer page's JavaScript (npm ci) and, for the browser tests, Debian's chromium (as root).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM    ?= /usr/bin/chromium
WEB_BUNDLE  := rtc_interact/web/vendor/msgpack.min.js

.PHONY: demo test lint typecheck venv setup clean bench-smoke

$(STAMP): pyproject.toml setup.py native/rtc_native.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The page's msgpack library, from the npm registry at set-up time only (the host serves this copy).
$(WEB_BUNDLE): package.json package-lock.json
	command -v npm >/dev/null || { $(APT_INSTALL) npm; }
	npm ci --no-audit --no-fund
	mkdir -p $(dir $@)
	cp node_modules/@msgpack/msgpack/dist.umd/msgpack.min.js $@

$(CHROMIUM):
	$(APT_INSTALL) chromium

APT_INSTALL = { [ "$$(id -u)" = 0 ] || { echo "run as root, or apt-get install it yourself" >&2; exit 1; }; } && \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q

setup: $(STAMP) $(WEB_BUNDLE) $(CHROMIUM)

demo: $(STAMP)   # Python only: needs neither npm nor Chromium (nor root)
	$(BIN)/rtc-interact demo --seconds 10

lint: $(STAMP)
	$(BIN)/ruff check rtc_interact tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules $(WEB_BUNDLE) test-artifacts
