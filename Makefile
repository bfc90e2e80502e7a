# The two commands of the README:
#   make course   install everything into .venv and open the course in JupyterLab
#   make test     install (if needed) and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: course test benchmarks tshark

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	touch $@

course: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks/

test: $(VENV)/.installed tshark
	$(PY) -m pytest -q

# Tests that read our pcaps back with tshark skip without it; as root on Debian/Ubuntu
# (CI) we install it, elsewhere we say so and go on.
tshark:
	@command -v tshark >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null 2>&1; } || \
	  echo "tshark is not installed: the tests that need it will be skipped"

benchmarks: $(VENV)/.installed
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done
