"""Every checker against its own solution as the book gives it: the exercise cells of each notebook, run as a reader
runs them (in order, from the chapter's Exercises heading). Each hidden solution cell's verdict must pass, each
"first attempt" cell's must fail (an attempt that passes is a wrong answer key)."""
import ast
import json
import pathlib

import pytest

BOOK = pathlib.Path(__file__).resolve().parents[2] / "book"


def _source(cell) -> str:
    return "".join(cell["source"])


def _exercise_notebooks():
    out = []
    for path in sorted(BOOK.rglob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        if any("hide-cell" in c.get("metadata", {}).get("tags", []) and "check_" in _source(c) for c in cells):
            out.append(path)
    return out


def _run(code: str, namespace: dict):
    """Run a cell; return the value of its last line if that line is an expression (as Jupyter shows it)."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return None if last is None else eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)


def test_the_book_has_exercise_notebooks():
    assert len(_exercise_notebooks()) >= 8


@pytest.mark.parametrize("path", _exercise_notebooks(), ids=lambda p: p.stem)
def test_solutions_pass_and_first_attempts_fail(path, monkeypatch):
    from lpgeom.exercises import CheckResult

    monkeypatch.chdir(path.parent)
    cells = json.loads(path.read_text())["cells"]
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Exercises" in _source(c)
                 or "Exercise 1" in _source(c))
    namespace: dict = {}
    for cell in cells[:start]:  # the chapter's imports (a reader ran the chapter first)
        if cell["cell_type"] == "code":
            imports = [line for line in _source(cell).splitlines() if line.startswith(("import ", "from "))]
            exec("\n".join(imports), namespace)
    solutions = attempts = 0
    for cell in cells[start:]:
        if cell["cell_type"] != "code":
            continue
        code = _source(cell)
        verdict = _run(code, namespace)
        hidden = "hide-cell" in cell.get("metadata", {}).get("tags", [])
        if not isinstance(verdict, CheckResult):
            continue
        if hidden:
            solutions += 1
            assert verdict.passed, f"{path.name}: the solution cell fails its own checker: {verdict.message}\n{code}"
        elif "first attempt" in code:
            attempts += 1
            assert not verdict.passed, f"{path.name}: the deliberately wrong first attempt passes: {verdict.message}\n{code}"
    assert solutions >= 1
