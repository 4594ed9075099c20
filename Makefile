# Two commands set up a fresh machine: `make book` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
CBEC   := $(VENV)/bin/cbec
STAMP  := $(VENV)/.installed
SIM    := data/simulated/survey_simulated.csv
OUT    ?= _build

.PHONY: book test check lint venv simulate bench clean system-deps

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

# Debian packages the build uses: a CJK font so figures can show Chinese names, and Chromium for the browser
# test. Installed when missing and when we may (root, as on CI); otherwise a note, and the figures fall back to
# Latin labels and the browser test skips with its reason. Fonts are never fetched at build time.
SYSTEM_STAMP := $(VENV)/.system-deps
system-deps: $(SYSTEM_STAMP)
$(SYSTEM_STAMP): | $(STAMP)
	@if fc-list 2>/dev/null | grep -q "Noto Sans CJK" && command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk chromium >/dev/null; \
	else echo "note: install Debian's fonts-noto-cjk and chromium for CJK figure labels and the browser test"; fi
	touch $(SYSTEM_STAMP)

# The article is one study folder (studies/li2026): its study file names the simulated survey, its ground truth
# and the illustrative transcripts.
book: $(STAMP) $(SYSTEM_STAMP) $(SIM)
	$(CBEC) run --study studies/li2026 --out $(OUT)

# One BLAS/OpenMP thread per pytest worker: two workers with multi-threaded BLAS on two cores
# oversubscribe them (measured: the simulation tests took 112 s that way, 33 s this way).
THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

# The full suite (CI runs this): lint, doctests, unit tests, simulation calibrations, end-to-end builds.
test: $(STAMP) $(SYSTEM_STAMP) lint
	$(THREADS) $(PY) -m pytest -n 2 --dist loadgroup

# The fast part, for the edit-test loop: no slow-marked test.
check: $(STAMP) lint
	$(THREADS) $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" -q tests src/cbec/io src/cbec/stats src/cbec/study

bench: $(STAMP)
	$(PY) benchmarks/run_benchmarks.py

clean:
	rm -rf $(OUT) .pytest_cache
