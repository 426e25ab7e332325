# Two commands for a fresh clone:  `make demo`  and  `make test`.
# Each creates .venv (once) and installs what it needs; nothing else by hand.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SHARED_DATA ?= ../shared/data/surnames

.PHONY: demo test lint data parity clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,plot,progress,dev]'
	touch $@

# Copy the third-party surnames CSVs from ../shared when they are not here yet.
data:
	@if [ ! -f data/surnames/surnames_with_splits.csv ] && [ -d $(SHARED_DATA) ]; then \
		mkdir -p data/surnames && cp $(SHARED_DATA)/*.csv data/surnames/ && \
		echo "copied surnames data from $(SHARED_DATA) to data/surnames/"; fi

demo: $(VENV)/.installed data
	$(PY) -m parity

parity: demo

test: $(VENV)/.installed data
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(PY) -m ruff check scratchrnn parity tests examples bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
