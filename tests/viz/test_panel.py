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
    preset = panel.children[0]
    sliders = [w for box in panel.children[1].children for w in box.children]
    eps1, eps_inf, p, d = sliders
    image, note, table = panel.children[2:]
    first_png = image.value
    assert first_png[:4] == b"\x89PNG" and "PASS" in table.value
    d.value = 3072
    assert "d=3072" in table.value
    eps1.value = 5.0  # outside the 2D regime: the picture note explains, the table still answers
    assert "needs eps_inf" in note.value and "PASS" in table.value
    assert image.layout.display == "none"  # hidden, not an empty image with a broken-image icon
    eps1.value = 1.7
    assert image.value != first_png and image.layout.display != "none"


def test_presets_reach_the_papers_exact_radii():
    pytest.importorskip("ipywidgets")
    panel = geometry_panel(eps1=3.0, eps_inf=1.0, p=2.0, d=10)
    preset = panel.children[0]
    eps1, eps_inf, p, d = [w for box in panel.children[1].children for w in box.children]
    table = panel.children[4]
    import lpgeom.viz.panel as panel_module

    calls = []
    original = panel_module.verify_radius
    panel_module.verify_radius = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        preset.value = "CIFAR-10 (12, 8/255, 3072)"
    finally:
        panel_module.verify_radius = original
    assert len(calls) == 1, "a preset recomputes the check once, not once per slider"
    assert (eps1.value, eps_inf.value, d.value) == (12.0, 8 / 255, 3072)
    assert "0.613773" in table.value and "PASS" in table.value
    assert "ε<sub>1</sub>=12," in table.value and "ε<sub>∞</sub>=0.0313725," in table.value  # readouts = values used
    assert panel.children[2].layout.display == "none"  # no picture for these radii, and no empty image


@pytest.mark.slow
def test_imagenet_preset():
    pytest.importorskip("ipywidgets")
    panel = geometry_panel(eps1=3.0, eps_inf=1.0, p=2.0, d=10)
    eps1, eps_inf, p, d = [w for box in panel.children[1].children for w in box.children]
    panel.children[0].value = "ImageNet (255, 4/255, 150528)"
    assert (eps1.value, eps_inf.value, d.value) == (255.0, 4 / 255, 150528)
    assert "d=150528" in panel.children[4].value and "PASS" in panel.children[4].value


def test_radii_are_exact_inputs_not_quantising_sliders():
    """A slider's step rounded 12 to 11.995 in the browser; typed inputs keep any value the range allows."""
    W = pytest.importorskip("ipywidgets")
    panel = geometry_panel(eps1=1.5, eps_inf=1.0)
    eps1, eps_inf, p, d = [w for box in panel.children[1].children for w in box.children]
    assert isinstance(eps1, W.BoundedFloatText) and isinstance(eps_inf, W.BoundedFloatText)
    assert eps1.step is None and eps_inf.step is None
    eps_inf.value = 8 / 255
    assert eps_inf.value == 8 / 255


def test_static_book_build_disables_every_control_and_says_so(monkeypatch):
    W = pytest.importorskip("ipywidgets")
    from lpgeom.viz.panel import STATIC_NOTE

    live = geometry_panel()
    assert not any(getattr(w, "disabled", False) for w in _controls(live))
    assert STATIC_NOTE not in str([getattr(w, "value", "") for w in live.children])
    monkeypatch.setenv("LPGEOM_STATIC_BOOK", "1")
    static = geometry_panel()
    assert isinstance(static.children[0], W.HTML) and STATIC_NOTE in static.children[0].value
    controls = _controls(static)
    assert len(controls) == 5 and all(w.disabled for w in controls)
    assert "lpgeom-panel" in static._dom_classes


def _controls(panel):
    import ipywidgets as W

    found, todo = [], list(panel.children)
    while todo:
        widget = todo.pop()
        if isinstance(widget, W.Box):
            todo.extend(widget.children)
        elif isinstance(widget, (W.Dropdown, W.BoundedFloatText, W.SelectionSlider)):
            found.append(widget)
    return found
