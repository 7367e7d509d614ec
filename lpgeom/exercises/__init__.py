"""Checkers for the book's exercises: call one as the last line of a check cell; it shows a verdict."""
from .geometry import CheckResult, check_eps1_for_l2_cover, check_hull_gauge, check_union_radius, minimal_eps1_for_l2_cover

__all__ = ["CheckResult", "check_union_radius", "check_hull_gauge", "check_eps1_for_l2_cover", "minimal_eps1_for_l2_cover"]
