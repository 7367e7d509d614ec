"""Training schemes by name: the one place that lists them (CLI choices, study rows, table labels).

A scheme registers a builder with :func:`register_scheme`; :func:`build_scheme` reads the
registry. A builder takes the threat models and keyword settings and returns a
:class:`~lpgeom.training.schemes.Scheme`::

    @register_scheme("eat", label="E-AT (l_1 + l_inf)", cost="single")
    def _eat(threats: ThreatUnion, n_iter: int = 10, l1_steps: int | None = None) -> Scheme:
        ...

The keyword parameters of the builder are the settings the scheme accepts; anything else
passed to :func:`build_scheme` is refused by name. ``options`` declares the command-line
flags of those settings (:class:`SchemeOption`): ``lpgeom train`` and ``lpgeom finetune``
add them and pass their values, so a new scheme needs no change in the CLI.

Discovery: the registry imports every module of the ``lpgeom.training`` package (and of any
package named by a ``lpgeom.schemes`` entry point) the first time it is read
(:func:`discover_schemes`), so a scheme is one new file in ``lpgeom/training/``, found with
no hand-kept import. ``norms`` names the balls the scheme
needs in the union (``("L1", "Linf")`` for E-AT); a union without one of them is refused
in one sentence before the builder runs, as is a ``threats`` argument that is not a
:class:`~lpgeom.threats.ThreatUnion` (a list of balls, say).
"""
from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..threats import LpBall, ThreatUnion

if TYPE_CHECKING:  # annotations only: the schemes import this module to register themselves
    from .schemes import Scheme

__all__ = ["SchemeCost", "SchemeSpec", "SchemeOption", "register_scheme", "build_scheme", "scheme_spec",
           "scheme_names", "scheme_labels", "scheme_options", "is_ball_name", "discover_schemes", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "lpgeom.schemes"
"""Entry-point group whose values name modules (or packages) defining schemes outside lpgeom."""


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
class SchemeOption:
    """A command-line flag of a scheme's setting (``lpgeom train`` / ``finetune`` add it).

    Attributes
    ----------
    setting : str
        The builder's keyword parameter the flag sets.
    flag : str
        ``--name`` as typed (its value lands in ``args.<name with _>``).
    type : callable
        Parses the text (an argparse type: ``float``, a checked type from ``lpgeom.cli.options``, ...);
        ignored for ``boolean`` options.
    help : str
    boolean : bool
        An on/off flag (``--flag`` / ``--no-flag``) instead of one taking a value.
    """

    setting: str
    flag: str
    type: Callable[[str], object] = str
    help: str = ""
    boolean: bool = False

    def __post_init__(self):
        if not isinstance(self.flag, str) or not self.flag.startswith("--") or len(self.flag) < 3:
            raise ValueError(f"a scheme option's flag must be '--name', got {self.flag!r}")
        if not isinstance(self.setting, str) or not self.setting.isidentifier():
            raise ValueError(f"a scheme option's setting must be a keyword parameter name, got {self.setting!r}")

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments holding the value."""
        return self.flag[2:].replace("-", "_")


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
    norms : tuple of str
        Names of the balls the scheme needs in the union (empty: any union).
    options : tuple of SchemeOption
        Command-line flags of its settings.
    """

    name: str
    label: str
    cost: SchemeCost
    builder: Builder
    settings: tuple[str, ...]
    norms: tuple[str, ...] = ()
    options: tuple[SchemeOption, ...] = ()

    def build(self, threats: ThreatUnion, **settings) -> Scheme:
        """The scheme for ``threats``; settings whose value is None are left at the builder's default.

        Raises
        ------
        TypeError
            If ``threats`` is not a ThreatUnion.
        ValueError
            If the union lacks a ball the scheme needs, or a setting is not one the scheme accepts.
        """
        if not isinstance(threats, ThreatUnion):
            raise TypeError(f"scheme {self.name!r} needs threats as a ThreatUnion (e.g. ThreatUnion([LpBall(1, 12), "
                            f"LpBall('inf', 8/255)]) or cifar10_threats()), got {type(threats).__name__}")
        missing = [n for n in self.norms if n not in threats]
        if missing:
            balls = "ball" if len(self.norms) == 1 else "balls"
            raise ValueError(f"scheme {self.name!r} trains against the {' and '.join(self.norms)} {balls}; this union "
                             f"has no {' and no '.join(missing)} ball (it has {', '.join(threats.names)})")
        given = {k: v for k, v in settings.items() if v is not None}
        unknown = sorted(set(given) - set(self.settings))
        if unknown:
            accepted = ", ".join(self.settings) or "none"
            raise ValueError(f"scheme {self.name!r} takes no setting {', '.join(map(repr, unknown))}; "
                             f"it accepts: {accepted}")
        return self.builder(threats, **given)


_REGISTRY: dict[str, SchemeSpec] = {}


def is_ball_name(name: object) -> bool:
    """Whether ``name`` is a ball's name as ``ball.name`` spells it (``"L1"``, ``"L2"``, ``"Linf"``, ``"L3.5"``)."""
    try:
        return isinstance(name, str) and LpBall(name, 1.0).name == name
    except ValueError:
        return False


def register_scheme(name: str, *, label: str, cost: SchemeCost | str, norms: tuple[str, ...] = (),
                    options: tuple[SchemeOption, ...] = ()) -> Callable[[Builder], Builder]:
    """Decorator registering ``builder(threats, **settings) -> Scheme`` under ``name``.

    Parameters
    ----------
    name : str
        Lower-case key, unique.
    label : str
        Name in tables and figures.
    cost : SchemeCost or {"none", "single", "all-norms"}
        Attacks per training step.
    norms : tuple of str
        The balls the scheme needs in the union, by name (``("L1", "Linf")``).
    options : tuple of SchemeOption
        Command-line flags of the builder's settings.

    Raises
    ------
    ValueError
        If ``name`` is taken or not a lower-case string, ``label`` not a non-empty string,
        ``cost`` not a cost class, ``norms`` not ball names, or an option names a setting
        the builder does not take.
    """
    if not isinstance(name, str) or not name or name != name.lower():
        raise ValueError(f"scheme names are non-empty lower-case strings, got {name!r}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"the label of scheme {name!r} must be a non-empty string, got {label!r}")
    if isinstance(norms, str) or not all(is_ball_name(n) for n in norms):
        raise ValueError(f"norms of scheme {name!r} must be a tuple of ball names as ball.name spells them "
                         f"('L1', 'L2', 'Linf', ...), got {norms!r}")
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
        for option in options:
            if not isinstance(option, SchemeOption) or option.setting not in settings:
                raise ValueError(f"options of scheme {name!r} must be SchemeOptions of its settings "
                                 f"({', '.join(settings) or 'none'}), got {option!r}")
        _REGISTRY[name] = SchemeSpec(name, label, cost_class, builder, settings, tuple(norms), tuple(options))
        return builder

    return decorate


_DISCOVERED: set[str] = set()


def discover_schemes(package: str = "lpgeom.training") -> tuple[str, ...]:
    """Import every module of ``package`` (once per package) so that their ``@register_scheme`` run.

    Parameters
    ----------
    package : str
        A package's import name; ``"lpgeom.training"`` is discovered the first time the
        registry is read, with the modules named by ``lpgeom.schemes`` entry points.

    Returns
    -------
    tuple of str
        The scheme names this call registered (empty when the package was discovered before).

    Raises
    ------
    ModuleNotFoundError
        If ``package`` cannot be imported.
    """
    if package in _DISCOVERED:
        return ()
    before = set(_REGISTRY)
    module = importlib.import_module(package)
    _DISCOVERED.add(package)
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), prefix=package + "."):
        importlib.import_module(info.name)
    return tuple(n for n in _REGISTRY if n not in before)


def _discover_all() -> None:
    """The built-in schemes (every module of lpgeom.training) and those named by entry points, once."""
    if "lpgeom.training" in _DISCOVERED:
        return
    discover_schemes("lpgeom.training")
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        discover_schemes(point.value.split(":")[0])


def scheme_names() -> tuple[str, ...]:
    """Every registered scheme name, in registration order."""
    _discover_all()
    return tuple(_REGISTRY)


def scheme_labels() -> dict[str, str]:
    """``{name: label}`` of every registered scheme (table and figure labels)."""
    _discover_all()
    return {name: spec.label for name, spec in _REGISTRY.items()}


def scheme_options() -> tuple[SchemeOption, ...]:
    """The command-line options of every registered scheme, each flag once.

    Raises
    ------
    ValueError
        If two schemes declare one flag for different settings or with different parsing.
    """
    _discover_all()
    by_flag: dict[str, SchemeOption] = {}
    for spec in _REGISTRY.values():
        for option in spec.options:
            if by_flag.setdefault(option.flag, option) != option:
                raise ValueError(f"schemes declare {option.flag} twice, differently: {by_flag[option.flag]} and "
                                 f"{option} (scheme {spec.name!r})")
    return tuple(by_flag.values())


def scheme_spec(name: str) -> SchemeSpec:
    """The registered scheme ``name`` (case-insensitive).

    Raises
    ------
    ValueError
        If no scheme has that name; the message lists the registered ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"a scheme name must be a string, got {name!r} ({type(name).__name__}); choose one of "
                        f"{', '.join(_REGISTRY)}")
    key = name.strip().lower()
    if key not in _REGISTRY:
        _discover_all()
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
    TypeError
        A name that is not a string, ``threats`` that is not a ThreatUnion.
    ValueError
        For an unknown name, a union without a ball the scheme needs, or a setting the
        scheme does not accept or that is out of range.
    """
    return scheme_spec(name).build(threats, **settings)
