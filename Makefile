# Two entry points: `make demo` and `make test`. Each sets up .venv once (idempotent).
# `make docs` builds the documentation site into site/ (its extras are installed once, apart from the tests').
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# the development environment pins the CPU build of torch; the package itself needs torch>=2.3
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: demo test docs setup clean bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install -q --disable-pip-version-check -e ".[cli,test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vaelab demo

test: $(STAMP)
	$(PY) -m pytest -q

# the site's build needs the extras whose modules the API pages import (cli, explore, tabular) and mkdocs (docs)
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[cli,docs,explore,tabular]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache
