# The two commands of the README:
#   make course   install everything into .venv and open the course in JupyterLab
#   make test     install (if needed) and run the whole test suite
# For instructors (instructors/README.md):
#   make release  build the students' release of the graded notebooks with nbgrader
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The instructors' environment: the students' packages plus nbgrader, in a venv of its own
# so that nbgrader (and its JupyterLab menus) never reaches the students' environment.
IVENV := .venv-instructors

.PHONY: course test release benchmarks system-packages

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $@

$(IVENV)/.installed: instructors/requirements.txt requirements.txt pyproject.toml
	@echo "installing the instructors' environment $(IVENV) (nbgrader)"
	$(PYTHON) -m venv $(IVENV)
	$(IVENV)/bin/python -m pip install --quiet --upgrade pip
	$(IVENV)/bin/python -m pip install --quiet -r instructors/requirements.txt -e .
	touch $@

course: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks/

# tests/test_release.py builds the release with the instructors' environment: made here
# (nothing to do once it is there). Offline it cannot be made: that test then skips, except
# in CI, where it fails.
test: $(VENV)/.installed system-packages
	@$(MAKE) -s --no-print-directory $(IVENV)/.installed || \
	  echo "could not install $(IVENV): tests/test_release.py will skip"
	$(PY) -m ruff check tcpsim tests benchmarks tools/capture.py
	$(PY) -m vulture
	$(PY) -m pytest -q

# Writes instructors/course/release/<notebook>/<notebook>.ipynb (see instructors/README.md).
release: $(IVENV)/.installed
	$(IVENV)/bin/python instructors/build_release.py

# Debian packages that some tests need, and skip without: tshark reads our pcaps back,
# chromium runs tests/test_browser.py. As root with apt-get (CI) we install the missing
# ones; elsewhere we say so and go on.
system-packages:
	@missing=""; \
	command -v tshark >/dev/null 2>&1 || missing="tshark"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	     apt-get update -qq >/dev/null 2>&1; then \
	    for p in $$missing; do \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p >/dev/null 2>&1 || \
	        echo "could not install $$p: the tests that need it will be skipped"; \
	    done; \
	  else \
	    echo "not installed:$$missing (needs root and apt-get): the tests that need it will be skipped"; \
	  fi; \
	fi

benchmarks: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done
