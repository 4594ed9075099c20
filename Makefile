# Two commands set up a fresh machine: `make book` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
CBEC   := $(VENV)/bin/cbec
STAMP  := $(VENV)/.installed
SIM    := data/simulated/survey_simulated.csv
OUT    ?= _build

.PHONY: book test venv simulate bench clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The shipped survey is simulated; it is committed, and re-made only if it is missing.
$(SIM): | $(STAMP)
	$(CBEC) simulate --n 600 --seed 2026 --out data/simulated

simulate: $(SIM)

# The shipped survey is simulated: its ground truth and the illustrative transcripts are passed explicitly.
book: $(STAMP) $(SIM)
	$(CBEC) run --survey $(SIM) --ground-truth data/simulated/ground_truth.json --interviews data/interviews --out $(OUT)

# One BLAS/OpenMP thread per pytest worker: two workers with multi-threaded BLAS on two cores
# oversubscribe them (measured: the simulation tests took 112 s that way, 33 s this way).
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(PY) benchmarks/run_benchmarks.py

clean:
	rm -rf $(OUT) .pytest_cache
