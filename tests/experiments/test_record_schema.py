"""One schema for a unit's record, on read and on write (issue 27): every committed record passes; impossible,
truncated, misplaced records are refused naming the file and the field, by the readers the book and reproduce use."""
import json
import pathlib
import shutil

import pytest

from lpgeom.experiments import RecordError, check_record, load_result, read_record, results_frame, unit_from_name
from lpgeom.experiments.paper_tables import RESULTS_DIR
from lpgeom.experiments.record_schema import write_record

COMMITTED = sorted(pathlib.Path(RESULTS_DIR).rglob("*.json"))
SOURCE = pathlib.Path(RESULTS_DIR) / "smoke" / "linf_e2_s0.json"


def test_there_are_committed_records():
    assert len(COMMITTED) >= 100 and SOURCE in COMMITTED


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(RESULTS_DIR)))
def test_every_committed_record_passes_the_schema(path):
    record = read_record(path)
    assert record["name"] == path.stem


def _results(tmp_path, mutate=None, text=None, name="linf_e2_s0"):
    """A results folder holding the committed smoke records, one of them (``name``) changed."""
    root = tmp_path / "results"
    shutil.copytree(pathlib.Path(RESULTS_DIR) / "smoke", root / "smoke")
    path = root / "smoke" / f"{name}.json"
    if mutate is not None:
        record = json.loads(path.read_text())
        mutate(record)
        path.write_text(json.dumps(record))
    if text is not None:
        path.write_text(text)
    return root, path


def _set(*keys, value):
    def mutate(record):
        target = record
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return mutate


BAD = {  # what the record holds -> the field the refusal names
    "4000 %": (_set("report", "clean_accuracy", value=40.0), r"report\.clean_accuracy is 40\.0, outside \[0\.0, 1\.0\]"),
    "true as 100 %": (_set("report", "robust_accuracy", "Linf", value=True),
                      r"report\.robust_accuracy\.Linf is true, not a number"),
    "a string": (_set("report", "union_accuracy", value="0.4"), r'report\.union_accuracy is "0\.4", not a number'),
    "NaN": (_set("report", "robust_accuracy", "L2", value=float("nan")),
            r"report\.robust_accuracy\.L2 is nan, not a finite number"),
    "union above every norm": (_set("report", "union_accuracy", value=0.99), r"report\.union_accuracy is 0\.99, above"),
    "robust above clean": (_set("report", "robust_accuracy", "L1", value=1.0),
                           r"report\.robust_accuracy\.L1 is 1\.0, above the clean accuracy"),
    "a missing field": (lambda r: r["report"].pop("union_accuracy"), r"report\.union_accuracy is missing"),
    "radii of other norms": (_set("report", "eps", value={"Linf": 0.1}), r"report\.eps names \['Linf'\]"),
    "n_points a float": (_set("report", "n_points", value=10.5), r"report\.n_points is 10\.5, not an integer"),
    "another profile": (_set("profile", value="cpu"), r"profile is 'cpu', but the file lies in"),
    "a unit that is not its name": (_set("unit", "epochs", value=7), r"unit\.epochs is 7, but the name"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_an_impossible_record_is_refused_naming_the_file_and_the_field(tmp_path, case):
    mutate, message = BAD[case]
    root, path = _results(tmp_path, mutate)
    with pytest.raises(RecordError, match=f"^{path}: {message}"):
        load_result(root, "smoke", unit_from_name("linf_e2_s0"))
    with pytest.raises(RecordError, match=message):  # the book's tables
        results_frame("table1", "smoke", results_dir=root)


def test_a_record_copied_over_another_units_file_is_refused(tmp_path):
    root, path = _results(tmp_path)
    shutil.copy(root / "smoke" / "l2_e2_s0.json", path)
    with pytest.raises(RecordError, match=f"{path}: name is 'l2_e2_s0', but the file is named 'linf_e2_s0.json'"):
        load_result(root, "smoke", unit_from_name("linf_e2_s0"))


@pytest.mark.parametrize("text, message", [(SOURCE.read_text()[:500], r"is not valid JSON \(.* at line \d+ column \d+\)"
                                                                      r": the record is truncated"),
                                           ("[1, 2]", "holds a JSON list, not a unit's record"),
                                           ("null", "holds a JSON null")])
def test_a_truncated_record_or_a_json_list_is_refused_naming_the_file(tmp_path, text, message):
    root, path = _results(tmp_path, text=text)
    with pytest.raises(RecordError, match=f"^{path} {message}"):
        load_result(root, "smoke", unit_from_name("linf_e2_s0"))
    with pytest.raises(RecordError, match=message):
        results_frame("table1", "smoke", results_dir=root)


def test_reproduce_stops_on_a_bad_record_with_one_line_naming_it(tmp_path, capsys):
    from lpgeom.__main__ import main

    from lpgeom.experiments.study import revision_folder

    root = tmp_path / "results"
    path = root / revision_folder("smoke") / "linf_e2_s0.json"  # the record reproduce reads before training it
    path.parent.mkdir(parents=True)
    path.write_text("[]")
    code = main(["reproduce", "--profile", "smoke", "--only", "table1", "--units", "linf_e2_s0", "--results-dir",
                 str(root), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and "JSON list" in err and "Traceback" not in err


def test_write_record_refuses_a_bad_record_and_writes_nothing(tmp_path):
    record = json.loads(SOURCE.read_text())
    folder = tmp_path / "smoke"
    record["report"]["union_accuracy"] = 2.0
    with pytest.raises(RecordError, match="union_accuracy is 2.0"):
        write_record(folder / "linf_e2_s0.json", record, root=tmp_path)
    assert not (folder / "linf_e2_s0.json").exists()
    record["report"]["union_accuracy"] = 0.0
    with pytest.raises(RecordError, match="but the file is named 'l2_e2_s0.json'"):
        write_record(folder / "l2_e2_s0.json", record, root=tmp_path)
    write_record(folder / "linf_e2_s0.json", record, root=tmp_path)
    assert read_record(folder / "linf_e2_s0.json")["report"]["union_accuracy"] == 0.0
    assert check_record(record) is record
