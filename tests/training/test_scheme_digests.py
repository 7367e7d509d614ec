"""Behaviour held fixed: every scheme registered at c0a141d trains to the same weights and metrics as it did there.

``data/scheme_digests_c0a141d.json`` was written by ``tests/scheme_digests.py`` run at commit
c0a141d (before the loop's extension point); the runs are repeated here with the current
loop and must match bit for bit (same torch version; one CPU thread).
"""
import json
import pathlib

import pytest
import torch

from lpgeom.training import scheme_names

from scheme_digests import VARIANTS, run

FIXTURE = json.loads((pathlib.Path(__file__).parent / "data" / "scheme_digests_c0a141d.json").read_text())
RUNS = FIXTURE["runs"]


def test_the_fixture_covers_every_scheme_of_its_commit():
    plain = {key.split("/", 1)[1] for key in RUNS if key.startswith("plain/")}
    assert plain <= set(scheme_names())
    assert len(plain) == 13 and {"natural", "eat", "eat-calibrated", "l2-eat", "msd", "sat"} <= plain


@pytest.mark.skipif(torch.__version__ != FIXTURE["torch"], reason="digests were recorded with another torch")
@pytest.mark.parametrize("key", sorted(RUNS))
def test_weights_and_metrics_match_the_recorded_run(key, tmp_path):
    label, name = key.split("/", 1)
    overrides = next(o for lab, only, o in VARIANTS if lab == label)
    now = run(name, tmp_path / "run", **overrides)
    assert now["metrics"] == RUNS[key]["metrics"], f"{key}: metrics differ from c0a141d"
    assert now["weights"] == RUNS[key]["weights"], f"{key}: final weights differ from c0a141d"
