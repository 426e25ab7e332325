# Two commands for a fresh clone:  `make demo`  and  `make test`.
# Each creates .venv (once) and installs what it needs; nothing else by hand.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SHARED_DATA ?= ../shared/data/surnames

.PHONY: demo test lint data parity clean gpu-check

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,plot,progress,dev]'
	touch $@

# Copy the third-party surnames CSVs from ../shared when they are not here yet.
data:
	@if [ ! -f data/surnames/surnames_with_splits.csv ] && [ -d $(SHARED_DATA) ]; then \
		mkdir -p data/surnames && cp $(SHARED_DATA)/*.csv data/surnames/ && \
		echo "copied surnames data from $(SHARED_DATA) to data/surnames/"; fi

# The parity report, then both labs end to end (lab 2 with a shorter schedule).
DEMO_OUT ?= runs/demo
demo: $(VENV)/.installed data
	$(PY) -m parity
	$(PY) -m scratchrnn classify train --cell gru --out $(DEMO_OUT)/classify
	$(PY) -m scratchrnn classify predict --model $(DEMO_OUT)/classify Nakamoto McMahan Dvořák Schmidt Rossi
	$(PY) -m scratchrnn generate train --conditioned --epochs 30 --out $(DEMO_OUT)/generate
	$(PY) -m scratchrnn generate sample --model $(DEMO_OUT)/generate --nationality Japanese -n 5 --seed 1
	$(PY) -m scratchrnn generate sample --model $(DEMO_OUT)/generate --nationality Russian -n 5 --seed 1
	$(PY) -m scratchrnn generate score --model $(DEMO_OUT)/generate Nakamura Smith Kowalski

parity: demo

test: $(VENV)/.installed data
	$(PY) -m pytest -q

# Parity, both labs, the adding problem and the benchmark on a GPU (scripts/gpu_check.sh).
GPU_OUT ?= runs/gpu
gpu-check: $(VENV)/.installed data
	PYTHON=$(PY) scripts/gpu_check.sh $(GPU_OUT)

lint: $(VENV)/.installed
	$(PY) -m ruff check scratchrnn parity tests examples bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
