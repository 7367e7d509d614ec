"""Seeds: mean ± std per model, and comparisons that rank only outside the spread."""
import math

import pandas as pd
import pytest

from lpgeom.experiments.seeds import compare_schemes, compare_with, joint_summary, mean_std_table, seed_summary


def _frame(rows):
    frame = pd.DataFrame([{"model": m, "seed": s, "union": u, "evaluation": e} for m, s, u, e in rows])
    frame.attrs["source"] = "test"
    return frame


ROWS = [("E-AT", 0, 44.0, "A"), ("E-AT", 1, 46.0, "A"), ("E-AT", 2, 45.0, "A"),
        ("SAT", 0, 43.0, "A"), ("SAT", 1, 45.0, "B"), ("SAT", 2, 44.0, "A"),
        ("l_inf-AT", 0, 4.0, "A"), ("l_inf-AT", 1, 6.0, "A"), ("MAX", 0, 47.0, "A")]


def test_one_row_per_model_with_mean_std_and_seed_count():
    summary = seed_summary(_frame(ROWS))
    assert list(summary.index) == ["E-AT", "SAT", "l_inf-AT", "MAX"], "the frame's order"
    assert summary.loc["E-AT", "union"] == pytest.approx(45.0) and summary.loc["E-AT", "union_std"] == pytest.approx(1.0)
    assert list(summary.seeds) == [3, 3, 2, 1] and math.isnan(summary.loc["MAX", "union_std"])
    assert summary.loc["SAT", "evaluation"] == "A (2 of 3 seeds), B (1 of 3 seeds)"
    assert summary.attrs["source"] == "test"
    table = mean_std_table(summary).set_index("model")
    assert table.loc["E-AT", "union"] == "45.0 ± 1.0" and table.loc["MAX", "union"] == "47.0"


def test_comparisons_rank_only_outside_the_spread():
    summary = seed_summary(_frame([(m, s, u, "A") for m, s, u, _ in ROWS]))
    overlap = compare_schemes(summary, "E-AT", "SAT")
    assert "E-AT 45.0 ± 1.0 (3 seeds) vs SAT 44.0 ± 1.0 (3 seeds)" in overlap and "does not rank them" in overlap
    apart = compare_schemes(summary, "E-AT", "l_inf-AT")
    assert "do not overlap; E-AT is higher by 40.0 points" in apart
    single = compare_schemes(summary, "MAX", "E-AT")  # 47 vs 45 ± 1: within 2 x 1 under the assumed spread
    assert "(1 seed)" in single and "overlap (the one-seed run's spread taken as the other's)" in single
    far = compare_schemes(summary, "MAX", "l_inf-AT")  # 47 vs 5 ± 1.41
    assert "do not overlap (the one-seed run's spread taken as the other's); MAX is higher by 42.0" in far
    lone = seed_summary(_frame([("A", 0, 10.0, "x"), ("B", 0, 90.0, "x")]))
    assert "no measured spread, so this study does not rank them" in compare_schemes(lone, "A", "B")
    with pytest.raises(ValueError, match="no row 'AVG'"):
        compare_schemes(summary, "AVG", "E-AT")
    with pytest.raises(ValueError, match="metric must be a column"):
        compare_schemes(summary, "MAX", "E-AT", metric="l3")


def test_rows_evaluated_differently_are_not_compared():
    """A checked figure (stronger attack, lower) against an unchecked one would rank the attacks, not the schemes."""
    summary = seed_summary(_frame(ROWS))  # SAT: seeds evaluated by A and B
    mixed = compare_schemes(summary, "E-AT", "SAT")
    assert mixed.endswith("evaluated differently (E-AT: A; SAT: A (2 of 3 seeds), B (1 of 3 seeds)), so this study "
                          "does not compare them.")
    apart = seed_summary(_frame([("E-AT", 0, 44.0, "A"), ("E-AT", 1, 46.0, "A"), ("AVG", 0, 10.0, "B"),
                                 ("AVG", 1, 11.0, "B")]))
    assert "evaluated differently (E-AT: A; AVG: B)" in compare_schemes(apart, "E-AT", "AVG")
    both_mixed = seed_summary(_frame([(m, s, 40.0 + s, "A" if s else "B") for m in ("X", "Y") for s in range(3)]))
    assert "evaluated differently" in compare_schemes(both_mixed, "X", "Y")
    plain = seed_summary(_frame(ROWS).drop(columns="evaluation"))
    assert "overlap" in compare_schemes(plain, "E-AT", "SAT")


def test_a_frame_without_seeds_is_refused_and_an_empty_one_is_empty():
    with pytest.raises(ValueError, match="missing \\['seed'\\]"):
        seed_summary(pd.DataFrame({"model": ["a"], "union": [1.0]}))
    assert len(seed_summary(pd.DataFrame())) == 0
    with pytest.raises(ValueError, match="summary must be a seed_summary"):
        mean_std_table(pd.DataFrame({"union": [1.0]}))


def test_compare_with_skips_absent_rows():
    summary = seed_summary(_frame(ROWS))
    lines = compare_with(summary, "E-AT", ["SAT", "AVG", "MAX", "E-AT"])
    assert len(lines) == 2 and lines[0].startswith("union: E-AT 45.0") and "MAX" in lines[1]
    assert compare_with(summary, "AVG", ["SAT"]) == ["AVG is not recorded in this table"]


def test_joint_summary_compares_across_tables_of_one_revision_only():
    first, second = seed_summary(_frame(ROWS[:6])), seed_summary(_frame(ROWS[3:]))
    for summary, revision in ((first, 1), (second, 1)):
        summary.attrs["code_revision"] = revision
    joint = joint_summary(first, second)
    assert list(joint.index) == ["E-AT", "SAT", "l_inf-AT", "MAX"] and joint.loc["SAT", "seeds"] == 3
    second.attrs["code_revision"] = 2
    with pytest.raises(ValueError, match="code revisions 1, 2"):
        joint_summary(first, second)
    with pytest.raises(ValueError, match="at least one"):
        joint_summary()
