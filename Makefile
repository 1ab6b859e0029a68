# `make demo` needs only Python 3.11+ and make; everything else is installed into .venv.
# `make test` also needs Chromium, git, ssh-keygen, gpg, curl, kubectl and systemd-analyze
# (python3-venv on Debian): tests/prereqs.sh, its first step,
# installs them as root with apt-get, or stops at once naming what to install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Test processes: most tests wait on a waldur-sim or a child process, so two per core pay.
TEST_WORKERS ?= 4

.PHONY: demo test prereqs lint lint-ci dist bench clean docs docs-build docs-reference

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: prereqs lint-ci
	$(BIN)/ruff check reconciler waldur_sim tests bench examples
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# Before anything else: what the tests need outside .venv (installed as root, or named).
prereqs:
	@PYTHON=$(PYTHON) sh tests/prereqs.sh

lint: $(STAMP) lint-ci
	$(BIN)/ruff check reconciler waldur_sim tests bench examples
	$(BIN)/ruff format --check reconciler waldur_sim tests bench examples
	$(BIN)/lint-imports --no-cache

# The pipeline files, the action and the Dockerfile, by the ecosystem's own linters (offline:
# check-jsonschema's schemas are bundled, zizmor runs --offline, hadolint is a binary in a wheel).
lint-ci: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows deploy/ci/github-actions.yml \
		deploy/ci/github-environments.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/python -m tests.ci_files build/lint
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci deploy/ci/gitlab-ci.yml \
		deploy/ci/gitlab-environments.yml build/lint/component-spec.yml build/lint/component-jobs.yml
	$(BIN)/zizmor --offline --no-progress --quiet action.yml deploy/ci/github-actions.yml \
		deploy/ci/github-environments.yml
	$(BIN)/hadolint deploy/Dockerfile

# The sdist and the wheel, checked as a package index would (twine check).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The documentation site (docs/, mkdocs.yml): served with live reload, or written to site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The reference pages generated from the code (tests/docs/test_reference.py checks them).
docs-reference: $(STAMP)
	$(BIN)/python -m tests.docs.reference

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache build dist site *.egg-info
