"""Exact geometry of l_1 / l_inf unions and their convex hull.

Proposition 3.1 (:func:`union_radius`) and Theorem 3.1 (:func:`hull_radius`) of Croce &
Hein, exact batched membership (:func:`in_union`, :func:`in_hull`) and the gauge of the
hull (:func:`hull_gauge`), independent numerical checks of the closed forms
(:func:`verify_radius`: the hull's gauge as a linear programme, the union's radius as a
convex programme; :func:`hull_gauge_lp`), and the argument checks the other layers share
(:func:`parse_p`, :func:`check_radii`, :func:`check_dimension`, :func:`check_integer`,
:func:`check_real`).
"""
from ._validation import check_dimension, check_integer, check_radii, check_real, parse_p
from .membership import hull_gauge, in_hull, in_union
from .radii import conjugate_exponent, hull_radius, union_radius
from .linear_programme import GaugeLP, hull_gauge_lp
from .verification import (
    MAX_VERIFY_DIMENSION,
    RadiusReport,
    hull_radius_numeric,
    hull_radius_qhull,
    hull_worst_point,
    union_radius_bracket,
    union_radius_numeric,
    verify_radius,
)

__all__ = [
    "union_radius",
    "hull_radius",
    "conjugate_exponent",
    "in_union",
    "in_hull",
    "hull_gauge",
    "verify_radius",
    "RadiusReport",
    "hull_radius_numeric",
    "hull_radius_qhull",
    "union_radius_numeric",
    "union_radius_bracket",
    "hull_worst_point",
    "hull_gauge_lp",
    "GaugeLP",
    "MAX_VERIFY_DIMENSION",
    "parse_p",
    "check_radii",
    "check_dimension",
    "check_integer",
    "check_real",
]
