# One-command tooling. `make run` and `make test` install what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install chromium run console check test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres,export]'
	touch $(STAMP)

install: $(STAMP)

run: install        ## the bot (console chat when TELEGRAM_BOT_TOKEN is unset)
	$(VENV)/bin/relais run

console: install
	$(VENV)/bin/relais console

check: install      ## validate flows, locales and resources
	$(VENV)/bin/relais check

lint: install
	$(VENV)/bin/ruff check bot tests bench
	$(VENV)/bin/ruff format --check bot tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The export's HTML is checked in headless Chromium (tests/export/test_export_html.py): Debian's
# package, installed when missing (needs root, as on CI; else `sudo apt-get install chromium`).
chromium:
	@[ -x /usr/bin/chromium ] || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: lint chromium ## lint, types, then the whole test suite
	$(PY) -m pytest -q

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache relais.egg-info
