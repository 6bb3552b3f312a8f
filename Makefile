# Set-up and the two everyday jobs. Each target bootstraps .venv from
# pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test test-unit test-e2e bench lab clean-venv system-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import ctypes.util as u, sys; sys.exit(0 if u.find_library('pangoft2-1.0') and u.find_library('harfbuzz-subset') else 1)" \
		|| $(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Build the sample report: Nậm Mòn commune (02881), 2023.
report: $(STAMP)
	$(BIN)/ntm run --commune 02881 --year 2023

## Run the whole test suite: fast unit tests, then the end-to-end tests.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e" -q
	$(BIN)/python -m pytest -m e2e -q

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e" -q

test-e2e: $(STAMP)
	$(BIN)/python -m pytest -m e2e -q

## Time one report against the bare papermill + nbconvert commands.
bench: $(STAMP)
	$(BIN)/python bench/bench_report.py

## JupyterLab for analysts, in its own environment (.venv-lab), so .venv and
## the speed of `ntm run` and `ntm batch` are untouched. Its notebooks run in
## the report kernel: .venv's Python, with the same ntm_lib, installed into
## .venv-lab as the kernel "python3" that the report notebook names.
LAB := .venv-lab
lab: $(STAMP)
	@test -x $(LAB)/bin/jupyter-lab || { $(PYTHON) -m venv $(LAB) && \
		$(LAB)/bin/python -m pip install --quiet --upgrade pip && \
		$(LAB)/bin/python -m pip install --quiet 'jupyterlab>=4.1'; }
	$(BIN)/python -m ipykernel install --prefix "$(abspath $(LAB))" --name python3 \
		--display-name "NTM report (Python 3)" 2>&1 | grep -v -e "may not be found" -e "^\[Install" || true
	$(LAB)/bin/jupyter lab --no-browser --ip 127.0.0.1 \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/

clean-venv:
	rm -rf $(VENV) $(LAB)

## Libraries WeasyPrint loads: Pango (required) and HarfBuzz-Subset (fast,
## reproducible font subsetting). Installed with apt on Debian/Ubuntu as root;
## elsewhere, say what is missing.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; \
	else \
		echo "WeasyPrint needs Pango (libpango-1.0-0, libpangoft2-1.0-0) and, for fast font"; \
		echo "subsetting, HarfBuzz-Subset (libharfbuzz-subset0): install them with your package manager"; \
		$(PYTHON) -c "import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library('pangoft2-1.0') else 1)"; \
	fi
