"""The package's shape: layers that only import downwards, notebooks that only call and display."""

import ast
import json
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cbec"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "src" / "cbec" / "site" / "notebooks"
#: Lower layers first; a module may import its own layer and those below it.
#: ``article`` (the source article's replication) sits above ``study`` (any study's chapters): the generic layers
#: never import the article (#23).
LAYERS = ["resources", "io", "stats", "study", "article", "book"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cbec"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("cbec"))
    return names


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_belongs_to_a_layer():
    loose = [p.name for p in SRC.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert not loose, f"modules outside the layers: {loose}"


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_higher_one(layer):
    """Function-level imports count too."""
    bad = []
    for path in (SRC / layer).rglob("*.py"):
        for mod in _imports(path):
            target = _layer(mod)
            if target and LAYERS.index(target) > LAYERS.index(layer):
                bad.append(f"{path.relative_to(SRC)} imports {mod}")
    assert not bad, bad


def _display_only(stmt: ast.stmt) -> bool:
    """A display statement: an expression (display(...), ch.show(...), a name), nothing else."""
    return isinstance(stmt, ast.Expr)


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_is_parameters_one_call_and_display(nb):
    cells = [c for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    params = cells[0]
    assert "parameters" in params["metadata"].get("tags", [])
    assert "".join(params["source"]).startswith("run_config: str = ")
    other_statements = []
    calls = 0
    for c in cells[1:]:
        for stmt in ast.parse("".join(c["source"])).body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)) or _display_only(stmt):
                continue
            if (
                isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Call)
                and getattr(stmt.value.func, "id", "") == "run_chapter"
            ):
                calls += 1
                continue
            other_statements.append(ast.unparse(stmt))
    assert calls == 1, f"{nb.name}: {calls} chapter calls"
    assert not other_statements, f"{nb.name}: logic outside the chapter function: {other_statements}"


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_readers_see_outputs_not_code(nb):
    # display cells show their output only; the parameter and run cells are hidden whole
    for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
        if c["cell_type"] == "code":
            tags = c["metadata"].get("tags", [])
            assert "remove-input" in tags or "remove-cell" in tags, (nb.name, "".join(c["source"]))


def test_notebooks_are_committed_without_outputs(tmp_path):
    """The check pre-commit runs (scripts/check_notebooks_clean.py), on every shipped notebook, and on one that
    has an output, which it must refuse."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "clean", Path(__file__).parents[1] / "scripts" / "check_notebooks_clean.py"
    )
    clean = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clean)
    assert clean.main([str(p) for p in sorted(NOTEBOOKS.glob("*.ipynb"))]) == 0
    nb = json.loads(next(NOTEBOOKS.glob("*.ipynb")).read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
    (tmp_path / "x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert clean.main([str(tmp_path / "x.ipynb")]) == 1


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_how_the_page_was_made_is_its_last_cell(nb):
    # the machinery after the results; the data banner (ch.notice) stays before them
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    assert "".join(cells[-1]["source"]).strip() == "ch.made()", nb.name
    assert sum("ch.made()" in "".join(c["source"]) for c in cells) == 1, nb.name


#: The guide's "no function over ~60 lines": counted without the docstring, which is where the reasons go.
MAX_FUNCTION_LINES = 60


def test_no_function_body_over_sixty_lines():
    long = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = node.body
            has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
            start = body[1].lineno if has_doc and len(body) > 1 else body[0].lineno
            if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({node.end_lineno - start + 1})")
    assert not long, long


def test_table_of_contents_is_read_depth_first_by_the_builders_parser(tmp_path):
    # one reader for every use (chapters to run, table numbers, the reading guide, the PDF): sections come right
    # after their chapter, and a malformed file is refused as Jupyter Book would refuse it
    from sphinx_external_toc.parsing import MalformedError

    from cbec.book.staging import _toc_notebooks, toc_files

    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/index\nparts:\n"
        "  - caption: A\n    chapters:\n"
        "      - file: notebooks/01_a\n        sections:\n          - file: notebooks/01b_section\n"
        "      - file: book/middle\n"
        "  - caption: B\n    chapters:\n      - file: notebooks/02_b\n",
        encoding="utf-8",
    )
    assert toc_files(toc) == ["book/index", "notebooks/01_a", "notebooks/01b_section", "book/middle", "notebooks/02_b"]
    assert _toc_notebooks(toc) == ["01_a", "01b_section", "02_b"]
    toc.write_text("format: jb-book\nroot: book/index\nparts:\n  - chapters:\n      - fil: x\n", encoding="utf-8")
    with pytest.raises(MalformedError):
        toc_files(toc)


def test_building_the_pages_does_not_import_the_estimators_or_matplotlib():
    # a warm run only restages the book: reading the calibration record and drawing nothing must not pay for
    # the simulator, statsmodels or matplotlib (about a second of a 2.5-second warm run)
    import subprocess
    import sys

    code = (
        "import sys, cbec.book.calibration_page, cbec.book.pipeline, cbec.article.calibration_record; "
        "print(sorted(m for m in ('matplotlib', 'statsmodels', 'cbec.article.simulate') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", out


def _figure_calls() -> list[tuple[str, int, ast.expr]]:
    """Every ``<result>.figure(name, draw, ...)`` in the chapter layers: (file, line, the ``draw`` argument)."""
    calls = []
    for path in [*(SRC / "study").rglob("*.py"), *(SRC / "article").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "figure":
                if len(node.args) >= 2:
                    calls.append((str(path.relative_to(SRC)), node.lineno, node.args[1]))
    return calls


def test_every_figure_names_a_drawing_function_that_exists():
    """The study layer may not import the book layer, so a chapter names the function of cbec.book.figures that
    draws its figure; a rename there must fail here, in the fast suite, not first in a full book build."""
    from cbec.book import figures

    calls = _figure_calls()
    assert len(calls) >= 15, calls  # the chapters' figures are all found
    named = [isinstance(arg, ast.Constant) and isinstance(arg.value, str) for _, _, arg in calls]
    literal = [(f, line) for (f, line, _), ok in zip(calls, named, strict=True) if not ok]
    assert not literal, f"a figure's drawing function must be named by a literal string: {literal}"
    missing = [(f, line, arg.value) for f, line, arg in calls if not callable(getattr(figures, arg.value, None))]
    assert not missing, f"no such drawing function in cbec.book.figures: {missing}"


def test_every_chapter_lives_in_its_layer():
    """The study book's chapters (and data quality, which both books share) are generic; the article's book's own
    chapters belong to the article (#23)."""
    from cbec.study.chapters import _PACKAGES, CHAPTERS

    for name in CHAPTERS:
        module = CHAPTERS[name].__module__
        assert module == f"{_PACKAGES[name]}.{name}"
        generic = name.startswith("study_") or name == "data_quality"
        assert module.startswith("cbec.study.chapters." if generic else "cbec.article.chapters."), module
