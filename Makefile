# The two commands of the README:
#   make course   install everything into .venv and open the course in JupyterLab
#   make test     install (if needed) and run the whole test suite
# For instructors (instructors/README.md):
#   make release                remake notebooks/ (the students' edition) from
#                               instructors/source/ with nbgrader, and the course directory
#   make student-repo DEST=DIR [REMOTE=URL]  write a students-only git repository to DIR
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The instructors' environment: the students' packages plus nbgrader, in a venv of its own
# so that nbgrader (and its JupyterLab menus) never reaches the students' environment.
IVENV := .venv-instructors
# JupyterLab's settings for the course (no "Jupyter news?" prompt, no update check), as the
# venv's overrides.json; Binder installs the same file (binder/postBuild).
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
# `make course` opens JupyterLab on the first notebook, from the top of the repository (as
# Binder does); --allow-root: as root (a container) JupyterLab refuses to start without it.
# LAB_ARGS adds options (tests/test_first_run.py: --no-browser, a port, a token).
LAB_ARGS ?=
# pytest-xdist workers for `make test`: one per core (`make test TEST_WORKERS=0` runs in one
# process, as a debugger likes)
TEST_WORKERS ?= auto

.PHONY: course test release student-repo benchmarks classroom system-packages

$(VENV)/.installed: requirements.txt binder/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $@

$(IVENV)/.installed: instructors/requirements.txt requirements.txt binder/requirements.txt pyproject.toml
	@echo "installing the instructors' environment $(IVENV) (nbgrader)"
	$(PYTHON) -m venv $(IVENV)
	$(IVENV)/bin/python -m pip install --quiet --upgrade pip
	$(IVENV)/bin/python -m pip install --quiet -r instructors/requirements.txt -e .
	touch $@

$(LAB_OVERRIDES): binder/overrides.json $(VENV)/.installed
	mkdir -p $(dir $@)
	cp binder/overrides.json $@

course: $(VENV)/.installed $(LAB_OVERRIDES)
	$(VENV)/bin/jupyter lab --allow-root --ServerApp.root_dir=. \
	  --LabApp.default_url=/lab/tree/notebooks/00-start-here.ipynb $(LAB_ARGS)

# tests/test_release.py builds the release with the instructors' environment: made here
# (nothing to do once it is there). Offline it cannot be made: that test then skips, except
# in CI, where it fails.
test: $(VENV)/.installed $(LAB_OVERRIDES) system-packages
	@$(MAKE) -s --no-print-directory $(IVENV)/.installed || \
	  echo "could not install $(IVENV): tests/test_release.py will skip"
	$(PY) -m ruff check tcpsim tests benchmarks tools instructors
	$(PY) -m vulture
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Writes notebooks/NAME.ipynb for every instructors/source/NAME.ipynb, and nbgrader's
# course directory instructors/course/ (see instructors/README.md).
release: $(IVENV)/.installed
	$(IVENV)/bin/python instructors/build_release.py

# A new git repository in DEST with the students' material only, one commit, no history
# (instructors/student_repo.py says what goes in). Needs git, no venv.
student-repo:
	@test -n "$(DEST)" || { echo "usage: make student-repo DEST=/path/to/new/repository" >&2; exit 2; }
	$(PYTHON) instructors/student_repo.py "$(DEST)" $(if $(REMOTE),--remote "$(REMOTE)")

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

# Every benchmark in one run (benchmarks/__main__.py); scapy, which one of them compares
# with, is installed for it only (benchmarks/requirements.txt).
benchmarks: $(VENV)/.installed
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) -m benchmarks

# The classroom on a real JupyterHub, by hand (docs/teaching-at-scale.md): its own venv,
# with JupyterHub and configurable-http-proxy (npm), never the students'.
CVENV := .venv-classroom
$(CVENV)/.installed: benchmarks/requirements-classroom.txt requirements.txt pyproject.toml
	$(PYTHON) -m venv $(CVENV)
	$(CVENV)/bin/python -m pip install --quiet --upgrade pip
	$(CVENV)/bin/python -m pip install --quiet -r benchmarks/requirements-classroom.txt -e .
	npm install --silent --prefix $(CVENV) configurable-http-proxy@5.3.0
	touch $@

classroom: $(CVENV)/.installed
	$(CVENV)/bin/python benchmarks/bench_classroom.py $(if $(STUDENTS),--students $(STUDENTS))
