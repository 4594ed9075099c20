"""An execution cache for the chapters: a chapter re-runs only when something it reads has changed.

Why our own: Jupyter Book's jupyter-cache keys a notebook on its code cells only, and our notebooks' code is
one call whose result depends on data files — a changed survey would be served from a stale cache. Here a
chapter's key is the SHA-256 of one canonical JSON document naming

- its notebook file,
- the run settings it reads (:data:`CHAPTER_SETTINGS`; paths to data are not settings, their contents are),
- the content of every input file it reads (the validated survey, the instrument, the ground truth, the
  transcripts and coding files), and
- the installed ``cbec`` package (its code and shipped data: a new estimator is a new result).

A hit restores the executed notebook and the chapter's result tables; ``cbec run --force`` ignores the cache.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import lru_cache
from pathlib import Path

import cbec
from cbec.study.chapters.base import RunConfig

#: Run settings each chapter function reads (checked against what it does read by
#: ``tests/test_cache.py::test_each_chapter_declares_exactly_the_settings_it_reads``). Changing one re-runs only the
#: chapters listed against it.
CHAPTER_SETTINGS: dict[str, tuple[str, ...]] = {
    "simulated_data": ("ground_truth_path", "origin"),
    "data_quality": ("ground_truth_path", "origin"),
    "measurement": ("ground_truth_path", "instrument_path", "normalisation", "alpha", "book", "origin"),
    "coupling": (
        "ground_truth_path", "instrument_path", "normalisation", "seed", "alpha", "n_boot", "power_reps", "book",
        "origin",
    ),
    "size_paths": (
        "ground_truth_path", "instrument_path", "normalisation", "seed", "alpha", "n_boot", "book", "origin",
    ),
    "claims": ("instrument_path", "normalisation", "seed", "alpha", "n_boot", "book", "origin"),
    "cases": (),
    "interviews": (
        "instrument_path", "normalisation", "interviews_dir", "gold_path", "second_coder_path", "codebook_path", "book",
    ),
    "study_hypotheses": ("instrument_path", "normalisation", "alpha", "hypotheses_path", "book"),
    "study_interviews": (
        "instrument_path", "normalisation", "interviews_dir", "gold_path", "second_coder_path", "codebook_path", "book",
    ),
    "pls": ("instrument_path", "normalisation", "seed", "alpha", "n_boot", "book"),
    "study_measurement": ("instrument_path", "normalisation", "book"),
    "study_couplings": ("instrument_path", "normalisation", "seed", "alpha", "n_boot", "book"),
    "study_groups": ("instrument_path", "normalisation", "alpha", "study_path", "book"),
    "study_pls": ("instrument_path", "normalisation", "seed", "alpha", "n_boot", "book"),
}  # fmt: skip
#: Settings the display layer reads on every page (the banner: origin and book; interval labels: alpha).
DISPLAY_SETTINGS = ("origin", "book", "alpha")
#: Settings that are no part of any key: output folders (their contents are hashed instead) and the Dask address
#: (the numbers do not depend on it).
UNKEYED_SETTINGS = ("processed_dir", "results_dir", "dask_scheduler")
#: Chapters that read the validated survey.
READS_SURVEY = {
    "data_quality", "measurement", "coupling", "size_paths", "claims", "interviews", "pls",
    "study_measurement", "study_couplings", "study_groups", "study_pls", "study_interviews", "study_hypotheses",
}  # fmt: skip
PROCESSED_FILES = ("clean.parquet", "quarantine.parquet", "report.json")


def chapter_of(notebook: str) -> str:
    """``03_coupling`` -> ``coupling``; ``s02_study_measurement`` -> ``study_measurement`` (the study book)."""
    from cbec.study.chapters import chapter_name

    return chapter_name(notebook)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digested_files(root: Path) -> list[Path]:
    """What the package digest covers: every file of the package — code, the questionnaire, the claims register,
    the calibration record, the coder's dictionary — except compiled bytecode and the book's own pages
    (``site/``: a chapter's notebook is keyed by itself, and prose does not change a result)."""
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        and p.relative_to(root).parts[0] != "site"
    )  # fmt: skip


@lru_cache(maxsize=1)
def package_digest() -> str:
    """SHA-256 of the installed cbec package (see :func:`digested_files`)."""
    root = Path(cbec.__file__).parent
    h = hashlib.sha256()
    for p in digested_files(root):
        h.update(f"{p.relative_to(root).as_posix()}\0{file_sha256(p)}\n".encode())
    return h.hexdigest()


def chapter_key(notebook_path: Path, cfg: RunConfig) -> str:
    """The cache key of one chapter under one run configuration."""
    name = chapter_of(notebook_path.stem)
    settings = CHAPTER_SETTINGS.get(name)
    keys = (*settings, *DISPLAY_SETTINGS) if settings is not None else cfg.__dataclass_fields__
    values = {k: getattr(cfg, k) for k in sorted(set(keys))}
    files: dict[str, str] = {}  # role -> digest: what each input file holds, not where it lies
    for k in (
        "ground_truth_path",
        "instrument_path",
        "gold_path",
        "second_coder_path",
        "codebook_path",
        "hypotheses_path",
        "study_path",
    ):
        if k in values and values[k]:
            files[k] = file_sha256(Path(values[k]))
            values[k] = "file"
    if values.get("interviews_dir"):
        folder = Path(values["interviews_dir"])
        for p in sorted(p for p in folder.iterdir() if p.is_file()):
            files[f"interviews/{p.name}"] = file_sha256(p)
        values["interviews_dir"] = "folder"
    if name in READS_SURVEY or settings is None:
        for f in PROCESSED_FILES:
            files[f"processed/{f}"] = file_sha256(Path(cfg.processed_dir) / f)
    # One canonical JSON document of named, typed parts: no two different inputs can run together into the
    # same bytes (names and contents were once hashed back to back, and two interview folders collided).
    doc = {
        "notebook": file_sha256(notebook_path),
        "settings": values,
        "files": files,
        "package": package_digest(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:32]


def restore(cache: Path, notebook: str, key: str, executed: Path, results: Path, warn=None) -> float | None:
    """Copy a cached execution back into the run. Returns the seconds that execution took, or ``None`` when
    there is none — or when any of its files differs from the SHA-256 recorded when it was stored (the entry
    was changed after it was written: it is not served, and ``warn`` is told why)."""
    slot = cache / notebook / key
    if not (slot / "notebook.ipynb").exists():
        return None
    problem = _tampered(slot)
    if problem:
        if warn is not None:
            warn(f"  {notebook}: cache entry not served ({problem}); executing again")
        return None
    shutil.copy2(slot / "notebook.ipynb", executed)
    for pattern in RESULT_FILES:
        for f in (slot / "results").glob(pattern):
            shutil.copy2(f, results / f.name)
    meta = slot / "execution.json"
    return float(json.loads(meta.read_text(encoding="utf-8"))["seconds"]) if meta.exists() else 0.0


MANIFEST = "manifest.json"
#: What a chapter leaves beside its notebook: result tables and the vector versions of its figures.
RESULT_FILES = ("*.csv", "*.svg")


def _slot_files(slot: Path) -> list[Path]:
    return sorted(p for p in slot.rglob("*") if p.is_file() and p.name != MANIFEST)


def _tampered(slot: Path) -> str:
    """Why a cache entry cannot be trusted, or "" when every file matches its recorded SHA-256."""
    manifest = slot / MANIFEST
    if not manifest.is_file():
        return "it has no manifest of file hashes"
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its manifest is unreadable"
    present = {p.relative_to(slot).as_posix(): p for p in _slot_files(slot)}
    if set(present) != set(recorded):
        return f"its files changed: {sorted(set(present) ^ set(recorded))}"
    for rel, p in present.items():
        if file_sha256(p) != recorded[rel]:
            return f"{rel} differs from the hash recorded when it was stored"
    return ""


def last_seconds(cache: Path, notebook: str) -> float | None:
    """How long the chapter's last cached execution took, whatever its key (``None`` when never run here)."""
    metas = sorted((cache / notebook).glob("*/execution.json"))
    return float(json.loads(metas[-1].read_text(encoding="utf-8"))["seconds"]) if metas else None


def store(cache: Path, notebook: str, key: str, executed: Path, results: Path, seconds: float = 0.0) -> None:
    """Keep this execution: the executed notebook, the chapter's result tables and how long it took (older
    keys are dropped)."""
    chapter_dir = cache / notebook
    if chapter_dir.exists():
        shutil.rmtree(chapter_dir)
    slot = chapter_dir / key
    (slot / "results").mkdir(parents=True)
    shutil.copy2(executed, slot / "notebook.ipynb")
    (slot / "execution.json").write_text(json.dumps({"seconds": seconds}) + "\n", encoding="utf-8")
    for pattern in RESULT_FILES:
        for f in results.glob(f"{chapter_of(notebook)}_{pattern}"):
            shutil.copy2(f, slot / "results" / f.name)
    manifest = {p.relative_to(slot).as_posix(): file_sha256(p) for p in _slot_files(slot)}
    (slot / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def derived_file(cache: Path, name: str, key: bytes, make, dst: Path) -> Path:
    """Copy a file derived from ``key`` (a figure, a workbook) from the cache, making it there first if new.

    Some writers stamp the time into their output (openpyxl writes the save time into every workbook), so
    an unchanged input would give a changed file and the book could never be recognised as unchanged.
    """
    slot = cached_file(cache, name, key, make)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(slot, dst)
    return dst


def cached_file(cache: Path, name: str, key: bytes, make) -> Path:
    """The cache's copy of the file derived from ``key``, made by ``make(path)`` if it is not there yet."""
    slot = cache / "files" / f"{hashlib.sha256(key).hexdigest()[:24]}-{name}"
    stamp = slot.with_name(slot.name + ".sha256")
    if not (slot.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == file_sha256(slot)):
        slot.parent.mkdir(parents=True, exist_ok=True)
        tmp = slot.with_name(f"{slot.stem}.part{slot.suffix}")  # writers infer the format from the suffix
        make(tmp)
        tmp.replace(slot)
        stamp.write_text(file_sha256(slot) + "\n", encoding="utf-8")
    return slot
