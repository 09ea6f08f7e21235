# One-command tooling. `make run` and `make test` install what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The Pythons the project claims (pyproject.toml: requires-python and classifiers).
# `make test` runs the whole suite on the first Python (`python3`, in .venv) and, on each
# other claimed version this machine has, everything but the load test and Chromium
# (each in its own .venv-3.x). A version the machine lacks is named, not tested.
PYTHONS := 3.11 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
MAIN_PYTHON := $(shell python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
OTHER_PYTHONS := $(filter-out $(MAIN_PYTHON),$(PYTHONS))
FAST := not load and not chromium
# An interpreter for version $(1): on PATH (a pyenv shim that cannot run it is passed
# over), else in pyenv's versions; empty when the machine has none.
find_python = $(shell for c in python$(1) $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)); do \
	$$c -c 'import sys' >/dev/null 2>&1 && command -v $$c && break; done)

.PHONY: install chromium run console check test test-other-pythons lint bench lock clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres,export]'
	touch $(STAMP)

.venv-%/.installed: pyproject.toml
	$(call find_python,$*) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q -e '.[dev,postgres,export]'
	touch $@

install: $(STAMP)

run: install        ## the bot (console chat when TELEGRAM_BOT_TOKEN is unset, at a terminal)
	$(VENV)/bin/relais run

console: install
	$(VENV)/bin/relais console

check: install      ## validate settings, flows, locales and resources
	$(VENV)/bin/relais check

lint: install
	$(VENV)/bin/ruff check bot tests bench
	$(VENV)/bin/ruff format --check bot tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/hadolint Dockerfile

# The export's HTML is checked in headless Chromium (tests/export/test_export_html.py): Debian's
# package, installed when missing (needs root, as on CI; else `sudo apt-get install chromium`).
chromium:
	@[ -x /usr/bin/chromium ] || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: lint chromium ## lint, types, then the test suite on every claimed Python here
	$(PY) -m pytest -q
	@$(MAKE) --no-print-directory test-other-pythons

# The other Pythons' runs go side by side: the suite mostly waits on sockets and timers
# (6 CPU-minutes in 11 wall-minutes one after another), and each logs to its own file.
test-other-pythons:
	@found=""; for v in $(OTHER_PYTHONS); do \
		if [ -z "$$($(MAKE) --no-print-directory -s which-python-$$v)" ]; then \
			echo "Python $$v: not on this machine, not tested"; continue; fi; \
		$(MAKE) --no-print-directory .venv-$$v/.installed || exit 1; \
		found="$$found $$v"; \
	done; \
	for v in $$found; do \
		( .venv-$$v/bin/python -m pytest -q -m '$(FAST)' > .venv-$$v/pytest.log 2>&1; \
		  echo $$? > .venv-$$v/pytest.status ) & \
	done; wait; \
	failed=0; for v in $$found; do \
		echo "Python $$v: pytest -m '$(FAST)'"; cat .venv-$$v/pytest.log; \
		[ "$$(cat .venv-$$v/pytest.status)" = 0 ] || failed=1; \
	done; exit $$failed

which-python-%:
	@echo $(call find_python,$*)

bench: install
	$(PY) bench/run.py

# The container's pinned dependencies (requirements.lock, installed by the Dockerfile):
# run after changing the dependencies in pyproject.toml.
lock: install
	$(PY) -m pip install -q pip-tools==7.7.0
	$(VENV)/bin/pip-compile -q --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--extra postgres --extra export -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .mypy_cache .ruff_cache dist build
