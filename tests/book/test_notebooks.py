"""Notebooks stay thin, carry their outputs, and are all in the table of contents."""
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)
MAX_LINES = 15  # a few lines per cell: logic lives in lpgeom


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_thin_cells_with_stored_outputs(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and any(c.get("outputs") for c in code), "stored without outputs: the built book would be empty"
    for cell in code:
        lines = [l for l in "".join(cell["source"]).splitlines() if l.strip() and not l.strip().startswith("#")]
        assert len(lines) <= MAX_LINES, f"a code cell of {len(lines)} lines: move the logic into lpgeom"
        assert not any("Error" in o.get("ename", "") for o in cell.get("outputs", []))
    assert nb["metadata"].get("lpgeom", {}).get("profile") in ("smoke", "cpu", "full"), "profile not recorded"


def test_every_notebook_is_in_the_toc():
    toc = (ROOT / "book" / "_toc.yml").read_text()
    for path in NOTEBOOKS:
        entry = path.relative_to(ROOT / "book").with_suffix("").as_posix()
        assert f"file: {entry}" in toc, f"{entry} is not in book/_toc.yml"


PART2 = sorted((ROOT / "book" / "part2").glob("*.ipynb"))


@pytest.mark.parametrize("path", PART2, ids=lambda p: p.name)
def test_part2_chapters_take_their_sizes_from_the_plan(path):
    import re

    code = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert any(f'chapter_plan("{path.stem}")' in c and "print(plan)" in c for c in code), "the chapter must print its plan"
    runs = "\n".join(c for c in code if "check_" not in c)   # exercises state their own numbers
    typed = re.findall(r"\b(n|n_iter|n_points|epochs|batch_size)\s*=\s*\d+", runs)
    assert not typed, f"sizes typed into the notebook instead of read from the plan: {typed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solution_cells_are_folded_in_jupyterlab(path):
    """The book hides solution cells by the tag hide-cell; JupyterLab folds them only by cell metadata."""
    cells = json.loads(path.read_text())["cells"]
    hidden = [c for c in cells if "hide-cell" in c.get("metadata", {}).get("tags", [])]
    for cell in hidden:
        folded = cell["metadata"].get("jupyter", {})
        assert folded.get("source_hidden") is True and folded.get("outputs_hidden") is True, (
            f"a hide-cell cell is not folded in JupyterLab: {''.join(cell['source'])[:80]!r}")
    exercises = [c for c in cells if c["cell_type"] == "code" and "check_" in "".join(c["source"])
                 and "hide-cell" not in c.get("metadata", {}).get("tags", [])]
    for cell in exercises:  # the reader's attempt: open and editable
        meta = cell.get("metadata", {})
        assert not meta.get("jupyter", {}).get("source_hidden") and meta.get("editable", True), "exercise cell not editable"


def test_jupyterlab_renders_myst():
    """The notebooks are written in MyST (roles, directives, dropdown solutions): JupyterLab needs jupyterlab-myst."""
    assert any(line.split("=")[0].split(">")[0].strip() == "jupyterlab-myst"
               for line in (ROOT / "requirements.txt").read_text().splitlines())
