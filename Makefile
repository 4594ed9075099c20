# Two commands set up a fresh machine: `make book` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
CBEC   := $(VENV)/bin/cbec
STAMP  := $(VENV)/.installed
SIM    := data/simulated/survey_simulated.csv
OUT    ?= _build

.PHONY: book pdf test check check-pythons lint typecheck lock venv simulate bench calibrate clean system-deps

venv: $(STAMP)

# uv installs the hashed lock (requirements.lock, made from requirements.txt by `make lock`): 8 s from an empty
# cache against pip's 60 s for the same pins (#28). uv itself is the one package pip fetches. --compile-bytecode
# does what pip does by default: without it jieba's invalid escapes are compiled at first import, under the
# suite's warnings-as-errors, and fail as SyntaxError (CI, stop 32).
UV_VERSION := 0.13.9
$(STAMP): requirements.lock pyproject.toml
	@t0=$$(date +%s); $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet uv==$(UV_VERSION) \
	  && VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv pip install --quiet --compile-bytecode --require-hashes -r requirements.lock \
	  && $(PY) -m pip install --quiet --no-deps --no-build-isolation -e . \
	  && echo "set-up: virtual environment and pinned packages in $$(( $$(date +%s) - t0 )) s"
	touch $(STAMP)

# Re-make the hashed lock after changing a pin in requirements.txt. Universal: one lock with the markers for
# Python 3.11, 3.12 and 3.13 and every platform (the same pins on 3.11 as a 3.11-only lock; checked).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile -q --universal --python-version 3.11.7 --generate-hashes --no-header \
	  requirements.txt -o requirements.lock

# The shipped survey is simulated; it is committed, and re-made only if it is missing.
$(SIM): | $(STAMP)
	$(CBEC) simulate --n 600 --seed 2026 --out data/simulated

simulate: $(SIM)

# Debian packages the build uses: a CJK font so figures can show Chinese names, Chromium for the browser test and
# the PDF, LibreOffice Calc (no GUI, 14 s to install) for the spreadsheet test of the downloads, poppler-utils
# (pdffonts, pdftotext) for the PDF test. Installed when missing
# and when we may (root, as on CI); otherwise a note, and the figures fall back to Latin labels and the browser
# and spreadsheet tests skip with their reasons. Fonts are never fetched at build time.
SYSTEM_STAMP := $(VENV)/.system-deps
system-deps: $(SYSTEM_STAMP)
$(SYSTEM_STAMP): | $(STAMP)
	@if fc-list 2>/dev/null | grep -q "Noto Sans CJK" && command -v chromium >/dev/null \
	  && command -v soffice >/dev/null && command -v pdffonts >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk chromium \
	    libreoffice-calc-nogui poppler-utils >/dev/null; \
	else echo "note: install Debian's fonts-noto-cjk, chromium, libreoffice-calc-nogui and poppler-utils for CJK" \
	  "figure labels, the browser and PDF tests and the spreadsheet test"; fi
	touch $(SYSTEM_STAMP)

# The package's own bytecode, as pip writes it for an installed package (an editable install leaves it to the
# first import, which cannot write it where PYTHONDONTWRITEBYTECODE is set, as on this machine: then every
# process of a run compiled the package again, 0.18 s each; only changed files are compiled, 0.04 s when none).
BYTECODE := $(PY) -m compileall -q src

# The article is one study folder (studies/li2026): its study file names the simulated survey, its ground truth
# and the illustrative transcripts.
book: $(STAMP) $(SYSTEM_STAMP) $(SIM)
	@$(BYTECODE)
	$(CBEC) run --study studies/li2026 --out $(OUT)

# The whole book as one PDF (cbec.book.pdf: the pages on one HTML page, printed by Chromium), OUT/cbec-book.pdf,
# also linked from the book's Downloads page. Chapters come from the run cache, so after `make book` this costs
# the printing only.
pdf: $(STAMP) $(SYSTEM_STAMP) $(SIM)
	@$(BYTECODE)
	$(CBEC) run --study studies/li2026 --out $(OUT) --pdf

# One BLAS/OpenMP thread per pytest worker: two workers with multi-threaded BLAS on two cores
# oversubscribe them (measured: the simulation tests took 112 s that way, 33 s this way).
THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

# mypy on src/ (settings in pyproject.toml); about 20 s cold, a few seconds with its cache.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The full suite (CI runs this): lint, types, doctests, unit tests, simulation calibrations, end-to-end builds.
test: $(STAMP) $(SYSTEM_STAMP) lint typecheck
	$(THREADS) $(PY) -m pytest -n 2 --dist loadgroup

# The fast part, for the edit-test loop: no slow-marked test.
check: $(STAMP) lint
	$(THREADS) $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" -q tests src/cbec/io src/cbec/stats src/cbec/study

# The fast suite on Python 3.12 and 3.13 (CI runs it after `make test`), each in a virtual environment of its own
# from the same universal lock; a Python the machine lacks is named and skipped.
OTHER_PYTHONS := 3.12 3.13
check-pythons:
	@for v in $(OTHER_PYTHONS); do \
	  py=$$(for c in python$$v $$HOME/.pyenv/versions/$$v*/bin/python$$v /usr/bin/python$$v; do \
	    $$c -V >/dev/null 2>&1 && { echo $$c; break; }; done); \
	  if [ -z "$$py" ]; then echo "note: Python $$v not found; skipped"; continue; fi; \
	  echo "fast suite on $$($$py -V)"; $(MAKE) --no-print-directory check PYTHON=$$py VENV=.venv-$$v || exit 1; \
	done

bench: $(STAMP)
	@$(BYTECODE)
	$(PY) benchmarks/run_benchmarks.py

# The book's operating characteristics (every verdict rule in every simulated world, cbec.article.calibrate),
# written to the package resource the book quotes (committed); two local Dask workers.
calibrate: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/bin/cbec calibrate --workers 2 --reps 500 \
	  --out src/cbec/resources/calibration.json

clean:
	rm -rf $(OUT) .pytest_cache
