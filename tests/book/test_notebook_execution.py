"""Every notebook runs once, in the book build; these tests judge that run as nbval would.

`make test` used to execute every notebook twice: once to build the book (the `built_book`
fixture) and once under `pytest --nbval-lax`. Now the book build's execution is the only one:
myst-nb writes each executed notebook to `_build/jupyter_execute/<page>.ipynb`, and the checks
below apply nbval's `--nbval-lax` rules to it against the stored notebook:

- a cell may not end in an error (unless marked `# NBVAL_RAISES_EXCEPTION` or tagged
  `raises-exception`); the build itself also stops on one (`nb_execution_raise_on_error`);
- a cell marked `# NBVAL_CHECK_OUTPUT` (or tagged `nbval-check-output`) must produce the outputs
  stored in the notebook, compared the way nbval compares them (streams coalesced, metadata,
  execution counts, images and widget model ids skipped; outputs of a kind in order);
- `# NBVAL_SKIP` cells are not judged.
"""
from __future__ import annotations

import copy
import pathlib
from collections import defaultdict

import nbformat
import pytest
from myst_nb.core.utils import coalesce_streams as myst_coalesce_streams
from nbval.plugin import coalesce_streams, comment_markers, metadata_tags, transform_streams_for_comparison

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)
# nbval's IPyNbFile.skip_compare without --nbdime (images are not compared)
SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def cell_options(cell) -> dict:
    """nbval's options for a cell: {'check': bool, 'check_exception': bool, 'skip': bool} (lax mode)."""
    options = {"check": False, "check_exception": False, "skip": False}
    found = [comment_markers[line.strip().lstrip("#").strip()] for line in cell.source.splitlines()
             if line.strip().startswith("#") and line.strip().lstrip("#").strip() in comment_markers]
    found += [metadata_tags[tag] for tag in cell.get("metadata", {}).get("tags", []) if tag in metadata_tags]
    for marker in found:
        key, value = marker if isinstance(marker, tuple) else (marker, True)
        options[key] = value
    return options


def _flatten(outputs) -> dict[str, list]:
    flat = defaultdict(list)
    for output in transform_streams_for_comparison(outputs):
        for key, value in output.items():
            if key in SKIP_COMPARE:
                continue
            if key == "data":
                for mime, payload in value.items():
                    if mime not in SKIP_COMPARE:
                        flat[mime].append(payload)
            else:
                flat[key].append(value)
    return dict(flat)


def _as_the_build_wrote_them(executed) -> list:
    """The executed outputs with each stream once: myst-nb (``nb_merge_streams``) appends every stream's text to
    its first node in place and keeps the later nodes in the file it writes."""
    seen, out = set(), []
    for output in executed:
        if output.get("output_type") == "stream":
            if output.get("name") in seen:
                continue
            seen.add(output.get("name"))
        out.append(output)
    return out


def output_mismatch(executed, stored, merged_streams: bool = True) -> str | None:
    """nbval's comparison of a cell's outputs: None when they agree, else what differs.

    ``merged_streams``: ``executed`` was written by the book build, which merged its streams
    (myst-nb's rule, applied to the stored outputs too so both read alike).
    """
    executed, stored = copy.deepcopy(list(executed)), copy.deepcopy(list(stored))   # coalescing edits nodes in place
    if merged_streams:
        executed, stored = _as_the_build_wrote_them(executed), myst_coalesce_streams(stored)
    test, ref = _flatten(coalesce_streams(executed)), _flatten(coalesce_streams(stored))
    if set(ref) - set(test):
        return f"missing output fields from running code: {sorted(set(ref) - set(test))}"
    if set(test) - set(ref):
        return f"unexpected output fields from running code: {sorted(set(test) - set(ref))}"
    for key, ref_values in ref.items():
        if len(test[key]) != len(ref_values):
            return f"{len(test[key])} outputs of kind {key!r} where the notebook stores {len(ref_values)}"
        for ref_value, test_value in zip(ref_values, test[key]):
            if ref_value != test_value:
                return f"output {key!r} changed:\n--- stored\n{ref_value}\n--- executed\n{test_value}"
    return None


def notebook_problems(executed: nbformat.NotebookNode, stored: nbformat.NotebookNode,
                      merged_streams: bool = True) -> list[str]:
    """Every way the executed notebook fails nbval's lax checks against the stored one (empty: passes)."""
    if len(executed.cells) != len(stored.cells):
        return [f"the executed notebook has {len(executed.cells)} cells, the stored one {len(stored.cells)}"]
    problems = []
    for index, (ran, kept) in enumerate(zip(executed.cells, stored.cells)):
        if kept.cell_type != "code":
            continue
        if ran.source != kept.source:
            problems.append(f"cell {index}: its source differs from the stored notebook's")
            continue
        options = cell_options(kept)
        if options["skip"]:
            continue
        errors = [o for o in ran.outputs if o.output_type == "error"]
        if errors and not options["check_exception"]:
            problems.append(f"cell {index} raised {errors[0].ename}: {errors[0].evalue}")
        elif not errors and options["check_exception"]:
            problems.append(f"cell {index} is marked to raise an exception and did not")
        if options["check"]:
            mismatch = output_mismatch(ran.outputs, kept.outputs, merged_streams)
            if mismatch:
                problems.append(f"cell {index} (# NBVAL_CHECK_OUTPUT): {mismatch}")
    return problems


def executed_path(built_book: pathlib.Path, notebook: pathlib.Path) -> pathlib.Path:
    """Where the book build wrote `notebook` after executing it (myst-nb's jupyter_execute folder)."""
    return built_book.parent / "jupyter_execute" / notebook.relative_to(BOOK)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(BOOK).as_posix())
def test_notebook_ran_in_the_book_build_as_nbval_requires(built_book, path):
    executed = executed_path(built_book, path)
    assert executed.is_file(), f"the book build did not execute {path.relative_to(ROOT)} (no {executed})"
    problems = notebook_problems(nbformat.read(executed, as_version=4), nbformat.read(path, as_version=4))
    assert not problems, "\n".join(problems)


# The checks themselves, on small notebooks written here (no build needed): they must fail.

def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, outputs=outputs) for source, outputs in cells]
    return nbformat.reads(nbformat.writes(nb), as_version=4)   # as nbformat.read gives it


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _result(text, count=1):
    return nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=count)


def _error():
    return nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=["..."])


def test_a_cell_that_raised_fails():
    stored = _notebook(("print(1)", [_stream("1\n")]))
    assert notebook_problems(stored, stored) == []
    problems = notebook_problems(_notebook(("print(1)", [_error()])), stored)
    assert problems and "raised ValueError: boom" in problems[0]


def test_raises_exception_marker_expects_an_error():
    source = "# NBVAL_RAISES_EXCEPTION\nraise ValueError"
    stored = _notebook((source, [_error()]))
    assert notebook_problems(stored, stored) == []
    assert "did not" in notebook_problems(_notebook((source, [])), stored)[0]


def test_checked_output_must_match_and_unchecked_output_may_change():
    checked = "# NBVAL_CHECK_OUTPUT\nprint(x)"
    stored = _notebook((checked, [_stream("a\n"), _stream("b\n"), _result("3", count=7)]))
    # streams split differently and another execution count: nbval calls that equal
    same = _notebook((checked, [_stream("a\nb\n"), _result("3", count=2)]))
    assert notebook_problems(same, stored) == [] == notebook_problems(same, stored, merged_streams=False)
    # as the build writes them: the first node holds every line, the later ones are left in the file
    written = _notebook((checked, [_stream("a\nb\n"), _stream("b\n"), _result("3")]))
    assert notebook_problems(written, stored) == []
    changed = _notebook((checked, [_stream("a\nc\n"), _result("3")]))
    assert "output 'stdout' changed" in notebook_problems(changed, stored)[0]
    again = _notebook((checked, [_stream("a\n"), _stream("b\n"), _result("3")]))
    assert notebook_problems(again, stored, False) == notebook_problems(again, stored, False) == []  # changes nothing
    assert [o.get("text") for o in again.cells[0].outputs] == ["a\n", "b\n", None]
    missing = _notebook((checked, [_stream("a\nb\n")]))
    assert "missing output fields" in notebook_problems(missing, stored)[0]
    unchecked = _notebook(("print(x)", [_stream("a\nb\n")]))
    assert notebook_problems(_notebook(("print(x)", [_stream("other\n")])), unchecked) == []


def test_skip_marker_and_tags_are_read_as_nbval_reads_them():
    skipped = _notebook(("# NBVAL_SKIP\nboom()", []))
    assert notebook_problems(_notebook(("# NBVAL_SKIP\nboom()", [_error()])), skipped) == []
    tagged = _notebook(("print(x)", [_stream("a\n")]))
    tagged.cells[0].metadata["tags"] = ["nbval-check-output"]
    assert cell_options(tagged.cells[0])["check"]
    ran = _notebook(("print(x)", [_stream("b\n")]))
    assert "changed" in notebook_problems(ran, tagged)[0]
    ignored = _notebook(("# NBVAL_IGNORE_OUTPUT\nprint(x)", [_stream("a\n")]))
    assert not cell_options(ignored.cells[0])["check"]


def test_executed_notebook_must_have_the_stored_cells():
    stored = _notebook(("print(1)", []), ("print(2)", []))
    assert "cells" in notebook_problems(_notebook(("print(1)", [])), stored)[0]
    assert "source differs" in notebook_problems(_notebook(("print(1)", []), ("print(3)", [])), stored)[0]
