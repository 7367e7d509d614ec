"""Hypothesis strategies shared by the tests (tests/ is on pytest's pythonpath)."""
import math

from hypothesis import strategies as st


@st.composite
def geometry_settings(draw, max_d: int = 6):
    """(eps1, eps_inf, p, d) in the non-degenerate regime eps_inf < eps1 < d*eps_inf, fractional p included."""
    d = draw(st.integers(2, max_d))
    eps_inf = draw(st.floats(0.05, 3.0))
    ratio = draw(st.floats(1.0, float(d)).filter(lambda r: 1.001 < r < d - 0.001))
    p = draw(st.one_of(st.sampled_from([1.0, 2.0, math.inf]), st.floats(1.0, 12.0)))
    return eps_inf * ratio, eps_inf, p, d
