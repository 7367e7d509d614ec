import pytest

from lpgeom.experiments import PAPER_TABLES, load_paper_table


@pytest.mark.parametrize("number", [1, 2, 3, 5, 6, 8, 9])
def test_union_never_exceeds_a_norm(number):
    t = load_paper_table(number)
    worst = t[["linf", "l2", "l1"]].min(axis=1)
    bad = t[t["union"] > worst + 1e-9]
    assert bad.empty, f"Table {number}: union above a per-norm accuracy in rows\n{bad}"


@pytest.mark.parametrize("number", PAPER_TABLES)
def test_every_table_loads_in_percent(number):
    t = load_paper_table(number)
    values = t.select_dtypes("number").drop(columns=[c for c in ("time_per_epoch_s", "epochs") if c in t], errors="ignore")
    assert ((values >= 0) & (values <= 100)).all().all()
    assert t.attrs["source"] == f"Croce & Hein (ICML 2022), Table {number}"


def test_known_values_and_shapes():
    t1 = load_paper_table(1)
    assert len(t1) == 11 and t1.set_index("scheme").loc["E-AT (l_1 + l_inf)", "time_per_epoch_s"] == 170
    assert len(load_paper_table(2)) == 18 and len(load_paper_table(4)) == 15
    # Table 6's first rows are Table 1's single-norm models (same models in the paper)
    t6 = load_paper_table(6)
    assert t6.iloc[0][["clean", "linf", "l2", "l1", "union"]].tolist() == t1.iloc[0][["clean", "linf", "l2", "l1", "union"]].tolist()
    with pytest.raises(ValueError, match="Tables 1-9"):
        load_paper_table(10)
    with pytest.raises(TypeError, match="number must be an int .* got True of type bool"):
        load_paper_table(True)
