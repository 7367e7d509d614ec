import plotly.graph_objects as go
import pytest

from lpgeom.viz.plotly_display import plotly_bundle


def test_bundle_has_json_and_html_with_fixed_id():
    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    bundle = plotly_bundle(fig, "fig-1")
    assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html"}
    assert 'id="fig-1"' in bundle["text/html"] and "<script" in bundle["text/html"]
    assert "cdn.plot.ly" not in bundle["text/html"]
    assert bundle == plotly_bundle(fig, "fig-1")  # stable across calls (nbval)


@pytest.mark.parametrize("bad", ["1abc", "a b", "", None])
def test_bad_div_id(bad):
    with pytest.raises(ValueError, match="div_id"):
        plotly_bundle(go.Figure(), bad)


def test_not_a_figure():
    with pytest.raises(ValueError, match="plotly Figure"):
        plotly_bundle({"data": []}, "x")
