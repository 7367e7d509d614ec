import pytest

from lpgeom.viz.panel import geometry_panel, panel_summary


def test_summary_reports_pass_for_valid_settings():
    html = panel_summary(12, 8 / 255, 2, 3072)
    assert "PASS" in html and "0.613773" in html and "0.218242" in html


def test_summary_explains_invalid_settings():
    html = panel_summary(30, 1, 2, 3)
    assert "No such setting" in html and "contained in B_1" in html


def test_panel_reacts_to_sliders():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    panel = geometry_panel()
    sliders = [w for box in panel.children[0].children for w in box.children]
    eps1, eps_inf, p, d = sliders
    image, note, table = panel.children[1:]
    first_png = image.value
    assert first_png[:4] == b"\x89PNG" and "PASS" in table.value
    d.value = 3072
    assert "d=3072" in table.value
    eps1.value = 5.0  # outside the 2D regime: the picture note explains, the table still answers
    assert "needs eps_inf" in note.value and "PASS" in table.value
    eps1.value = 1.7
    assert image.value != first_png
