"""Training schemes by name: the one place that lists them (CLI choices, study rows, table labels).

A scheme registers a builder with :func:`register_scheme`; :func:`build_scheme` reads the
registry. A builder takes the threat models and keyword settings and returns a
:class:`~lpgeom.training.schemes.Scheme`::

    @register_scheme("eat", label="E-AT (l_1 + l_inf)", cost="single")
    def _eat(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None) -> Scheme:
        ...

The keyword parameters of the builder are the settings the scheme accepts; anything else
passed to :func:`build_scheme` is refused by name.
"""
from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the schemes import this module to register themselves
    from ..threats import ThreatUnion
    from .schemes import Scheme

__all__ = ["SchemeCost", "SchemeSpec", "register_scheme", "build_scheme", "scheme_spec", "scheme_names",
           "scheme_labels"]


class SchemeCost(str, enum.Enum):
    """Attacks per training step, the paper's cost classes.

    ``NONE``: no attack (natural training); ``SINGLE``: one attack per batch whatever the
    number of norms (single-norm AT, E-AT, SAT); ``ALL_NORMS``: one attack per norm per batch
    (MAX, AVG), or one joint attack that tries every norm at each step (MSD).
    """

    NONE = "none"
    SINGLE = "single"
    ALL_NORMS = "all-norms"


Builder = Callable[..., "Scheme"]


@dataclass(frozen=True)
class SchemeSpec:
    """A registered scheme.

    Attributes
    ----------
    name : str
        Registry key (``"eat"``), as the CLI and the study spell it.
    label : str
        Human-readable name for tables and figures (``"E-AT (l_1 + l_inf)"``).
    cost : SchemeCost
        Attacks per training step.
    builder : callable
        ``builder(threats, **settings) -> Scheme``.
    settings : tuple of str
        The keyword settings the builder accepts.
    """

    name: str
    label: str
    cost: SchemeCost
    builder: Builder
    settings: tuple[str, ...]

    def build(self, threats: ThreatUnion, **settings) -> Scheme:
        """The scheme for ``threats``; settings whose value is None are left at the builder's default.

        Raises
        ------
        ValueError
            If a setting is not one the scheme accepts.
        """
        given = {k: v for k, v in settings.items() if v is not None}
        unknown = sorted(set(given) - set(self.settings))
        if unknown:
            accepted = ", ".join(self.settings) or "none"
            raise ValueError(f"scheme {self.name!r} takes no setting {', '.join(map(repr, unknown))}; "
                             f"it accepts: {accepted}")
        return self.builder(threats, **given)


_REGISTRY: dict[str, SchemeSpec] = {}


def register_scheme(name: str, *, label: str, cost: SchemeCost | str) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder(threats, **settings) -> Scheme`` under ``name``.

    Parameters
    ----------
    name : str
        Lower-case key, unique.
    label : str
        Name in tables and figures.
    cost : SchemeCost or {"none", "single", "all-norms"}
        Attacks per training step.

    Raises
    ------
    ValueError
        If ``name`` is taken or not lower-case, or ``cost`` is not a cost class.
    """
    if not name or name != name.lower():
        raise ValueError(f"scheme names are non-empty and lower-case, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"a scheme named {name!r} is already registered")
    try:
        cost_class = SchemeCost(cost)
    except ValueError:
        raise ValueError(f"cost {cost!r} of scheme {name!r} is not one of "
                         f"{', '.join(c.value for c in SchemeCost)}") from None

    def decorate(builder: Builder) -> Builder:
        params = list(inspect.signature(builder).parameters.values())[1:]  # the first one takes the threats
        settings = tuple(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        _REGISTRY[name] = SchemeSpec(name, label, cost_class, builder, settings)
        return builder

    return decorate


def scheme_names() -> tuple[str, ...]:
    """Every registered scheme name, in registration order."""
    return tuple(_REGISTRY)


def scheme_labels() -> dict[str, str]:
    """``{name: label}`` of every registered scheme (table and figure labels)."""
    return {name: spec.label for name, spec in _REGISTRY.items()}


def scheme_spec(name: str) -> SchemeSpec:
    """The registered scheme ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If no scheme has that name; the message lists the registered ones.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"unknown scheme {name!r}; choose one of {', '.join(_REGISTRY)}")
    return _REGISTRY[key]


def build_scheme(name: str, threats: ThreatUnion, **settings) -> Scheme:
    """The training scheme registered as ``name``, for ``threats``.

    Parameters
    ----------
    name : str
        A registered name (:func:`scheme_names`): ``natural``, ``linf``, ``l2``, ``l1``
        (single-norm AT), ``eat``, ``l2-eat`` (l_2-AT then E-AT at ``switch_epoch``), ``max``,
        ``avg``, ``msd``, ``sat``, ...
    threats : ThreatUnion
        Radii for every norm the scheme uses.
    **settings
        What the scheme accepts (:attr:`SchemeSpec.settings`), e.g. ``n_iter`` (attack
        steps: 10 in the paper, 5 on ImageNet), ``l1_steps`` (ImageNet: 15),
        ``switch_epoch``. A setting given as None keeps the scheme's default.

    Raises
    ------
    ValueError
        For an unknown name or a setting the scheme does not accept.
    """
    return scheme_spec(name).build(threats, **settings)
