# Two commands for a fresh clone:  `make demo`  and  `make test`.
# Each creates .venv (once) and installs what it needs; nothing else by hand.
# `make notebooks` re-executes notebooks/*.ipynb from examples/*.py (commit the result).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SHARED_DATA ?= ../shared/data/surnames

.PHONY: demo test lint data parity clean gpu-check notebooks docs mutate

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,plot,progress,dev,notebooks,docs,onnx,keras,flax]'
	touch $@

# The third-party surnames CSV, when it is not here yet: copied from ../shared if that
# folder exists, else downloaded and sha256-checked by `python -m scratchrnn data fetch`
# (from DATA_FROM, a mirror URL or a local path, if set; else from the pinned sources).
DATA_FROM ?=
data:
	@if [ -f data/surnames/surnames_with_splits.csv ]; then :; \
	elif [ -d $(SHARED_DATA) ]; then \
		mkdir -p data/surnames && cp $(SHARED_DATA)/*.csv data/surnames/ && \
		echo "copied surnames data from $(SHARED_DATA) to data/surnames/"; \
	else \
		$(MAKE) -s --no-print-directory $(VENV)/.installed && \
		$(PY) -m scratchrnn data fetch $(if $(DATA_FROM),--from $(DATA_FROM)); fi

# The parity report (its summary; the full table goes to $(DEMO_OUT)/parity.txt), then both
# labs end to end (lab 2 with a shorter schedule). Progress bars show only on a terminal,
# so `make demo > log 2>&1` keeps the epoch lines and nothing else.
DEMO_OUT ?= runs/demo
demo: $(VENV)/.installed data
	@mkdir -p $(DEMO_OUT)
	@echo "$(PY) -m parity > $(DEMO_OUT)/parity.txt"
	@$(PY) -m parity > $(DEMO_OUT)/parity.txt; status=$$?; tail -n 3 $(DEMO_OUT)/parity.txt; \
		echo "(the full table: $(DEMO_OUT)/parity.txt)"; exit $$status
	$(PY) -m scratchrnn classify train --cell gru --out $(DEMO_OUT)/classify
	$(PY) -m scratchrnn classify predict --model $(DEMO_OUT)/classify Nakamoto McMahan Dvořák Schmidt Rossi
	$(PY) -m scratchrnn generate train --conditioned --epochs 30 --out $(DEMO_OUT)/generate
	$(PY) -m scratchrnn generate sample --model $(DEMO_OUT)/generate --nationality Japanese -n 5 --seed 1
	$(PY) -m scratchrnn generate sample --model $(DEMO_OUT)/generate --nationality Russian -n 5 --seed 1
	$(PY) -m scratchrnn generate score --model $(DEMO_OUT)/generate Nakamura Smith Kowalski

parity: $(VENV)/.installed
	$(PY) -m parity

# Without the surnames data (offline, no ../shared) the tests that need it are skipped.
test: $(VENV)/.installed
	@$(MAKE) --no-print-directory data || echo "make test: no surnames data; its tests skip"
	$(PY) -m pytest -q

# notebooks/*.ipynb: every examples/*.py executed as a notebook, outputs and plots kept
# (scripts/notebooks.py; the training examples with NOTEBOOK_EPOCHS epochs). Commit them;
# tests/test_notebooks.py fails when one drifts from its example, and executes each.
NOTEBOOK_EPOCHS ?= 10
notebooks: $(VENV)/.installed data
	$(PY) scripts/notebooks.py --epochs $(NOTEBOOK_EPOCHS)

# Parity, both labs, the adding problem and the benchmark on a GPU (scripts/gpu_check.sh).
GPU_OUT ?= runs/gpu
gpu-check: $(VENV)/.installed data
	PYTHON=$(PY) scripts/gpu_check.sh $(GPU_OUT)

# The documentation site (mkdocs.yml, the material theme) into site/; --strict fails on a
# broken internal link, as tests/test_docs.py checks in CI.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# Mutation testing of the numerical code (docs/mutation.md; not part of `make test` or CI):
# mutmut (the `mutate` extra, its own venv) mutates what setup.cfg's [mutmut] section names,
# runs the tests that call each mutated function, then prints the per-file table and every
# survivor that is neither killed nor argued equivalent in scripts/mutation_equivalent.txt.
# MUTANTS='scratchrnn.losses*' restricts (and re-runs) by name; results stay in mutants/.
MUTATE_VENV ?= .venv-mutate
MUTANTS ?=
$(MUTATE_VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(MUTATE_VENV)
	$(MUTATE_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[test,mutate]'
	touch $@

mutate: $(MUTATE_VENV)/.installed
	$(MUTATE_VENV)/bin/mutmut run $(MUTANTS)
	$(MUTATE_VENV)/bin/python scripts/mutation_table.py

lint: $(VENV)/.installed
	$(PY) -m ruff check scratchrnn parity tests examples bench scripts

clean:
	rm -rf $(VENV) $(MUTATE_VENV) mutants *.egg-info .pytest_cache .hypothesis site
